"""Phase two and what a loader option naming a class loads: `selectinload(Book.author)` written in one
query loads `author` on that query's Books only. Before, it credited `author` on every Book of the route,
so `b.author` (another Book, from a `get`, from a helper's query, or one the route builds) got no eager
load, the route migrated and raised MissingGreenlet. Now every object of the optioned query (a name bound
to it, each of a list looped over) still migrates as it is; the other Book's query gets the eager load,
and a Book the route builds, which no option reaches, blocks."""

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

HEAD = "from sqlalchemy.orm import Load, joinedload, selectinload"

ROUTES = (
    """
    def plain(db: Session, book_id: int) -> Book:
        return db.scalars(select(Book).where(Book.id == book_id)).one()
    """,
    """
    @router.get("/same")
    def same(db: session_dependency):
        a = db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author))).first()
        alias = a
        return {"a": alias.author.name}
    """,
    """
    @router.get("/all")
    def every(db: session_dependency):
        books = db.scalars(select(Book).options(Load(Book).joinedload(Book.author)).order_by(Book.id)).unique().all()
        names = [book.author.name for book in books]
        for book in books:
            names.append(book.author.name)
        return {"names": names}
    """,
    """
    @router.get("/other")
    def other(db: session_dependency):
        a = db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author))).first()
        b = db.get(Book, 2)
        return {"a": a.author.name, "b": b.author.name}
    """,
    """
    @router.get("/helper")
    def helper(db: session_dependency):
        a = db.scalars(select(Book).where(Book.id == 1).options(joinedload(Book.author))).first()
        b = plain(db, 2)
        return {"a": a.author.name, "b": b.author.name}
    """,
    """
    @router.post("/built")
    def built(db: session_dependency):
        a = db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author))).first()
        b = Book(id=3, title="Gamma", author_id=2)
        db.add(b)
        db.commit()
        return {"a": a.author.name, "b": b.author.name}
    """,
)


def test_runtime_a_class_named_option_loads_on_its_own_query_only(cli, app):  # noqa: F811
    root = app({"db/engine.py": RUNTIME_ENGINE, "main.py": BUILT_MAIN, SUBSYSTEM: route_module(*ROUTES, head=HEAD)})
    document = apply(cli, root)
    for name in ("same", "every", "other", "helper"):
        found = handler(document, name)
        assert found["action"] == "migrate", found
    # a Book the route builds: no query to add the option to, and `a`'s option loads nothing on it
    found = handler(document, "built")
    assert found["action"] == "blocked" and any("b.author" in r for r in found["reasons"]), found
    # the optioned query's objects need no option; the other Book's query gets one
    assert "AM246" not in handler(document, "same")["codes"] and "AM246" not in handler(document, "every")["codes"]
    assert any("adds the eager load of Book.author" in r for r in handler(document, "other")["reasons"])
    assert any("adds the eager load of Book.author to the query in api.items.plain" in r
               for r in handler(document, "helper")["reasons"])
    assert function(root, SUBSYSTEM, "other") == (
        "async def other(db: async_session_dependency):\n"
        "    a = (await db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author)))).first()\n"
        "    b = (await db.scalars(select(Book).where(Book.id == 2).options(selectinload(Book.author))))"
        ".one_or_none()\n"
        '    return {"a": a.author.name, "b": b.author.name}'
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
            answers = {path: client.get(f"/{path}") for path in ("same", "all", "other", "helper")}
        asyncio.run(async_engine.dispose())
        print(json.dumps({path: [r.status_code, r.json()] for path, r in answers.items()}))
        """,
    )
    assert result == {
        "same": [200, {"a": "Ann"}],
        "all": [200, {"names": ["Ann", "Bo", "Ann", "Bo"]}],
        "other": [200, {"a": "Ann", "b": "Bo"}],
        "helper": [200, {"a": "Ann", "b": "Bo"}],
    }
