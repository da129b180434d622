"""Phase two and an object the flow traces to no query: `selectinload(Book.author)` written in one
query of the route loads `author` on that query's Books only. Before, a Book the flow could not
follow to its query (one out of a dict, `rows[0][0]`, a helper's `rows[0]`) was credited by the
option naming its class in the other query, the route migrated without an eager load for it, and
its `b.author` raised MissingGreenlet. Now such a read blocks the route (AM220) and the route keeps
working on the synchronous Session, while a Book the flow does trace gets the option on its query."""

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

HEAD = "from sqlalchemy.orm import selectinload"

ROUTES = (
    """
    def first_of(rows):
        return rows[0]
    """,
    """
    @router.get("/dict")
    def by_dict(db: session_dependency):
        a = db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author))).first()
        books = {b.id: b for b in db.scalars(select(Book)).all()}
        b = books[2]
        return {"a": a.author.name, "b": b.author.name}
    """,
    """
    @router.get("/row")
    def by_row(db: session_dependency):
        a = db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author))).first()
        rows = db.execute(select(Book).where(Book.id == 2)).all()
        b = rows[0][0]
        return {"a": a.author.name, "b": b.author.name}
    """,
    """
    @router.get("/helper")
    def by_helper(db: session_dependency):
        a = db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author))).first()
        b = first_of(db.scalars(select(Book).where(Book.id == 2)).all())
        return {"a": a.author.name, "b": b.author.name}
    """,
    """
    @router.get("/traced")
    def traced(db: session_dependency):
        a = db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author))).first()
        b = db.scalars(select(Book).where(Book.id == 2)).first()
        return {"a": a.author.name, "b": b.author.name}
    """,
)


def test_runtime_an_option_credits_no_object_the_flow_cannot_trace_to_its_query(cli, app):  # noqa: F811
    root = app({"db/engine.py": RUNTIME_ENGINE, "main.py": BUILT_MAIN, SUBSYSTEM: route_module(*ROUTES, head=HEAD)})
    document = apply(cli, root)
    for name in ("by_dict", "by_row", "by_helper"):
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM220" in found["codes"], found
        assert any("`b.author`" in r and "selectinload(Book.author)" in r for r in found["reasons"]), found
        assert function(root, SUBSYSTEM, name).startswith(f"def {name}(db: session_dependency):")
    found = handler(document, "traced")
    assert found["action"] == "migrate", found
    assert any("adds the eager load of Book.author" in r for r in found["reasons"]), found
    assert function(root, SUBSYSTEM, "traced").startswith("async def traced(")
    assert "select(Book).where(Book.id == 2).options(selectinload(Book.author))" in function(root, SUBSYSTEM, "traced")
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
            answers = {path: client.get(f"/{path}") for path in ("dict", "row", "helper", "traced")}
        asyncio.run(async_engine.dispose())
        print(json.dumps({path: [r.status_code, r.json()] for path, r in answers.items()}))
        """,
    )
    assert result == {path: [200, {"a": "Ann", "b": "Bo"}] for path in ("dict", "row", "helper", "traced")}
