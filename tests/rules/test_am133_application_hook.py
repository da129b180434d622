"""AM133 application-hook: phase one leaves middleware and lifecycle handlers async."""

from __future__ import annotations

MAIN = """
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.items import router
from db.engine import database_sessionmaker


@asynccontextmanager
async def lifespan(app):
    with database_sessionmaker() as session:
        session.execute("select 1")
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(router)


@app.middleware("http")
async def audit(request, call_next):
    with database_sessionmaker() as session:
        session.execute("select 1")
    return await call_next(request)


@app.middleware("http")
async def timing(request, call_next):
    return await call_next(request)
"""

ROUTES = """
@router.get("")
def read_items():
    return []
"""


def test_middleware_doing_session_work_stays_async_with_am132(app, reported):
    root = app(ROUTES, {"main.py": MAIN})
    entry = reported(root, "audit", "phase1")
    assert (entry["kind"], entry["action"], entry["codes"][0]) == ("middleware", "keep", "AM133")
    assert "stays async def (it awaits `call_next`" in entry["reasons"][0]
    assert "every request" in entry["reasons"][0]
    assert "run_in_threadpool" in entry["reasons"][0]


def test_a_lifespan_handler_is_reported_as_running_once(app, reported):
    root = app(ROUTES, {"main.py": MAIN})
    entry = reported(root, "lifespan", "scan")
    assert (entry["kind"], entry["action"], entry["codes"][0]) == ("lifecycle", "keep", "AM133")
    assert "runs once on the event loop" in entry["reasons"][0]
    assert "blocks no request" in entry["reasons"][0]


def test_near_miss_middleware_without_session_work_says_so(app, reported):
    root = app(ROUTES, {"main.py": MAIN})
    entry = reported(root, "timing", "phase1")
    assert entry["codes"] == ["AM133"]
    assert entry["reasons"][0].endswith("does no synchronous Session work")


DDL_MAIN = """
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.items import router
from db.engine import engine
from models import Base


@asynccontextmanager
async def lifespan(app):
    {body}
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(router)
"""


def test_a_lifespan_creating_tables_is_said_to_block_startup_not_to_do_nothing(app, reported):
    root = app(ROUTES, {"main.py": DDL_MAIN.replace("{body}", "Base.metadata.create_all(engine)")})
    entry = reported(root, "lifespan", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM133"]), entry
    assert "engine work at line" in entry["reasons"][0] and "metadata.create_all()" in entry["reasons"][0]
    assert "does no synchronous Session work" not in entry["reasons"][0]


def test_near_miss_a_lifespan_handing_create_all_to_run_sync_does_no_blocking_work(app, reported):
    body = "async with async_engine.begin() as conn:\n        await conn.run_sync(Base.metadata.create_all)"
    main = DDL_MAIN.replace("{body}", body).replace(
        "from models import Base\n",
        "from models import Base\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\n"
        "async_engine = create_async_engine(\"sqlite+aiosqlite://\")\n",
    )
    root = app(ROUTES, {"main.py": main})
    entry = reported(root, "lifespan", "phase1")
    assert "does no synchronous Session work" in entry["reasons"][0], entry


# A middleware handing its handlers a Session it builds: building one does no I/O, so phase one
# says it does no Session work of its own; one closing it at the end of a `with` block, or
# querying, is told where it blocks.
BUILDS = """
from fastapi import FastAPI, Request
from starlette.middleware.base import BaseHTTPMiddleware

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(router)


@app.middleware("http")
async def builds(request: Request, call_next):
    request.state.db = database_sessionmaker()
    return await call_next(request)


class BuildsMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        db = database_sessionmaker()
        request.state.db = db
        return await call_next(request)


app.add_middleware(BuildsMiddleware)


@app.middleware("http")
async def with_block(request: Request, call_next):
    with database_sessionmaker() as db:
        request.state.db = db
        return await call_next(request)


@app.middleware("http")
async def queries(request: Request, call_next):
    db = database_sessionmaker()
    db.execute("select 1")
    request.state.db = db
    return await call_next(request)
"""


def test_a_middleware_only_building_a_session_does_no_session_work(app, reported):
    root = app(ROUTES, {"main.py": BUILDS})
    for function, line in (("builds", 13), ("BuildsMiddleware.dispatch", 19)):
        for command in ("scan", "phase1"):
            entry = reported(root, function, command)
            assert entry["codes"] == ["AM133"], entry
            assert f"it only builds a Session (line {line}) and does no synchronous Session work" in entry["reasons"][0]
            assert "blocks" not in entry["reasons"][0], entry


def test_near_miss_closing_it_with_the_block_or_querying_is_told_where_it_blocks(app, reported):
    root = app(ROUTES, {"main.py": BUILDS})
    closed = reported(root, "with_block", "phase1")
    assert closed["codes"] == ["AM133", "AM116"], closed
    assert "at the end of the `with` block of line 29, which closes the Session" in closed["reasons"][1]
    queried = reported(root, "queries", "phase1")
    assert queried["codes"] == ["AM133", "AM116"], queried
    assert "line 37 (db.execute())" in queried["reasons"][1] and "only builds" not in queried["reasons"][0]
