"""`check` and phase one on statements run on a synchronous Connection a handler did not open
itself: one a dependency yields (`with engine.begin() as conn: yield conn`), a repository built
on it, a helper handed it. Each statement is blocking IO on the event loop in an `async def`,
as Session work is; never "no synchronous Session work"."""

from __future__ import annotations

import textwrap

ROUTES = textwrap.dedent(
    """
    from fastapi import APIRouter, Depends, Request
    from sqlalchemy import Connection, insert, select, text
    from starlette.concurrency import run_in_threadpool

    from db.engine import engine

    router = APIRouter()


    def get_conn():
        with engine.begin() as conn:
            yield conn


    class Ledger:
        def __init__(self, conn):
            self.conn = conn

        def total(self) -> int:
            return self.conn.execute(text("select 1")).scalar_one()


    def get_ledger(conn=Depends(get_conn)) -> Ledger:
        return Ledger(conn)


    def name_of(conn, user_id):
        return conn.execute(text("select :id"), {"id": user_id}).scalar_one()


    @router.get("/direct")
    async def direct(conn=Depends(get_conn)):
        return conn.execute(text("select 1")).mappings().all()


    @router.post("/declared")
    async def declared(conn: Connection = Depends(get_conn)):
        conn.exec_driver_sql("delete from audit")
        return {"ok": True}


    @router.get("/repository")
    async def repository(ledger: Ledger = Depends(get_ledger)):
        return {"total": ledger.total()}


    @router.get("/helper")
    async def helper(conn: Connection = Depends(get_conn)):
        return {"name": name_of(conn, 1)}


    @router.post("/opened")
    async def opened(request: Request):
        payload = await request.json()
        with engine.begin() as conn:
            conn.execute(text("insert into audit values (:a)"), {"a": payload["a"]})
        return {"ok": True}


    @router.get("/offloaded")
    async def offloaded(conn: Connection = Depends(get_conn)):
        return {"name": await run_in_threadpool(name_of, conn, 1)}


    @router.get("/unused")
    async def unused(conn: Connection = Depends(get_conn)):
        return {"ok": conn is not None}
    """
)


def build(project, app_files):  # type: ignore[no-untyped-def]
    return project({**app_files, "api/__init__.py": "", "api/items.py": ROUTES})


def test_check_flags_statements_on_a_connection_from_a_dependency(cli, project, app_files):
    root = build(project, app_files)
    document = cli.json("check", root)
    found = {f["function"]: f for f in document["findings"]}
    assert set(found) == {"direct", "declared", "repository", "helper", "opened"}, found
    assert all(f["code"] == "AM306" for f in found.values())
    assert "line 33 (`conn.execute()`)" in found["direct"]["message"]
    assert "`conn.exec_driver_sql()`" in found["declared"]["message"]
    assert "api.items.Ledger.total(...)" in found["repository"]["message"]
    assert "api.items.name_of(...)" in found["helper"]["message"]
    # Opened in the handler: reported once, where it is opened; it awaits, so phase one is no fix.
    opened = found["opened"]["message"]
    assert "at line 55 (`engine.begin()`);" in opened, opened
    assert "it awaits at line 54 (`await request.json()`), so it stays async def" in opened, opened


def test_phase_one_converts_a_handler_working_on_a_dependencys_connection(cli, project, app_files):
    root = build(project, app_files)
    document = cli.json("phase1", root)
    actions = {h["function"]: (h["action"], h["codes"]) for h in document["handlers"] if h["kind"] == "route"}
    for name in ("direct", "declared", "repository", "helper"):
        assert actions[name] == ("convert", ["AM127"]), (name, actions[name])
    assert actions["opened"][0] == "keep" and "AM127" in actions["opened"][1]
    assert actions["offloaded"][0] == "keep" and "AM127" not in actions["offloaded"][1]
    assert actions["unused"][0] == "keep" and "AM127" not in actions["unused"][1]
    assert cli("phase1", root, "--apply").exit_code == 0
    after = cli.json("check", root)
    assert [f["function"] for f in after["findings"]] == ["opened"], after["findings"]


