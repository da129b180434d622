"""fastapi-sqlalchemy's `db.session`: the Session its `DBSessionMiddleware` opens for each request
and keeps in a `ContextVar`. A `def` route runs in a copy of the request's context, so there it
reads the same request's Session: phase one converts, `check` names the blocking calls, phase two
blocks naming the middleware's Session. A look-alike from another library stays unverified."""

from __future__ import annotations

import textwrap

MAIN = textwrap.dedent(
    """\
    import asyncio

    from fastapi import FastAPI
    from fastapi_sqlalchemy import DBSessionMiddleware, db
    from other_sqlalchemy_glue import db as other_db
    from sqlalchemy import text

    app = FastAPI()
    app.add_middleware(DBSessionMiddleware, db_url="sqlite://")


    def count_rows() -> int:
        return db.session.execute(text("select 1")).scalar_one()


    @app.get("/count")
    async def count():
        return {"n": db.session.execute(text("select 1")).scalar_one()}


    @app.get("/helper")
    async def through_a_helper():
        return {"n": count_rows()}


    @app.get("/ping")
    async def ping():
        await asyncio.sleep(0)
        return {"n": db.session.execute(text("select 1")).scalar_one()}


    @app.get("/other")
    async def other():
        return {"n": other_db.session.execute(text("select 1")).scalar_one()}
    """
)


def build(tmp_path):  # type: ignore[no-untyped-def]
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.py").write_text(MAIN, encoding="utf-8")
    return root


def test_phase_one_converts_routes_on_the_middlewares_session_and_check_names_their_calls(cli, tmp_path):
    root = build(tmp_path)
    handlers = {h["function"]: h for h in cli.json("phase1", root)["handlers"]}
    assert handlers["count"]["action"] == "convert", handlers["count"]
    assert handlers["through_a_helper"]["action"] == "convert"
    assert handlers["ping"]["action"] == "keep" and "AM108" in handlers["ping"]["codes"]
    # near miss: another library's `db.session` is not known to be a Session
    assert handlers["other"]["action"] == "keep" and handlers["other"]["codes"] == ["AM125"]

    findings = {f["function"]: f for f in cli.json("check", root)["findings"]}
    assert {name: f["code"] for name, f in findings.items()} == {
        "count": "AM301", "through_a_helper": "AM301", "ping": "AM301", "other": "AM304",
        "DBSessionMiddleware": "AM318",  # the middleware's own close, on the loop
    }
    assert "fastapi_sqlalchemy.db.session.execute()" in findings["ping"]["message"]


def test_phase_two_blocks_them_naming_the_middlewares_session(cli, tmp_path):
    root = build(tmp_path)
    before = (root / "main.py").read_text()
    document = cli.json("phase2", root, "-s", "main.py")
    handlers = {h["function"]: h for h in document["handlers"]}
    assert document["files_changed"] == []
    for name in ("count", "through_a_helper", "ping"):
        assert handlers[name]["action"] == "blocked", handlers[name]
        assert any("`DBSessionMiddleware` (or its `with db():`) opens" in r for r in handlers[name]["reasons"]), handlers[name]
        # what phase two replaces is said once, by the fix
        assert all(r.count("phase two replaces only") <= 1 for r in handlers[name]["reasons"]), handlers[name]
    assert (root / "main.py").read_text() == before


TASKS = textwrap.dedent(
    """\
    from fastapi import BackgroundTasks, FastAPI
    from fastapi_sqlalchemy import DBSessionMiddleware, db

    from models import Entry

    app = FastAPI()
    app.add_middleware(DBSessionMiddleware, db_url="sqlite://")


    async def record(action: str) -> None:
        with db(commit_on_exit=True):
            db.session.add(Entry(action=action))


    async def stage(action: str) -> None:
        with db():
            db.session.add(Entry(action=action))


    @app.post("/record")
    def record_later(tasks: BackgroundTasks):
        tasks.add_task(record, "x")
        return {}


    @app.post("/stage")
    def stage_later(tasks: BackgroundTasks):
        tasks.add_task(stage, "x")
        return {}


    @app.post("/now")
    async def record_now():
        with db(commit_on_exit=True):
            db.session.add(Entry(action="now"))
        return {}
    """
)


def test_a_block_committing_on_exit_blocks_where_it_ends(cli, tmp_path):
    # `with db(commit_on_exit=True): db.session.add(x)` commits as the block ends: I/O the loop
    # waits for in an `async def` task or route; a block that only adds (near miss) does none
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.py").write_text(TASKS, encoding="utf-8")
    (root / "models.py").write_text("class Entry:\n    def __init__(self, action):\n        self.action = action\n")
    findings = {f["function"]: f for f in cli.json("check", root)["findings"]}
    assert {name: f["code"] for name, f in findings.items()} == {
        "record_later": "AM306", "record_now": "AM301", "DBSessionMiddleware": "AM318",
    }
    assert "main.py:11 (fastapi_sqlalchemy.db(commit_on_exit=...))" in findings["record_later"]["message"]
    handlers = {h["function"]: h for h in cli.json("phase1", root)["handlers"]}
    assert handlers["record_now"]["action"] == "convert"
    assert "phase one makes record a plain def" in " ".join(handlers["record_later"]["reasons"])
