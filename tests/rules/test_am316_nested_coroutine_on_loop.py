"""AM316 nested-coroutine-on-loop: `check` flags a `def` route whose nested async generator does
synchronous Session work (the event loop drives it); a sync generator there is clean."""

from __future__ import annotations

from rules.test_am122_nested_coroutine_blocks import MIDDLEWARE, STATE_STREAM

PARAM_STREAM = """
from fastapi.responses import StreamingResponse


@router.get("/export")
def export(session: session_dependency):
    {kind} rows():
        for row in session.execute("select 1"):
            yield str(row)

    return StreamingResponse(rows())
"""


def _as_def(source: str) -> str:
    return source.replace("async def export", "def export")


def test_a_def_route_streaming_an_async_generator_on_its_session_is_am316(app, findings):
    found = findings(app(PARAM_STREAM.format(kind="async def")), "export")
    assert [f["code"] for f in found] == ["AM316"], found
    assert "nested coroutine `rows`" in found[0]["message"], found


def test_a_def_route_on_the_request_state_session_is_am316(app, findings):
    root = app(_as_def(STATE_STREAM.format(kind="async def")), {"main.py": MIDDLEWARE})
    found = findings(root, "export")
    assert [f["code"] for f in found] == ["AM316"], found
    assert "db.scalars()" in found[0]["message"], found


def test_a_pragma_silences_am316(app, findings):
    source = PARAM_STREAM.format(kind="async def").replace(
        "def export(", "def export(  # async-migrate: ignore[AM316] tiny table, measured\n    "
    )
    assert findings(app(source), "export") == []


def test_near_miss_a_sync_generator_is_clean(app, findings):
    assert findings(app(PARAM_STREAM.format(kind="def")), "export") == []
    root = app(_as_def(STATE_STREAM.format(kind="def")), {"main.py": MIDDLEWARE})
    assert findings(root, "export") == []


def test_phase_one_says_the_def_route_still_blocks_in_its_nested_coroutine(app, reported):
    entry = reported(app(PARAM_STREAM.format(kind="async def")), "export", "phase1")
    assert entry["action"] == "unchanged" and entry["codes"] == ["AM104", "AM122"], entry
    assert "nested coroutine `rows`" in entry["reasons"][1], entry
    near = reported(app(PARAM_STREAM.format(kind="def")), "export", "phase1")
    assert near["codes"] == ["AM104"], near


HELPER_STREAM = """
from fastapi.responses import StreamingResponse


{kind} rows(session):
    for row in session.execute("select 1"):
        yield str(row)


@router.get("/export")
def export(session: session_dependency):
    return StreamingResponse(rows(session))


@router.get("/bound")
def bound(session: session_dependency):
    body = rows(session)
    return StreamingResponse(body)
"""


def test_a_def_route_streaming_a_module_async_generator_handed_its_session_is_am316(app, findings):
    # The helper is defined beside the route, not in it: the loop iterates it all the same, and
    # check said nothing of a def route (AM311 skips what is handed on; AM316 read nested ones only).
    root = app(HELPER_STREAM.format(kind="async def"))
    for function in ("export", "bound"):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM316"], found
        message = found[0]["message"]
        assert "async generator helper api.items.rows" in message and "session.execute()" in message, found
        assert "plain def generator" in message and "run_in_threadpool" not in message, found


def test_near_miss_a_module_sync_generator_streamed_by_a_def_route_is_clean(app, findings, reported):
    root = app(HELPER_STREAM.format(kind="def"))
    assert findings(root, "export") == [] and findings(root, "bound") == []
    assert reported(root, "export")["codes"] == ["AM104"]


def test_phase_one_says_the_def_route_hands_the_loop_an_async_generator_helper(app, reported):
    entry = reported(app(HELPER_STREAM.format(kind="async def")), "export", "phase1")
    assert entry["action"] == "unchanged" and entry["codes"] == ["AM104", "AM121"], entry
    reason = entry["reasons"][1]
    assert "async generator helper api.items.rows at line" in reason and "plain def generator" in reason, reason
    assert "as `def` the route would" not in reason, reason