HANDED = textwrap.dedent(
    """
    import asyncio

    import pandas as pd
    from fastapi import APIRouter
    from sqlalchemy import MetaData, Table, inspect, text
    from starlette.concurrency import run_in_threadpool

    from db.engine import database_sessionmaker, engine

    router = APIRouter()
    legacy = MetaData()


    @router.get("/tables")
    async def tables():
        return inspect(engine).get_table_names()


    @router.post("/reflect")
    async def reflect():
        legacy.reflect(bind=engine)
        return sorted(legacy.tables)


    @router.get("/columns/{name}")
    async def columns(name: str):
        return [c.name for c in Table(name, MetaData(), autoload_with=engine).columns]


    @router.get("/frame")
    async def frame():
        return pd.read_sql(text("select 1 as x"), engine).to_dict()


    @router.get("/offloaded")
    async def offloaded():
        rows = await run_in_threadpool(pd.read_sql, text("select 1 as x"), engine)
        names = await asyncio.to_thread(inspect, engine)
        print(engine)
        return {"rows": len(rows), "inspector": str(names), "maker": str(database_sessionmaker.kw)}
    """
)


def test_check_flags_calls_that_connect_with_the_engine_they_are_handed(cli, project, app_files):
    # Reflection, an inspector, pandas: each takes a connection from the synchronous engine it is
    # given, on the event loop. Handed to a thread, or only printed, it blocks nothing.
    root = project({**app_files, "api/__init__.py": "", "api/meta.py": HANDED})
    found = {f["function"]: f["message"] for f in cli.json("check", root)["findings"]}
    assert set(found) == {"tables", "reflect", "columns", "frame"}, found
    assert "(`inspect(engine)`)" in found["tables"]
    assert "(`reflect(bind=engine)`)" in found["reflect"]
    assert "(`Table(..., autoload_with=engine)`)" in found["columns"]
    assert "(`pandas.read_sql(engine)`)" in found["frame"]


STATE_MAIN = """
from fastapi import FastAPI, Request

from api.state import router
from db.engine import engine

app = FastAPI()
app.include_router(router)


@app.middleware("http")
async def connection_per_request(request: Request, call_next):
    request.state.conn = engine.connect()
    try:
        return await call_next(request)
    finally:
        request.state.conn.close()
"""
STATE_ROUTES = """
from fastapi import APIRouter, Depends, Request
from sqlalchemy import text

router = APIRouter()


def get_conn(request: Request):
    return request.state.conn


@router.get("/state")
async def from_state(request: Request):
    return request.state.conn.execute(text("select 1")).scalar()


@router.get("/dependency")
async def from_dependency(conn=Depends(get_conn)):
    return conn.execute(text("select 1")).scalar()


@router.get("/other")
async def other_state(request: Request):
    return {"user": request.state.user}
"""


def test_check_flags_statements_on_a_connection_a_middleware_keeps_on_the_request(cli, project, app_files):
    root = project({
        **app_files, "main.py": STATE_MAIN, "api/__init__.py": "", "api/state.py": STATE_ROUTES,
    })
    found = {f["function"]: f["message"] for f in cli.json("check", root)["findings"]}
    assert set(found) == {"connection_per_request", "from_state", "from_dependency"}, found
    assert "(`request.state.conn.execute()`)" in found["from_state"]
    assert "(`conn.execute()`)" in found["from_dependency"]


UNTYPED_RECEIVERS = textwrap.dedent(
    """
    import pandas as pd
    from fastapi import APIRouter
    from sqlalchemy.orm import sessionmaker

    from db.engine import engine

    router = APIRouter()


    @router.post("/export")
    async def export():
        pd.DataFrame({"x": [1]}).to_sql("t", con=engine, if_exists="append")
        return {}


    @router.post("/export-local")
    async def export_local():
        frame = pd.DataFrame({"x": [1]})
        frame.to_sql("t", engine)
        return {}


    @router.post("/configure")
    async def configure():
        maker = sessionmaker()
        maker.configure(bind=engine)
        return {}
    """
)


def test_check_flags_a_method_of_an_untyped_object_handed_the_engine(cli, project, app_files):
    # `df.to_sql("t", con=engine)` takes a connection from the synchronous engine on the event
    # loop, as `pd.read_sql(q, engine)` does: it was all-clear. Keeping the engine for later
    # (`configure(bind=engine)`) connects nothing.
    root = project({**app_files, "api/__init__.py": "", "api/export.py": UNTYPED_RECEIVERS})
    found = {f["function"]: f["message"] for f in cli.json("check", root)["findings"]}
    assert set(found) == {"export", "export_local"}, found
    assert "(`pandas.DataFrame().to_sql(con=engine)`)" in found["export"]
    assert "(`frame.to_sql(engine)`)" in found["export_local"]
