"""Middleware handed to `FastAPI(middleware=...)` / `Starlette(middleware=...)` by a name: each
class of a module-level list or tuple of `Middleware(...)` analysed as middleware (AM308), any
value the analysis cannot read unverified (AM304), never silently clean."""

from __future__ import annotations

import pytest

ROUTES = """
@router.get("")
def read_items():
    return []
"""

HEAD = """
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.gzip import GZipMiddleware

from api.items import router
from db.engine import database_sessionmaker


class KeyMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        with database_sessionmaker() as session:
            session.execute("select 1")
        return await call_next(request)


class TimingMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        return await call_next(request)
"""

NAMED_LIST = HEAD + """
MW = [Middleware(GZipMiddleware), Middleware(KeyMiddleware)]

app = FastAPI(middleware=MW)
app.include_router(router)
"""

NAMED_TUPLE_STARLETTE = HEAD + """
MW = (Middleware(TimingMiddleware), Middleware(KeyMiddleware))

app = Starlette(middleware=MW)
api = FastAPI()
api.include_router(router)
"""

STARRED = HEAD + """
BASE = [Middleware(GZipMiddleware)]
KEY = Middleware(KeyMiddleware)

app = FastAPI(middleware=[*BASE, KEY])
app.include_router(router)
"""

FACTORY = HEAD + """
MW = [Middleware(KeyMiddleware)]


def create_app():
    app = FastAPI(middleware=MW)
    app.include_router(router)
    return app
"""

FROM_A_CALL = HEAD + """
def load_middleware():
    return [Middleware(KeyMiddleware)]


app = FastAPI(middleware=load_middleware())
app.include_router(router)
"""

CHANGED = HEAD + """
MW = [Middleware(TimingMiddleware)]
MW = MW + [Middleware(KeyMiddleware)]

app = FastAPI(middleware=MW)
app.include_router(router)
"""

STARRED_CALL = HEAD + """
app = FastAPI(middleware=[Middleware(TimingMiddleware), *load()])
app.include_router(router)
"""


@pytest.mark.parametrize(
    "main", [NAMED_LIST, NAMED_TUPLE_STARLETTE, STARRED, FACTORY],
    ids=["named-list", "named-tuple-starlette", "starred-and-named-element", "factory"],
)
def test_each_class_of_a_named_middleware_display_is_analysed(app, cli, main):
    document = cli.json("check", app(ROUTES, {"main.py": main}))
    found = [(f["code"], f["function"]) for f in document["findings"] if f["file"].endswith("main.py")]
    assert found == [("AM308", "KeyMiddleware.dispatch")]


def test_near_miss_a_named_display_of_clean_middleware_is_no_finding(app, cli):
    main = NAMED_LIST.replace("Middleware(KeyMiddleware)]", "Middleware(TimingMiddleware)]")
    root = app(ROUTES, {"main.py": main})
    assert cli.json("check", root)["findings"] == []
    # no finding because the class was read as middleware and found clean, not because it went unseen
    handlers = cli.json("scan", root)["handlers"]
    assert [h["kind"] for h in handlers if h["function"] == "TimingMiddleware.dispatch"] == ["middleware"]


@pytest.mark.parametrize(
    ("main", "written"),
    [(FROM_A_CALL, "middleware=load_middleware()"), (CHANGED, "middleware=MW"), (STARRED_CALL, "middleware=*load()")],
    ids=["a-call", "bound-twice", "starred-call"],
)
def test_a_middleware_value_the_analysis_cannot_read_is_unverified(app, cli, main, written):
    document = cli.json("check", app(ROUTES, {"main.py": main}))
    found = [f for f in document["findings"] if f["file"].endswith("main.py")]
    assert [(f["code"], f["function"]) for f in found] == [("AM304", written)]
    assert f"`{written}`" in found[0]["message"]


def test_an_unread_middleware_value_is_silenced_by_its_pragma(app, cli):
    main = FROM_A_CALL.replace(
        "app = FastAPI(middleware=load_middleware())",
        "app = FastAPI(middleware=load_middleware())  # async-migrate: ignore[AM304] only GZip in production",
    )
    document = cli.json("check", app(ROUTES, {"main.py": main}))
    assert [f for f in document["findings"] if f["file"].endswith("main.py")] == []
