"""AM122 nested-coroutine-blocks: Session work in a nested `async def` keeps the route: it runs on the loop anyway."""

from __future__ import annotations

STREAM = """
from fastapi.responses import StreamingResponse


@router.get("/export")
async def export(session: session_dependency):
    {kind} rows():
        for row in session.execute("select 1"):
            yield str(row)

    return StreamingResponse(rows())
"""


def test_an_async_generator_reading_the_session_is_am122(app, reported, findings):
    root = app(STREAM.format(kind="async def"))
    entry = reported(root, "export", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM122")
    assert findings(root, "export")[0]["code"] == "AM301"


def test_near_miss_a_sync_generator_converts(app, reported):
    root = app(STREAM.format(kind="def"))
    assert reported(root, "export", "phase1")["codes"] == ["AM101"]


# The Session a middleware opened for the request, read into a local the generator closes over.
STATE_STREAM = """
from fastapi import Request
from fastapi.responses import StreamingResponse


@router.get("/export")
async def export(request: Request):
    db = request.state.db

    {kind} rows():
        for row in db.scalars("select 1"):
            yield str(row)

    return StreamingResponse(rows())
"""

MIDDLEWARE = """
from fastapi import FastAPI, Request

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(router)


@app.middleware("http")
async def open_session(request: Request, call_next):
    request.state.db = database_sessionmaker()
    try:
        return await call_next(request)
    finally:
        request.state.db.close()
"""


def test_an_async_generator_reading_the_request_state_session_is_am122(app, reported, findings):
    root = app(STATE_STREAM.format(kind="async def"), {"main.py": MIDDLEWARE})
    entry = reported(root, "export", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM122"), entry
    assert "nested coroutine `rows`" in entry["reasons"][0], entry
    assert findings(root, "export")[0]["code"] == "AM301"


def test_near_miss_a_sync_generator_on_the_request_state_session_converts(app, reported):
    root = app(STATE_STREAM.format(kind="def"), {"main.py": MIDDLEWARE})
    entry = reported(root, "export", "phase1")
    assert entry["action"] == "convert", entry
    assert "AM122" not in entry["codes"], entry


# Engine work, no Session: a nested async generator on the module-level synchronous engine.
ENGINE_STREAM = """
from fastapi.responses import StreamingResponse
from sqlalchemy import text

from db.engine import engine


@router.get("/export")
async def export():
    {kind} rows():
        with engine.connect() as conn:
            for row in conn.execute(text("select 1")):
                yield str(row)

    return StreamingResponse(rows())
"""


def test_an_async_generator_on_the_sync_engine_is_am122_not_a_conversion(app, reported, findings):
    root = app(ENGINE_STREAM.format(kind="async def"))
    entry = reported(root, "export", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM122"]), entry
    assert "inside the nested coroutine `rows`" in entry["reasons"][0], entry
    found = findings(root, "export")
    assert [f["code"] for f in found] == ["AM306"], found
    assert "nested coroutine `rows`" in found[0]["message"] and "phase1` converts" not in found[0]["message"], found


def test_near_miss_a_sync_generator_on_the_sync_engine_converts(app, reported):
    root = app(ENGINE_STREAM.format(kind="def"))
    entry = reported(root, "export", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM127"]), entry


# The async generator is the factory's, beside the route, and reaches the response through a
# local: phase one made the route a def, and check then passed it while `rows` blocked the loop.
FACTORY_STREAM = """
from fastapi.responses import StreamingResponse


def make_routes(table: str) -> APIRouter:
    r = APIRouter()

    @r.get("/export")
    async def export(session: session_dependency):
        gen = rows(session)
        return StreamingResponse(gen)

    {kind} rows(session):
        for row in session.execute("select 1"):
            yield str(row)

    return r
"""


def test_a_factory_async_generator_beside_the_route_keeps_it(app, reported, findings):
    root = app(FACTORY_STREAM.format(kind="async def"))
    entry = reported(root, "make_routes.<locals>.export", "phase1")
    assert entry["action"] == "keep", entry
    assert "make_routes.<locals>.rows" in entry["reasons"][0]
    assert findings(root, "make_routes.<locals>.export")[0]["code"] == "AM301"


def test_near_miss_a_factory_sync_generator_beside_the_route_converts(app, reported):
    root = app(FACTORY_STREAM.format(kind="def"))
    assert reported(root, "make_routes.<locals>.export", "phase1")["action"] == "convert"
