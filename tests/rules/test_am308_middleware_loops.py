"""Middleware registered in a loop or by a value: each class of a readable display analysed as
middleware (AM308), any other registration unverified (AM304), never silently clean."""

from __future__ import annotations

import pytest

ROUTES = """
@router.get("")
def read_items():
    return []
"""

HEAD = """
from fastapi import FastAPI
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

MODULE_LIST = HEAD + """
MIDDLEWARES = [GZipMiddleware, KeyMiddleware]

app = FastAPI()
app.include_router(router)
for mw in MIDDLEWARES:
    app.add_middleware(mw)
"""

FACTORY_TUPLE = HEAD + """
def create_app():
    app = FastAPI()
    app.include_router(router)
    for mw in (TimingMiddleware, KeyMiddleware):
        app.add_middleware(mw)
    return app
"""

PARAMETER = HEAD + """
def install(app, cls):
    app.add_middleware(cls)


app = FastAPI()
app.include_router(router)
install(app, KeyMiddleware)
"""

UNREAD_LOOP = HEAD + """
def load_middlewares():
    return [KeyMiddleware]


app = FastAPI()
app.include_router(router)
for mw in load_middlewares():
    app.add_middleware(mw)
"""


@pytest.mark.parametrize("main", [MODULE_LIST, FACTORY_TUPLE], ids=["module-level-list", "factory-tuple"])
def test_each_class_of_a_looped_display_is_analysed_as_middleware(app, findings, main):
    found = findings(app(ROUTES, {"main.py": main}), "KeyMiddleware.dispatch")
    assert [f["code"] for f in found] == ["AM308"]


def test_near_miss_a_looped_display_of_clean_middleware_is_no_finding(app, cli):
    main = MODULE_LIST.replace("[GZipMiddleware, KeyMiddleware]", "[GZipMiddleware, TimingMiddleware]")
    document = cli.json("check", app(ROUTES, {"main.py": main}))
    assert document["findings"] == []


@pytest.mark.parametrize(
    ("main", "written"), [(PARAMETER, "cls"), (UNREAD_LOOP, "mw")], ids=["parameter", "loop-over-a-call"]
)
def test_middleware_the_analysis_cannot_read_is_unverified(app, cli, main, written):
    document = cli.json("check", app(ROUTES, {"main.py": main}))
    found = [f for f in document["findings"] if f["file"].endswith("main.py")]
    assert [(f["code"], f["function"]) for f in found] == [("AM304", written)]
    assert f"add_middleware({written})" in found[0]["message"]
