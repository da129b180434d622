"""AM309 blocking-exception-handler: `check` reports an exception handler doing synchronous Session work
on the loop; a startup handler's, which runs once, is no finding."""

from __future__ import annotations

ROUTES = """
@router.get("")
def read_items():
    return []
"""

MAIN = """
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(router)


@app.exception_handler(ValueError)
async def log_value_error(request, exc):
    with database_sessionmaker() as session:
        session.execute("select 1")
        session.commit()
    return JSONResponse({"detail": str(exc)}, status_code=400)


async def log_key_error(request, exc):
    with database_sessionmaker() as session:
        session.commit()
    return JSONResponse({"detail": "missing"}, status_code=404)


app.add_exception_handler(KeyError, log_key_error)
"""


def test_check_reports_a_blocking_exception_handler_with_am309(app, findings, cli):
    root = app(ROUTES, {"main.py": MAIN})
    for function in ("log_value_error", "log_key_error"):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM309"], function
        assert found[0]["kind"] == "exception-handler"
        assert "Starlette runs a plain def exception handler in the threadpool" in found[0]["message"]
    assert cli("check", root).exit_code == 1


def test_near_miss_exception_handler_without_session_work_and_startup_work(app, findings, cli):
    root = app(
        ROUTES,
        {"main.py": """
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(router)


@app.exception_handler(ValueError)
async def value_error(request, exc):
    return JSONResponse({"detail": str(exc)}, status_code=400)


@app.on_event("startup")
async def warm_up():
    with database_sessionmaker() as session:
        session.execute("select 1")
"""},
    )
    assert findings(root, "value_error") == []
    assert findings(root, "warm_up") == []
    assert cli("check", root).exit_code == 0


def test_a_pragma_on_a_startup_handler_says_why_it_silences_nothing(app, findings):
    root = app(
        ROUTES,
        {"main.py": """
from fastapi import FastAPI

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(router)


# async-migrate: ignore[AM309] warms the pool once
@app.on_event("startup")
async def warm_up():
    with database_sessionmaker() as session:
        session.execute("select 1")
"""},
    )
    found = findings(root, "warm_up")
    assert [f["code"] for f in found] == ["AM305"]
    assert "does not judge a startup/shutdown handler, it runs once" in found[0]["message"]
