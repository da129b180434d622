"""AM309 blocking-exception-handler: `check` reports an exception handler doing synchronous Session work
on the loop; a startup handler's, which runs once, is no finding. Phase one makes one that awaits
nothing a plain def, which Starlette then RUNS in the threadpool, writing; one that awaits, or that
another handler awaits, stays."""

from __future__ import annotations

from test_phase2_rules import function as function_source
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

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
        assert "run `async-migrate phase1`, which makes one that awaits nothing a def" in found[0]["message"]
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


HANDLERS = """
import threading

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.items import router
from db.engine import database_sessionmaker
from models import Item

THREADS: list[str] = []

app = FastAPI()
app.include_router(router)


@app.exception_handler(LookupError)
async def log_lookup(request, exc):
    THREADS.append(threading.current_thread().name)
    with database_sessionmaker() as db:
        db.add(Item(name=f"error {request.url.path}", owner_id=1))
        db.commit()
    return JSONResponse({"detail": "missing"}, status_code=404)


async def log_body(request, exc):
    body = await request.body()
    with database_sessionmaker() as db:
        db.add(Item(name=body.decode(), owner_id=1))
        db.commit()
    return JSONResponse({"detail": "bad"}, status_code=400)


async def log_runtime(request, exc):
    with database_sessionmaker() as db:
        db.execute(text("select 1"))
    return JSONResponse({"detail": "oops"}, status_code=409)


async def log_conflict(request, exc):
    return await log_runtime(request, exc)


app.add_exception_handler(ValueError, log_body)
app.add_exception_handler(RuntimeError, log_runtime)
app.add_exception_handler(ConnectionError, log_conflict)
"""
RAISING = """
@router.get("/missing")
def missing():
    raise LookupError("x")
"""


def test_phase_one_makes_an_exception_handler_def_and_starlette_runs_it_in_the_threadpool(cli, service):
    root = service({SUBSYSTEM: routes(RAISING), "main.py": HANDLERS})
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    decided = {h["function"]: h for h in document["handlers"]}
    assert decided["log_lookup"]["action"] == "convert", decided["log_lookup"]
    assert function_source(root, "main.py", "log_lookup").startswith("def log_lookup(request, exc):")
    # it awaits the request's body; another handler awaits it: both stay, reported
    assert decided["log_body"]["action"] == "keep" and decided["log_body"]["codes"][0] == "AM108"
    assert decided["log_runtime"]["action"] == "keep" and "AM113" in decided["log_runtime"]["codes"]
    found = {(f["function"], f["code"]) for f in cli.json("check", root)["findings"]}
    # (and the handler awaiting log_runtime blocks through it)
    assert found == {("log_body", "AM309"), ("log_runtime", "AM309"), ("log_conflict", "AM309")}, found
    result = serve(root, "sqlite", """
        import threading

        from main import THREADS

        response = client.get("/missing")
        with Sync() as s:
            items = s.scalars(select(Item.name)).all()
        loop_thread = client.portal.call(lambda: threading.current_thread().name)
        print(json.dumps({"status": response.status_code, "items": items, "threads": THREADS, "loop": loop_thread}))
    """)
    assert result["status"] == 404 and result["items"] == ["error /missing"], result
    assert len(result["threads"]) == 1 and result["loop"] not in result["threads"], result  # off the event loop
