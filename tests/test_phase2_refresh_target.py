"""Phase two and what a refresh loads: `db.refresh(first, attribute_names=["author"])` loads `author`
on `first` only. Before, it credited `author` on every Book of the route, so `second.author` (another
Book, from another `get`, from the same helper's, or one the route builds) got no eager load, the route
migrated and raised MissingGreenlet. Now the refreshed object, a name bound to it and what a helper refreshes and hands
back still migrate as they are; the other Book's query gets the eager load, and a Book the route
builds, which no option reaches, blocks."""

from __future__ import annotations

from test_phase2_rules import (  # noqa: F401  (`app` is a fixture)
    BUILT_MAIN,
    RUNTIME_ENGINE,
    SUBSYSTEM,
    app,
    apply,
    function,
    handler,
    route_module,
    run_python,
)

ROUTES = (
    """
    def fetch(db: Session, book_id: int) -> Book:
        book = db.get(Book, book_id)
        db.refresh(book, attribute_names=["author"])
        return book
    """,
    """
    def plain(db: Session, book_id: int) -> Book:
        return db.get(Book, book_id)
    """,
    """
    @router.get("/same")
    def same(db: session_dependency):
        book = db.get(Book, 1)
        db.refresh(book, attribute_names=["author"])
        alias = book
        return {"author": alias.author.name}
    """,
    """
    @router.get("/helper")
    def helper(db: session_dependency):
        book = fetch(db, 2)
        return {"author": book.author.name}
    """,
    """
    @router.get("/other")
    def other(db: session_dependency):
        first = db.get(Book, 1)
        second = db.get(Book, 2)
        db.refresh(first, attribute_names=["author"])
        return {"first": first.author.name, "second": second.author.name}
    """,
    """
    @router.post("/built")
    def built(db: session_dependency):
        first = db.get(Book, 1)
        second = Book(id=3, title="Gamma", author_id=2)
        db.add(second)
        db.commit()
        db.refresh(first, attribute_names=["author"])
        return {"first": first.author.name, "second": second.author.name}
    """,
    """
    @router.get("/one-helper")
    def one_helper(db: session_dependency):
        first = plain(db, 1)
        second = plain(db, 2)
        db.refresh(first, attribute_names=["author"])
        return {"first": first.author.name, "second": second.author.name}
    """,
)


def test_runtime_a_refresh_loads_on_the_object_it_is_given_only(cli, app):  # noqa: F811
    root = app({"db/engine.py": RUNTIME_ENGINE, "main.py": BUILT_MAIN, SUBSYSTEM: route_module(*ROUTES)})
    document = apply(cli, root)
    for name in ("same", "helper", "other", "one_helper"):
        found = handler(document, name)
        assert found["action"] == "migrate", found
    # a Book the route builds: no query to add the option to, and the refresh of `first` loads nothing on it
    found = handler(document, "built")
    assert found["action"] == "blocked" and any("second.author" in r for r in found["reasons"]), found
    # the refreshed object needs no option; the other Book's query gets one (its `get` becomes a select)
    assert "AM246" not in handler(document, "same")["codes"] and "AM246" not in handler(document, "helper")["codes"]
    assert any("api/items.py:38: adds the eager load of Book.author" in r for r in handler(document, "other")["reasons"])
    assert any("adds the eager load of Book.author to the query in api.items.plain" in r
               for r in handler(document, "one_helper")["reasons"])
    assert function(root, SUBSYSTEM, "other") == (
        "async def other(db: async_session_dependency):\n"
        "    first = await db.get(Book, 1)\n"
        "    second = (await db.scalars(select(Book).where(Book.id == 2).options(selectinload(Book.author))))"
        ".one_or_none()\n"
        '    await db.refresh(first, attribute_names=["author"])\n'
        '    return {"first": first.author.name, "second": second.author.name}'
    )
    result = run_python(
        root,
        """
        from fastapi.testclient import TestClient

        from main import app

        # Book 2 by another author: one already in the identity map would load without a query
        with database_sessionmaker() as s:
            s.add(Author(id=2, name="Bo"))
            s.get(Book, 2).author_id = 2
            s.commit()
        with TestClient(app) as client:
            answers = {path: client.get(f"/{path}") for path in ("same", "helper", "other", "one-helper")}
        asyncio.run(async_engine.dispose())
        print(json.dumps({path: [r.status_code, r.json()] for path, r in answers.items()}))
        """,
    )
    assert result == {
        "same": [200, {"author": "Ann"}],
        "helper": [200, {"author": "Bo"}],
        "other": [200, {"first": "Ann", "second": "Bo"}],
        "one-helper": [200, {"first": "Ann", "second": "Bo"}],
    }