ROUTE_CLASS = """
from fastapi.routing import APIRoute

from db.engine import database_sessionmaker


class AuditedRoute(APIRoute):
    def get_route_handler(self):
        original = super().get_route_handler()

        async def handler(request):
            response = await original(request)
            with database_sessionmaker() as s:
                s.execute("insert into audit values (1)")
                s.commit()
            return response

        return handler
"""


def test_a_route_class_handler_doing_session_work_is_am316(app, findings, reported):
    # The coroutine a route class builds wraps every request of its routes on the event loop.
    root = app("@router.get('/ping')\ndef ping():\n    return {}\n", {"api/routing.py": ROUTE_CLASS})
    found = findings(root, "AuditedRoute.get_route_handler")
    assert [f["code"] for f in found] == ["AM316"], found
    assert "inside the coroutine `handler` it returns, which FastAPI awaits on the event loop for every request" \
        in found[0]["message"], found
    assert "make `handler` a plain def" not in found[0]["message"]
    entry = reported(root, "AuditedRoute.get_route_handler")
    assert entry["kind"] == "middleware" and "runs in the threadpool" not in " ".join(entry["reasons"]), entry


def test_near_miss_a_route_class_handler_without_session_work_is_clean(app, findings):
    timed = ROUTE_CLASS.replace(
        """            with database_sessionmaker() as s:
                s.execute("insert into audit values (1)")
                s.commit()
""", """            response.headers["X-Seen"] = "1"
""")
    root = app("@router.get('/ping')\ndef ping():\n    return {}\n", {"api/routing.py": timed})
    assert findings(root, "AuditedRoute.get_route_handler") == []


def test_a_def_route_streaming_an_async_generator_on_the_sync_engine_is_am316(app, findings):
    from rules.test_am122_nested_coroutine_blocks import ENGINE_STREAM

    found = findings(app(_as_def(ENGINE_STREAM.format(kind="async def"))), "export")
    assert [f["code"] for f in found] == ["AM316"], found
    assert "synchronous engine work at line" in found[0]["message"], found
    assert "nested coroutine `rows`" in found[0]["message"], found
    # a sync generator there is iterated in the threadpool: clean
    assert findings(app(_as_def(ENGINE_STREAM.format(kind="def"))), "export") == []


HANDED_COROUTINE = """
import asyncio

PENDING = []
LOOP = asyncio.new_event_loop()


async def record(session):
    session.execute("insert into audit values (1)")
    session.commit()


def fire(coro):
    return asyncio.run_coroutine_threadsafe(coro, LOOP)


def keep(coro):
    PENDING.append(coro)


@router.post("/fired")
def fired(session: session_dependency):
    fire(record(session))


@router.post("/kept")
def kept(session: session_dependency):
    keep(record(session))


@router.post("/threadsafe")
def threadsafe(session: session_dependency):
    asyncio.run_coroutine_threadsafe(record(session), LOOP)
"""


