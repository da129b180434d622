"""Phase two and relationship reads in a route's nested functions and lambdas: `sorted(books,
key=lambda b: b.author.name)`, `books.sort(key=...)`, `map(lambda b: ..., books)`, a nested `def
fmt(o): return o.author.name` called as `fmt(book)`. The parameter's object was untraced, so the
route blocked though the objects come from a query phase two rewrites. Each such parameter now holds
what the body hands it, the query gets the eager load, and the migrated route serves the authors;
a nested function also named elsewhere (handed on, kept in a name) may get anything and still blocks."""

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
    @router.get("/sorted")
    def by_key(db: session_dependency):
        books = db.scalars(select(Book)).all()
        ordered = sorted(books, key=lambda b: b.author.name)
        return [b.title for b in ordered]
    """,
    """
    @router.get("/sort")
    def by_sort(db: session_dependency):
        books = list(db.scalars(select(Book)).all())
        books.sort(key=lambda b: (b.author.name, b.id), reverse=True)
        return [b.title for b in books]
    """,
    """
    @router.get("/map")
    def by_map(db: session_dependency):
        books = db.scalars(select(Book).order_by(Book.id)).all()
        return list(map(lambda b: b.author.name, books))
    """,
    """
    @router.get("/nested")
    def by_nested(db: session_dependency):
        def fmt(o):
            return f"{o.title} by {o.author.name}"

        book = db.scalars(select(Book).where(Book.id == 1)).first()
        return {"line": fmt(book)}
    """,
    """
    @router.get("/handed")
    def handed_on(db: session_dependency):
        def fmt(o):
            return o.author.name

        book = db.scalars(select(Book).where(Book.id == 1)).first()
        show = fmt
        return {"name": show(book)}
    """,
)


def test_runtime_relationship_reads_in_nested_functions_and_lambdas_get_the_eager_load(cli, app):  # noqa: F811
    root = app({"db/engine.py": RUNTIME_ENGINE, "main.py": BUILT_MAIN, SUBSYSTEM: route_module(*ROUTES)})
    document = apply(cli, root)
    for name in ("by_key", "by_sort", "by_map", "by_nested"):
        found = handler(document, name)
        assert found["action"] == "migrate", found
        assert any("adds the eager load of Book.author" in r for r in found["reasons"]), found
        assert "options(selectinload(Book.author))" in function(root, SUBSYSTEM, name), function(root, SUBSYSTEM, name)
    # `fmt` kept in another name: what it is called with there is not followed
    found = handler(document, "handed_on")
    assert found["action"] == "blocked" and "AM220" in found["codes"], found
    assert any("`o.author`" in r for r in found["reasons"]), found
    result = run_python(
        root,
        """
        from fastapi.testclient import TestClient

        from main import app

        with database_sessionmaker() as s:
            s.add(Author(id=2, name="Bo"))
            s.get(Book, 2).author_id = 2
            s.commit()
        with TestClient(app) as client:
            answers = {path: client.get(f"/{path}") for path in ("sorted", "sort", "map", "nested", "handed")}
        asyncio.run(async_engine.dispose())
        print(json.dumps({path: [r.status_code, r.json()] for path, r in answers.items()}))
        """,
    )
    assert result == {
        "sorted": [200, ["Alpha", "Beta"]],
        "sort": [200, ["Beta", "Alpha"]],
        "map": [200, ["Ann", "Bo"]],
        "nested": [200, {"line": "Alpha by Ann"}],
        "handed": [200, {"name": "Ann"}],
    }
