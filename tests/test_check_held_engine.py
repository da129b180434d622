"""`check` and phase one on engine work through an engine a class keeps from a plain parameter.

`class Counter: def __init__(self, engine): self.engine = engine` ... `with self.engine.connect() as
c: c.execute(...)`, called from an `async def` route: the parameter is neither annotated nor a
`Depends`, so nothing typed `self.engine` and the blocking connection read as no work at all
("no findings"). Where the analysis sees the engine the class is handed (`Counter(engine)` with a
module-level `create_engine(...)`), it is engine work (AM306); where it does not (`Counter(
request.app.state.engine)`), the statement is unverified (AM304), never passed."""

from __future__ import annotations

import textwrap

HEAD = """\
from fastapi import APIRouter, Depends, Request
from sqlalchemy import text

from db.engine import engine
from db.async_engine import async_engine

router = APIRouter()
"""
ASYNC_ENGINE = """\
from sqlalchemy.ext.asyncio import create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite://")
"""
ROUTES = HEAD + textwrap.dedent(
    """

    class Counter:
        def __init__(self, engine):
            self.engine = engine

        def count(self):
            with self.engine.connect() as c:
                return c.execute(text("select 1")).scalar()


    class Begun:
        def __init__(self, bind, label="rows"):
            self.bind = bind
            self.label = label

        def count(self):
            conn = self.bind.begin()
            return conn.execute(text("select 1")).scalar()


    class Remote:
        def __init__(self, engine):
            self.engine = engine

        def count(self):
            with self.engine.connect() as c:
                return c.execute(text("select 1")).scalar()


    class Service:
        def __init__(self, engine):
            self.engine = engine

        def total(self):
            with self.engine.begin() as c:
                return c.scalar(text("select 1"))


    def get_service(request: Request):
        return Service(request.app.state.engine)


    class AsyncCounter:
        def __init__(self, engine):
            self.engine = engine

        async def count(self):
            async with self.engine.connect() as c:
                return (await c.execute(text("select 1"))).scalar()


    shared = Counter(engine)


    @router.get("/built")
    async def built():
        return {"n": Counter(engine).count()}


    @router.get("/local")
    async def local():
        counter = Begun(engine)
        return {"n": counter.count()}


    @router.get("/module-level")
    async def module_level():
        return {"n": shared.count()}


    @router.get("/unseen")
    async def unseen(request: Request):
        return {"n": Remote(request.app.state.engine).count()}


    @router.get("/provided")
    async def provided(service=Depends(get_service)):
        return {"n": service.total()}


    @router.get("/async-engine")
    async def on_the_async_engine():
        return {"n": await AsyncCounter(async_engine).count()}
    """
)


def build(project, app_files):  # type: ignore[no-untyped-def]
    return project({**app_files, "api/__init__.py": "", "api/items.py": ROUTES, "db/async_engine.py": ASYNC_ENGINE})


def test_engine_work_on_an_engine_a_class_keeps_from_a_plain_parameter_is_reported(cli, project, app_files):
    found: dict[str, list[dict]] = {}
    for finding in cli.json("check", build(project, app_files))["findings"]:
        found.setdefault(finding["function"], []).append(finding)
    for route, method in (("built", "Counter.count"), ("local", "Begun.count"), ("module_level", "Counter.count")):
        assert [f["code"] for f in found.get(route, [])] == ["AM306"], (route, found.get(route))
        assert f"`api.items.{method}(...)`)" in found[route][0]["message"], found[route]
    for route in ("unseen", "provided"):
        assert [f["code"] for f in found.get(route, [])] == ["AM304"], (route, found.get(route))
        assert "self.engine" in found[route][0]["message"], found[route]
    assert "on_the_async_engine" not in found, found["on_the_async_engine"]


def test_phase_one_keeps_the_routes_off_the_loop(cli, project, app_files):
    document = cli.json("phase1", build(project, app_files))
    codes = {h["function"]: h["codes"] for h in document["handlers"] if h["kind"] == "route"}
    for route in ("built", "local", "module_level"):
        assert "AM127" in codes[route], (route, codes[route])
    for route in ("unseen", "provided"):
        assert "AM125" in codes[route], (route, codes[route])