def test_a_def_route_handing_a_blocking_coroutine_to_what_runs_it_later_is_am316(app, findings):
    # The route runs in the threadpool, but the coroutine it hands on runs on an event loop, after
    # the route returned or beside it: check passed all three (AM311 skips what is handed on).
    root = app(HANDED_COROUTINE)
    for function, to in (("fired", "api.items.fire"), ("kept", "api.items.keep"),
                         ("threadsafe", "asyncio.run_coroutine_threadsafe")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM316"], (function, found)
        message = found[0]["message"]
        assert f"hands the coroutine of api.items.record to `{to}()`" in message, message
        assert "session.execute()" in message, message


def test_near_miss_a_def_route_running_the_coroutine_on_a_loop_of_its_own_is_clean(app, findings):
    # asyncio.run in the worker thread: the loop is the thread's own, and the route waits for it.
    root = app(HANDED_COROUTINE + """

@router.post("/ran")
def ran(session: session_dependency):
    asyncio.run(asyncio.wait_for(record(session), 5))
    LOOP.run_until_complete(record(session))
""")
    assert findings(root, "ran") == []


def test_phase_one_says_the_def_route_hands_the_loop_a_blocking_coroutine(app, reported):
    # "already def: runs in the threadpool" alone would be phase one's all-clear for it.
    entry = reported(app(HANDED_COROUTINE), "fired", "phase1")
    assert entry["action"] == "unchanged" and entry["codes"] == ["AM104", "AM121"], entry
    assert "hands the coroutine of api.items.record to `api.items.fire()` at line" in entry["reasons"][1], entry


THROUGH_HELPERS = HANDED_COROUTINE + """

def make(session):
    return record(session)


def remember(session):
    PENDING.append(record(session))


def remember_later(session):
    remember(session)


@router.post("/made")
def made(session: session_dependency):
    keep(make(session))


@router.post("/remembered")
async def remembered(session: session_dependency):
    remember_later(session)


@router.post("/ran")
def ran(session: session_dependency):
    asyncio.run(make(session))
"""


def test_a_blocking_coroutine_a_plain_helper_leaves_unrun_is_am316_on_the_def_route(app, findings, reported, cli):
    # The helper makes the coroutine and hands it on (returned, kept in a list): the route, in the
    # threadpool or converted by phase one, said nothing, while an event loop runs the coroutine.
    root = app(THROUGH_HELPERS)
    found = findings(root, "made")
    assert [f["code"] for f in found] == ["AM316"], found
    assert "calls api.items.make at line" in found[0]["message"], found
    assert "which leaves the coroutine of api.items.record unrun (api/items.py:" in found[0]["message"], found
    entry = reported(root, "remembered", "phase1")
    assert entry["action"] == "convert" and "AM121" in entry["codes"], entry
    assert "calls api.items.remember_later at line" in " ".join(entry["reasons"]), entry
    cli.json("phase1", root, "--apply", "--allow-dirty")
    found = findings(root, "remembered")
    assert [f["code"] for f in found] == ["AM316"], found
    assert findings(root, "ran") == []


def test_a_def_route_running_a_blocking_function_on_the_loop_from_its_thread_is_am316(app, findings):
    # anyio.from_thread.run(f, ...) and run_sync(f, ...) run f on the event loop's own thread: its
    # Session work blocks every request there.
    root = app(HANDED_COROUTINE + """

import anyio.from_thread
from sqlalchemy.orm import Session


def record_sync(session: Session):
    session.execute("insert into audit values (1)")


@router.post("/bridged")
def bridged(session: session_dependency):
    anyio.from_thread.run(record, session)


@router.post("/soon")
def soon(session: session_dependency):
    anyio.from_thread.run_sync(record_sync, session)
""")
    for function, given, to in (("bridged", "api.items.record", "anyio.from_thread.run"),
                                ("soon", "api.items.record_sync", "anyio.from_thread.run_sync")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM316"], (function, found)
        assert f"hands {given} to `{to}()` at line" in found[0]["message"], found
        assert "session.execute()" in found[0]["message"], found


# A plain def helper builds the stream: calling it runs none of `gen`, the loop iterates it.
BUILT_STREAM = """
import asyncio

from fastapi.responses import StreamingResponse
from sqlalchemy import select


def event_stream(session, limit):
    {kind} gen():
        for _ in range(limit):
            yield str(session.scalar(select(1)))
            {pause}

    return gen()


@router.get("/events")
{route} events(session: session_dependency):
    return StreamingResponse(event_stream(session, 3))
"""


def test_a_plain_helper_returning_its_nested_async_generator_is_am316(app, findings, reported):
    source = BUILT_STREAM.format(kind="async def", pause="await asyncio.sleep(0)", route="def")
    found = findings(app(source), "events")
    assert [f["code"] for f in found] == ["AM316"], found
    assert "whose nested coroutine `gen`" in found[0]["message"], found
    assert "(session.scalar())" in found[0]["message"], found
    # async def, phase one keeps it: as def the loop would still iterate `gen`.
    root = app(BUILT_STREAM.format(kind="async def", pause="await asyncio.sleep(0)", route="async def"))
    entry = reported(root, "events")
    assert entry["action"] == "keep", entry
    assert any("make `gen` in event_stream a plain def" in reason for reason in entry["reasons"]), entry


def test_near_miss_a_plain_helper_returning_its_nested_sync_generator_is_clean(app, findings, reported):
    source = BUILT_STREAM.format(kind="def", pause="pass", route="def")
    assert findings(app(source), "events") == []
    root = app(BUILT_STREAM.format(kind="def", pause="pass", route="async def"))
    assert reported(root, "events")["action"] == "convert"
