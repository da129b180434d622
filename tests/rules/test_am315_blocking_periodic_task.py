"""AM315 blocking-periodic-task: an `async def` that `@repeat_every` runs beside the requests, doing
synchronous Session work on the event loop each period, is a finding, whether it is a startup handler
(which runs once, and `check` otherwise leaves) or what one awaits; phase one makes the startup
handler a plain def, which the decorator then RUNS in the threadpool, writing."""

from __future__ import annotations

from test_phase2_rules import function
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

ROUTE = """
@router.get("/items")
def list_items(db: session_dependency):
    return [i.name for i in db.scalars(select(Item)).all()]
"""
PERIODIC = """
import threading

from fastapi import FastAPI
from fastapi_utils.tasks import repeat_every

from api.items import router
from db.engine import database_sessionmaker
from models import Item

THREADS: list[str] = []


app = FastAPI()
app.include_router(router)


@app.on_event("startup")
async def start_refreshing():
    await refresh_counts()


@app.on_event("startup")
@repeat_every(seconds=0.05, max_repetitions=3)
async def add_tick():
    THREADS.append(threading.current_thread().name)
    with database_sessionmaker() as db:
        db.add(Item(name="tick", owner_id=1))
        db.commit()


@repeat_every(seconds=60)
async def refresh_counts():
    with database_sessionmaker() as db:
        db.scalar(select(func.count(Item.id)))
"""
HEAD = "from sqlalchemy import func, select\n"


def _findings(cli, root) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    found: dict[str, list[str]] = {}
    for finding in cli.json("check", root)["findings"]:
        found.setdefault(finding["function"], []).append(finding["code"])
    return found


def test_check_reports_a_repeated_coroutine_doing_session_work(cli, service):
    root = service({SUBSYSTEM: routes(ROUTE), "main.py": HEAD + PERIODIC})
    document = cli.json("check", root)
    by_function = {f["function"]: f for f in document["findings"]}
    assert set(by_function) == {"add_tick", "refresh_counts"}, document["findings"]
    assert {f["code"] for f in by_function.values()} == {"AM315"}
    message = by_function["add_tick"]["message"]
    assert "runs again and again beside the requests (@repeat_every(seconds=0.05, max_repetitions=3))" in message
    assert "make it a plain def, which the decorator runs in the threadpool" in message
    assert cli("check", root).exit_code == 1
    scan = {h["function"]: h for h in cli.json("scan", root)["handlers"]}
    assert scan["add_tick"]["action"] == "convert", scan["add_tick"]


def test_phase_one_makes_the_startup_handler_def_and_the_decorator_runs_it_in_the_threadpool(cli, service):
    root = service({SUBSYSTEM: routes(ROUTE), "main.py": HEAD + PERIODIC})
    cli.json("phase1", root, "--apply", "--allow-dirty")
    assert function(root, "main.py", "add_tick").startswith("def add_tick():")
    # what a startup handler awaits is no handler: it stays, reported with the fix
    assert function(root, "main.py", "refresh_counts").startswith("async def refresh_counts():")
    assert _findings(cli, root) == {"refresh_counts": ["AM315"]}
    result = serve(root, "sqlite", """
        import time

        from main import THREADS

        for _ in range(100):
            with Sync() as s:
                ticks = s.scalar(select(func.count(Item.id)).where(Item.name == "tick"))
            if ticks >= 3:
                break
            time.sleep(0.05)
        loop_thread = client.portal.call(lambda: __import__("threading").current_thread().name)
        print(json.dumps({"ticks": ticks, "threads": THREADS, "loop": loop_thread}))
    """)
    assert result["ticks"] == 3, result
    assert result["loop"] not in result["threads"], result  # off the event loop


def test_near_miss_a_def_under_repeat_every_and_a_startup_handler_that_runs_once(cli, service):
    root = service({SUBSYSTEM: routes(ROUTE), "main.py": HEAD + """
from fastapi import FastAPI
from fastapi_utils.tasks import repeat_every

from api.items import router
from db.engine import database_sessionmaker
from models import Item

app = FastAPI()
app.include_router(router)


@app.on_event("startup")
@repeat_every(seconds=60)
def purge():
    with database_sessionmaker() as db:
        db.query(Item).delete()
        db.commit()


@app.on_event("startup")
@repeat_every(seconds=60)
async def heartbeat():
    print("alive")


@app.on_event("startup")
async def warm_up():
    with database_sessionmaker() as db:
        db.scalar(select(func.count(Item.id)))
"""})
    assert _findings(cli, root) == {}
    assert cli("check", root).exit_code == 0
    scan = {h["function"]: h for h in cli.json("scan", root)["handlers"]}
    assert scan["purge"]["action"] == "unchanged"
    assert "its repeating decorator runs it in the threadpool" in scan["purge"]["reasons"][0]
    assert scan["warm_up"]["action"] == "keep" and scan["warm_up"]["codes"][0] == "AM133"


