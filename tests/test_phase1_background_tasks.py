"""Blocking `async def` background tasks (AM128, check's AM306): reported however Starlette gets
them (`tasks.add_task(f)`, a response's `background=BackgroundTask(f)`), and made plain `def` by
phase one when every use of them is Starlette's; the converted task is then RUN and writes."""

from __future__ import annotations

from test_phase2_rules import function
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

TASKS = """
import threading

from fastapi import BackgroundTasks
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from db.engine import database_sessionmaker

THREADS: list[str] = []


async def record(name: str) -> None:
    THREADS.append(threading.current_thread().name)
    with database_sessionmaker() as db:
        db.add(Item(name=name, owner_id=1))
        db.commit()
"""
RESPONSE_ROUTE = """
@router.post("/items")
async def create_item(name: str):
    THREADS.append(threading.current_thread().name)
    return JSONResponse({"ok": True}, background=BackgroundTask(record, name))
"""
ADD_TASK_ROUTE = """
@router.post("/later")
async def create_later(name: str, tasks: BackgroundTasks):
    tasks.add_task(record, name)
    return {"ok": True}
"""


def _app(service, *parts: str):  # type: ignore[no-untyped-def]
    return service({SUBSYSTEM: routes(TASKS, *parts)})


def _entry(document: dict, name: str) -> dict:
    return next(h for h in document["handlers"] if h["function"] == name)


def test_a_response_background_task_blocking_the_loop_is_reported_by_scan_phase1_and_check(cli, service):
    root = _app(service, RESPONSE_ROUTE)
    for command in ("scan", "phase1"):
        found = _entry(cli.json(command, root), "create_item")
        assert "AM128" in found["codes"], found
        reason = found["reasons"][found["codes"].index("AM128")]
        assert "schedules the coroutine function api.items.record at line" in reason, reason
    findings = [f for f in cli.json("check", root)["findings"] if f["function"] == "create_item"]
    assert [f["code"] for f in findings] == ["AM306"], findings


def test_phase_one_makes_the_task_def_and_it_runs_in_the_threadpool_and_writes(cli, service):
    root = _app(service, RESPONSE_ROUTE, ADD_TASK_ROUTE)
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    reason = _entry(document, "create_item")["reasons"][-1]
    assert "phase one makes record a plain def, which Starlette runs in the threadpool" in reason, reason
    assert function(root, SUBSYSTEM, "record").startswith("def record(name: str) -> None:")
    assert [f for f in cli.json("check", root)["findings"] if f["code"] == "AM306"] == []
    result = serve(root, "sqlite", """
        from api.items import THREADS

        first = client.post("/items", params={"name": "pen"})
        second = client.post("/later", params={"name": "ink"})
        with Sync() as s:
            items = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": [first.status_code, second.status_code], "items": items, "threads": THREADS}))
    """)
    assert result["status"] == [200, 200] and result["items"] == ["ink", "pen"], result
    route_thread, *task_threads = result["threads"]
    assert len(task_threads) == 2 and route_thread not in task_threads, result  # off the event loop


def test_near_miss_a_task_also_awaited_stays_async_with_the_reason(cli, service):
    root = _app(service, RESPONSE_ROUTE, """
        @router.post("/now")
        async def create_now(name: str):
            await record(name)
            return {"ok": True}
        """)
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    reason = _entry(document, "create_item")["reasons"][-1]
    assert "phase one keeps record async (awaited by api.items.create_now" in reason, reason
    assert function(root, SUBSYSTEM, "record").startswith("async def record(")


def test_near_miss_add_task_of_another_object_leaves_the_task_async(cli, service):
    # `jobs` is the project's own queue, which may await what it is given: not Starlette's.
    root = _app(service, """
        class Jobs:
            def add_task(self, fn, *args):
                self.pending = (fn, args)


        jobs = Jobs()


        @router.post("/queued")
        async def create_queued(name: str):
            jobs.add_task(record, name)
            return {"ok": True}
        """)
    cli.json("phase1", root, "--apply", "--allow-dirty")
    assert function(root, SUBSYSTEM, "record").startswith("async def record(")


REQUEST_SESSION_TASK = """
async def stamp(db, name):
    db.add(Item(name=name, owner_id=1))
    db.commit()


@router.post("/stamped")
def create_stamped(name: str, tasks: BackgroundTasks, db: session_dependency):
    tasks.add_task(stamp, db, name)
    return {"ok": True}
"""


def test_an_unannotated_task_handed_the_request_session_is_reported_and_made_def(cli, service):
    # The task's `db` is a Session only because add_task hands it one: check said nothing of the
    # def route, and phase one left the task on the event loop.
    root = _app(service, REQUEST_SESSION_TASK)
    findings = [f for f in cli.json("check", root)["findings"] if f["function"] == "create_stamped"]
    assert [f["code"] for f in findings] == ["AM306"], findings
    assert "api.items.stamp at line" in findings[0]["message"], findings
    cli.json("phase1", root, "--apply", "--allow-dirty")
    assert function(root, SUBSYSTEM, "stamp").startswith("def stamp(db, name):")
    assert cli.json("check", root)["findings"] == []
    result = serve(root, "sqlite", """
        status = client.post("/stamped", params={"name": "nib"}).status_code
        with Sync() as s:
            items = s.scalars(select(Item.name)).all()
        print(json.dumps({"status": status, "items": items}))
    """)
    assert result == {"status": 200, "items": ["nib"]}, result


def test_near_miss_a_sync_task_handed_the_request_session_is_clean(cli, service):
    root = _app(service, REQUEST_SESSION_TASK.replace("async def stamp", "def stamp"))
    assert [f for f in cli.json("check", root)["findings"] if f["function"] == "create_stamped"] == []


def test_the_task_phase_one_rewrites_has_an_entry_of_its_own_counted_everywhere(cli, service):
    import subprocess

    root = _app(service, ADD_TASK_ROUTE)
    document = cli.json("phase1", root)
    converted = [(h["file"], h["function"], h["kind"]) for h in document["handlers"] if h["action"] == "convert"]
    # the route has no Session work of its own: it stays, and only the task is rewritten
    assert _entry(document, "create_later")["action"] == "keep"
    assert converted == [(SUBSYSTEM, "record", "background-task")], converted
    task = _entry(document, "record")
    assert (task["before"], task["after"], task["codes"]) == ("async", "def", ["AM128"]), task
    assert task["reasons"][0].startswith(f"background task handed to Starlette at {SUBSYSTEM}:"), task
    # every `async def` the diff makes a `def` is an entry converted
    made_def = [line for line in document["diff"].splitlines() if line.startswith("-async def ")]
    assert len(made_def) == len(converted) == 1, document["diff"]
    summary = cli("phase1", root).output.strip().splitlines()[-1]
    assert summary == "8 files, 2 handlers and 1 background task: 1 convert, 1 keep, 1 unchanged; 1 file would change", summary
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start"]):
        subprocess.run(["git", *command], cwd=root, check=True)
    result = cli("phase1", root, "--apply", "--commit")
    assert result.exit_code == 0, result.output
    subject = subprocess.run(["git", "log", "-1", "--format=%s"], cwd=root, check=True, capture_output=True,
                             text=True).stdout.strip()
    assert subject == "async-migrate phase1: 1 background task to def in 1 file", subject
