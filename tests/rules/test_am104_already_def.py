"""AM104 already-def: a plain `def` handler is unchanged by phase one."""

from __future__ import annotations


def test_a_def_route_is_unchanged_with_am104(app, reported):
    root = app(
        """
        @router.get("")
        def read_items(session: session_dependency):
            return session.execute("select 1").all()
        """
    )
    entry = reported(root, "read_items", "phase1")
    assert (entry["action"], entry["before"], entry["codes"]) == ("unchanged", "def", ["AM104"])


def test_near_miss_the_same_route_as_async_def_converts(app, reported):
    root = app(
        """
        @router.get("")
        async def read_items(session: session_dependency):
            return session.execute("select 1").all()
        """
    )
    assert reported(root, "read_items", "phase1")["codes"] == ["AM101"]


STARTUP = """
from fastapi import FastAPI

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(router)


@app.on_event("startup")
def create_tables():
    with database_sessionmaker() as session:
        session.execute("select 1")
"""


def test_a_def_startup_handler_is_said_to_run_on_the_event_loop_not_in_the_threadpool(app, reported, cli):
    # Starlette calls a sync startup/shutdown handler directly on the event loop, once.
    root = app('@router.get("")\ndef read_items():\n    return []\n', {"main.py": STARTUP})
    for command in ("scan", "phase1"):
        entry = reported(root, "create_tables", command)
        assert (entry["action"], entry["kind"], entry["codes"]) == ("unchanged", "lifecycle", ["AM104"])
        (reason,) = entry["reasons"]
        assert "threadpool" not in reason and "on the event loop" in reason, reason
        assert "delays start-up" in reason, reason
    assert "threadpool" not in cli("scan", root).output.split("create_tables", 1)[1].splitlines()[0]
