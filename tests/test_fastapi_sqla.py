"""fastapi-sqla's `Session`: an `Annotated` alias carrying its own `Depends`, so a route declares
it as the annotation alone (`session: Session`); `open_session()` opens one outside a request.
Its sync Session work on the event loop was all-clear: phase one converts, `check` reports, and
the async flavour (`session: AsyncSession`) is left as it is."""

from __future__ import annotations

import textwrap

MAIN = textwrap.dedent(
    """\
    from fastapi import FastAPI
    from fastapi_sqla import AsyncSession, Session, open_session, setup
    from sqlalchemy import text

    app = FastAPI()
    setup(app)


    @app.get("/declared")
    async def declared(session: Session):
        return session.execute(text("select 1")).all()


    @app.get("/opened")
    async def opened():
        with open_session() as session:
            return session.execute(text("select 1")).all()


    @app.get("/asynchronous")
    async def asynchronous(session: AsyncSession):
        return (await session.execute(text("select 1"))).all()
    """
)


def test_phase_one_converts_routes_on_fastapi_sqlas_session_and_check_reports_them(cli, tmp_path):
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.py").write_text(MAIN, encoding="utf-8")
    handlers = {h["function"]: h for h in cli.json("phase1", root)["handlers"]}
    assert handlers["declared"]["action"] == "convert", handlers["declared"]
    assert "takes a synchronous Session `session: Session`" in handlers["declared"]["reasons"][0]
    assert handlers["opened"]["action"] == "convert", handlers["opened"]
    assert handlers["asynchronous"]["action"] == "keep", handlers["asynchronous"]
    assert "already uses an AsyncSession" in handlers["asynchronous"]["reasons"][0]
    found = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert found == {"declared": "AM301", "opened": "AM301"}, found
