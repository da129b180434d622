"""pytest plugin that `async-migrate verify` loads into the service's own test run.

It records, per test, blocking on the event loop, two Sessions open in one request and
coroutines never awaited (`_Guard`), and never changes a test's outcome: verify judges the events.
Standalone on purpose: the tool copies this file next to the run as `async_migrate_guard.py` and
loads it with `PYTEST_PLUGINS`, so it runs in the service's interpreter without async-migrate
installed there. Only the standard library is imported at module level; pytest, SQLAlchemy,
Starlette and blockbuster when present.

Over 500 lines: the plugin is copied into the service's run as one file, so it cannot be
split into modules of its own.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import inspect
import json
import os
import sys
import threading
import warnings
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

ENV_REPORT = "ASYNC_MIGRATE_GUARD_REPORT"  # where the JSON report goes
ENV_ROOT = "ASYNC_MIGRATE_GUARD_ROOT"  # the application root: names locations relative to it
ENV_ACK = "ASYNC_MIGRATE_GUARD_ACK"  # JSON list of {"file", "function", "reason"} allowed to block

BLOCKBUSTER_FUNCTIONS = ("sqlite3.", "socket.", "ssl.")
_MAX_EVENTS_PER_TEST = 50
# Where a call made while the garbage collector returns an unclosed connection is placed
# (`testrun.COLLECTED` reads the same text: this module imports nothing of the tool's).
COLLECTED = (
    "outside the application: a connection the garbage collector returned to the pool, rolled back on the event "
    "loop (a Session or connection left unclosed, by whichever test or request ran before)"
)
# The "request" a task the lifespan started blocks in, while the application serves.
LIFESPAN_TASK = "a task the lifespan started, while the application serves requests"


class _Request:
    """One request the application is serving; shared by the threads serving it."""

    def __init__(self, scope: dict) -> None:
        self.scope = scope
        # The application's own root path (behind a proxy): the paths scan names start below it.
        self.root_path = scope.get("root_path", "") or ""
        # Sessions with a root transaction in progress: what to say, and the database it is on
        self.open: dict[int, tuple[str, str]] = {}
        self.most_open = 1  # the most Sessions open at once on one database reported so far
        # The whole response is sent: what runs now is a background task, which should open its
        # own Session (the request's may still be open until the tasks end).
        self.responded = False

    @property
    def handler(self) -> str | None:
        endpoint = self.scope.get("endpoint")
        if endpoint is None:
            return None
        return f"{getattr(endpoint, '__module__', '?')}.{getattr(endpoint, '__qualname__', endpoint)}"

    @property
    def label(self) -> str:
        # The route's path template when routing got that far: one entry per route, not per id.
        path = _full_template(self.scope, self.root_path)
        if self.scope.get("type") == "websocket":
            return f"WEBSOCKET {path}"
        return f"{self.scope.get('method', '?')} {path}"


def _full_template(scope: dict, root_path: str) -> str:
    """The served route's path template with every prefix it is served under, as scan names it.

    A route object's own `path` lacks the prefixes of `include_router` in FastAPI versions
    that keep included routers as nodes, and a mounted application's prefix always; the
    prefixes are read off the requested path instead (FastAPI's full template first).
    """
    served = scope.get("path", "?")
    if root_path and served.startswith(root_path):
        served = served[len(root_path):] or "/"
    template = None
    fastapi_routing = sys.modules.get("fastapi.routing")
    if fastapi_routing is not None:
        state = scope.get(getattr(fastapi_routing, "_FASTAPI_SCOPE_KEY", None) or "fastapi")
        key = getattr(fastapi_routing, "_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY", None)
        context = state.get(key) if isinstance(state, dict) and key else None
        template = getattr(context, "path_format", None)
    route = scope.get("route")
    if not isinstance(template, str):
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str) or not template:
        return served
    try:
        from starlette.routing import compile_path

        pattern = compile_path(template)[0]
    except Exception:
        return template
    if pattern.match(served):
        return template
    # Served under prefixes the template lacks: the shortest tail of the path it matches.
    for start in range(1, len(served)):
        if served[start] == "/" and pattern.match(served[start:]):
            return served[:start] + template
    return template


# Whether the tests had the application serve on trio (anyio_backend "trio"), where blockbuster's
# hooks stay off: they watch asyncio's loop only, so driver calls outside SQLAlchemy go unseen there.
_served_on_trio: list[bool] = []

_request: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("async_migrate_request", default=None)


class _Guard:
    """What happens, per test, while the application serves a request:

    - `blocking`: a synchronous Session or driver call runs on the event loop thread
      (SQLAlchemy engine and pool events see every driver; blockbuster, when installed,
      adds the driver functions it patches: sqlite3, sockets). Calls made by
      AsyncSession inside SQLAlchemy's own greenlet are legitimate and pass;
    - `two-sessions`: one request has transactions open on two Sessions at once (a
      dependency's Session still open while another begins: objects loaded by one are
      "already attached" to the other, and writes may go unsaved). Sessions a helper opens
      and closes one after the other (`with SessionLocal() as s:`) do not overlap and pass;

    and, at any time during the test:

    - `never-awaited`: a coroutine is collected without ever having been awaited.

    It never changes a test's outcome: verify judges the events itself (a test with one fails
    verify unless the before side's run saw the same occurrence), so the report keeps each
    test's own outcome apart from what the guard saw. Blocking inside a handler that carries
    `# async-migrate: ignore[blocking-session] reason` is recorded as acknowledged. Requests are
    watched from the outermost application a test client serves (a pure ASGI middleware wrapping
    FastAPI included), and tasks the lifespan starts while the application serves (a poller),
    since their blocking stalls every request; lifespan start-up and shutdown, and test code
    outside requests, are not checked for blocking: they stall no request.
    """

    def __init__(self) -> None:
        self.root = Path(os.environ.get(ENV_ROOT) or os.getcwd()).resolve()
        self.lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self.keys: set[tuple] = set()
        self.acknowledged: dict[tuple[str, str], str] = {}
        self.tests: list[dict[str, Any]] = []
        self.outcomes: dict[str, dict[str, Any]] = {}
        self.installed: dict[str, Any] = {}
        self.collected: list[str] = []  # the test ids the run selected
        self.local = threading.local()
        ack = os.environ.get(ENV_ACK)
        if ack:
            for entry in json.loads(Path(ack).read_text(encoding="utf-8")):
                key = (str(Path(entry["file"]).resolve()), entry["function"])
                self.acknowledged[key] = entry.get("reason", "")

    # ------------------------------------------------------------ recording

    def record(
        self, kind: str, message: str, where: str, request: str | None, acknowledged: str | None,
        sessions: int | None = None,
    ) -> None:
        """One event per kind, place, request and acknowledgement (and number of Sessions open
        at once) in a test; repeats add their message to its `calls`."""
        key = (kind, where, request, acknowledged is not None, sessions)
        with self.lock:
            if key in self.keys:
                for seen in self.events:
                    same = (seen["kind"], seen["where"], seen["request"], seen["acknowledged"] is not None,
                            seen.get("sessions"))
                    if same == key and message not in seen["calls"]:
                        seen["calls"].append(message)
                return
            if len(self.events) >= _MAX_EVENTS_PER_TEST:
                return
            self.keys.add(key)
            event: dict[str, Any] = {"kind": kind, "where": where, "request": request, "calls": [message],
                                     "acknowledged": acknowledged}
            if sessions is not None:
                event["sessions"] = sessions
            self.events.append(event)

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            events, self.events, self.keys = self.events, [], set()
        return events

    # ------------------------------------------------------------ stack reading

    def _relative(self, filename: str) -> str | None:
        if filename[:1] == "<":  # generated code: <string>, SQLAlchemy's <... _go() wrapper>
            return None
        try:
            path = Path(filename).resolve()
        except (OSError, ValueError):
            return None
        if path.is_relative_to(self.root) and ".venv" not in path.parts and "site-packages" not in path.parts:
            return str(path.relative_to(self.root))
        return None

    def locate(self) -> tuple[str, str | None]:
        """Where the current call comes from in the application, and the pragma reason
        when a frame on the stack is an acknowledged handler."""
        frame: FrameType | None = sys._getframe(2)
        where = None
        reason = None
        serialising = lazy = False  # what the library frames say when no application frame does
        parent = _greenlet_parent_frame()
        while frame is not None:
            code = frame.f_code
            if code.co_name == "_finalize_fairy" and "sqlalchemy" in code.co_filename and _collected(frame):
                # The garbage collector returning a connection nobody closed: it runs wherever the
                # collection happened to start, so no frame further out says who left it open.
                return COLLECTED, reason
            if code.co_name == "serialize_response" and "fastapi" in code.co_filename:
                serialising = True
            elif code.co_name in ("_load_for_state", "_emit_lazyload"):
                lazy = True
            if self.acknowledged and reason is None:
                name = getattr(code, "co_qualname", code.co_name)
                filename = str(Path(code.co_filename).resolve()) if code.co_filename[:1] != "<" else ""
                reason = self.acknowledged.get((filename, name))
            if where is None:
                relative = self._relative(code.co_filename)
                if relative is not None:
                    where = f"{relative}:{frame.f_lineno} in {getattr(code, 'co_qualname', code.co_name)}"
            if where is not None and (reason is not None or not self.acknowledged):
                break
            frame = frame.f_back
            if frame is None:
                # Inside SQLAlchemy's greenlet the application's frames are those of the
                # coroutine that started it, in the parent greenlet.
                frame, parent = parent, None
        if where is None and serialising:
            what = ": a lazy load of a relationship the response model reads" if lazy else ""
            return f"outside the application, while FastAPI serialises the response{what}", reason
        return where or "outside the application", reason

    # ------------------------------------------------------------ the rules

    def blocking(self, call: str, sync_driver: bool = False) -> None:
        """A synchronous database call is about to run: record it when it runs on the
        event loop thread while a request is served, outside SQLAlchemy's greenlet. Inside it
        too on a synchronous driver (`sync_driver`): a listener the AsyncSession's flush runs
        that opens a Session on the synchronous engine blocks the loop all the same."""
        if getattr(self.local, "busy", False):
            return
        if not _on_event_loop():
            return
        request = _request.get()
        label = request.label if request is not None else _lifespan_task()
        if label is None or (_in_sqlalchemy_greenlet() and not sync_driver):
            return
        self.local.busy = True
        try:
            where, reason = self.locate()
            self.record("blocking", call, where, label, reason)
        finally:
            self.local.busy = False

    def session_began(self, session: Any, asynchronous: bool = True, database: str = "") -> None:
        """A Session began its transaction on `database` (see `_database`). Sessions on other
        databases (a read replica's beside the primary's, an analytics database's) are a service's
        design, not the request's work split over two transactions: only those on one count."""
        request = _request.get()
        if request is None or request.responded:
            return
        with self.lock:
            if id(session) in request.open:
                return
        where, _ = self.locate()
        kind = "AsyncSession" if _in_sqlalchemy_greenlet() and asynchronous else "Session"
        with self.lock:
            request.open[id(session)] = (f"{kind} began at {where}", database)
            sessions = [said for said, on in request.open.values() if on == database]
            if len(sessions) <= request.most_open:
                return
            # Reported again only when more are open at once than before in this request.
            request.most_open = len(sessions)
        self.record(
            "two-sessions", f"{len(sessions)} Sessions open at once in one request: {'; '.join(sessions)}",
            request.handler or where, request.label, None, sessions=len(sessions),
        )

    def session_ended(self, session: Any) -> None:
        request = _request.get()
        if request is not None:
            with self.lock:
                request.open.pop(id(session), None)

    def never_awaited(self, coro: Any) -> None:
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        name = getattr(coro, "__qualname__", repr(coro))
        where = "?"
        if code is not None:
            relative = self._relative(code.co_filename)
            where = f"{relative or code.co_filename}:{code.co_firstlineno} in {name}"
        origin = getattr(coro, "cr_origin", None)
        if origin:
            frames = [f"{self._relative(f) or f}:{line} in {fn}" for f, line, fn in origin]
            where += " (created at " + " <- ".join(frames) + ")"
        self.record("never-awaited", f"coroutine {name} was never awaited", where, None, None)

    # ------------------------------------------------------------ installation

    def install(self) -> None:
        self.installed["starlette"] = _install_request_context()
        self.installed["sqlalchemy"] = _install_sqlalchemy(self)
        self.installed["blockbuster"] = _install_blockbuster(self)
        self.installed["never-awaited"] = _install_unawaited(self)


def _lifespan_task() -> str | None:
    """What a task the lifespan started is called, when one runs now while the application
    serves: its blocking stalls every request then. The lifespan's own start-up and shutdown
    stall none, nor does a task of its start-up it awaited before serving."""
    lifespan = _lifespan.get()
    if lifespan is None or not lifespan.serving or _current_task() is lifespan.task:
        return None
    return LIFESPAN_TASK


def _on_event_loop() -> bool:
    """Whether this thread runs an event loop at the moment: asyncio's, or trio's, which anyio's
    pytest plugin runs the tests on when `anyio_backend` says "trio" (Starlette serves on either).
    The threadpool's workers run neither."""
    if asyncio._get_running_loop() is not None:
        return True
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_trio_token()
    except (RuntimeError, AttributeError):
        return False
    return True


def _collected(frame: FrameType) -> bool:
    """SQLAlchemy's pool returning a connection for the garbage collector, not for a `close()`
    (both go through `_finalize_fairy`): `is_gc_cleanup` in 2.1, a weak reference `ref` before."""
    names = frame.f_locals
    return names.get("is_gc_cleanup") is True or names.get("ref") is not None


def _greenlet_parent_frame() -> Any:
    greenlet = sys.modules.get("greenlet")
    if greenlet is None:
        return None
    parent = greenlet.getcurrent().parent
    return getattr(parent, "gr_frame", None) if parent is not None else None


def _in_sqlalchemy_greenlet() -> bool:
    greenlet = sys.modules.get("greenlet")
    if greenlet is None:
        return False
    return bool(getattr(greenlet.getcurrent(), "__sqlalchemy_greenlet_provider__", False))


class _Lifespan:
    """An application's lifespan: the task running its start-up and shutdown, and whether it
    serves requests now (start-up complete, shutdown not begun)."""

    def __init__(self, task: object) -> None:
        self.task = task
        self.serving = False


# Set while the lifespan runs; the tasks it starts (`create_task(poll())`, a task group's) inherit it.
_lifespan: contextvars.ContextVar[_Lifespan | None] = contextvars.ContextVar("async_migrate_lifespan", default=None)


def _current_task() -> object:
    """The task running now, on asyncio or trio (None outside both)."""
    task: object = asyncio.current_task() if asyncio._get_running_loop() is not None else None
    trio = sys.modules.get("trio")
    if task is None and trio is not None:
        try:
            task = trio.lowlevel.current_task()
        except (RuntimeError, AttributeError):
            return None
    return task


async def _serve(call: Any, scope: dict, receive: Any, send: Any) -> Any:
    """`call(scope, receive, send)` as the guard watches it: a request or a websocket as one
    request (the outermost application entered sets it; the ones it wraps inherit it), and a
    lifespan as the owner of the tasks it starts."""
    kind = scope.get("type")
    if kind == "lifespan" and _lifespan.get() is None:
        lifespan = _Lifespan(_current_task())
        lifespan_token = _lifespan.set(lifespan)

        async def told(message):
            if message.get("type") == "lifespan.startup.complete":
                lifespan.serving = True
            await send(message)

        async def asked():
            message = await receive()
            if message.get("type") == "lifespan.shutdown":
                lifespan.serving = False
            return message

        try:
            return await call(scope, asked, told)
        finally:
            lifespan.serving = False
            _lifespan.reset(lifespan_token)
    if kind not in ("http", "websocket"):
        return await call(scope, receive, send)
    request = _request.get()
    if request is not None:
        if "endpoint" not in request.scope:
            # An outer application (a pure ASGI middleware around it) may hand on a copy of its scope.
            request.scope = scope
        return await call(scope, receive, send)
    request = _Request(scope)
    token = _request.set(request)
    if not _served_on_trio and asyncio._get_running_loop() is None and _on_event_loop():
        _served_on_trio.append(True)

    async def sent(message):
        if message.get("type") == "http.response.body" and not message.get("more_body", False):
            request.responded = True
        await send(message)

    try:
        return await call(scope, receive, sent)
    finally:
        _request.reset(token)


class _Served:
    """The application a test client serves, as the guard watches it: the outermost one, so a
    pure ASGI middleware wrapping the FastAPI application (`app = TimingMiddleware(app)`) runs
    inside the request too."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        return await _serve(self.app, scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        if name == "app":  # not set yet (a copy being built): no recursion through it
            raise AttributeError(name)
        return getattr(self.app, name)


def _install_request_context() -> bool:
    try:
        from starlette.applications import Starlette
    except ImportError:
        return False
    original = Starlette.__call__
    if getattr(original, "_async_migrate_guard", False):
        return True

    async def __call__(self, scope, receive, send):
        return await _serve(lambda *message: original(self, *message), scope, receive, send)

    __call__._async_migrate_guard = True  # type: ignore[attr-defined]
    Starlette.__call__ = __call__  # type: ignore[method-assign]
    _install_client_transports()
    return True


def _install_client_transports() -> None:
    """Starlette's TestClient and httpx's ASGITransport serve the application they are handed
    wrapped in `_Served` (the transport's copy: `client.app` stays the application)."""
    transports: list[type] = []
    try:
        from starlette.testclient import _TestClientTransport

        transports.append(_TestClientTransport)
    except ImportError:
        pass
    try:
        from httpx import ASGITransport

        transports.append(ASGITransport)
    except ImportError:
        pass
    for transport in transports:
        initial = vars(transport).get("__init__")
        if initial is None or getattr(initial, "_async_migrate_guard", False):
            continue  # without an `__init__` of its own, Starlette's hook alone sees its requests

        def __init__(self, *args: Any, _initial: Any = initial, **kwargs: Any) -> None:
            _initial(self, *args, **kwargs)
            app = getattr(self, "app", None)
            if app is not None and not isinstance(app, _Served):
                self.app = _Served(app)

        __init__._async_migrate_guard = True  # type: ignore[attr-defined]
        setattr(transport, "__init__", __init__)  # noqa: B010 - a class's own method replaced


def _database(connection: Any) -> str:
    """The database a Connection is on, whatever its driver: an AsyncSession and a Session on one
    database (`sqlite+aiosqlite:///app.db`, `sqlite:///app.db`) are on the same one."""
    try:
        url = connection.engine.url
        return "|".join(str(part) for part in (url.get_backend_name(), url.host, url.port, url.database))
    except Exception:  # noqa: BLE001 - a connection the guard cannot read: one database for all
        return ""


def _install_sqlalchemy(guard: _Guard) -> bool:
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import AdaptedConnection, Engine
        from sqlalchemy.orm import Session
        from sqlalchemy.pool import Pool
    except ImportError:
        return False

    def sync_dialect(conn: Any) -> bool:
        return not getattr(getattr(conn, "dialect", None), "is_async", True)

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        what = statement.split(None, 1)[0] if statement.strip() else "statement"
        guard.blocking(f"SQL execute ({what})", sync_dialect(conn))

    def on_commit(conn):
        guard.blocking("COMMIT", sync_dialect(conn))

    def on_rollback(conn):
        guard.blocking("ROLLBACK", sync_dialect(conn))

    def on_checkout(dbapi_connection, record, proxy):
        # An asyncio driver's connection comes adapted (AdaptedConnection); a plain DBAPI one is synchronous.
        guard.blocking("connection checkout from the pool", not isinstance(dbapi_connection, AdaptedConnection))

    def on_begin(session, transaction, connection):
        guard.session_began(session, not sync_dialect(connection), _database(connection))

    def on_end(session, transaction):
        if transaction.parent is None:  # the root transaction: the Session holds no connection now
            guard.session_ended(session)

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Engine, "commit", on_commit)
    event.listen(Engine, "rollback", on_rollback)
    event.listen(Pool, "checkout", on_checkout)
    event.listen(Session, "after_begin", on_begin)
    event.listen(Session, "after_transaction_end", on_end)
    return True


def _install_blockbuster(guard: _Guard) -> bool:
    try:
        from blockbuster import BlockBuster
    except ImportError:
        return False
    buster = BlockBuster()
    for name, function in buster.functions.items():
        if not name.startswith(BLOCKBUSTER_FUNCTIONS):
            continue
        allowed = function.can_block_predicate

        def predicate(*args: Any, _name: str = name, _allowed: Any = allowed, **kwargs: Any) -> bool:
            # Record, never raise: the call goes on, and the test fails afterwards with where it was.
            if not _allowed(*args, **kwargs):
                guard.blocking(_name)
            return True

        function.can_block_predicate = predicate
        function.activate()
    return True


def _install_unawaited(guard: _Guard) -> bool:
    # The interpreter reports a never-awaited coroutine through this function, from any
    # thread, before warning filters apply; keep the warning and record it.
    original = getattr(warnings, "_warn_unawaited_coroutine", None)
    if original is None:
        return False

    def hook(coro: Any) -> None:
        try:
            guard.never_awaited(coro)
        finally:
            original(coro)

    warnings._warn_unawaited_coroutine = hook  # type: ignore[attr-defined]
    return True


_guard: _Guard | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _guard
    if _guard is None:
        _guard = _Guard()
        _guard.install()


def _describe(event: dict[str, Any]) -> str:
    what = {
        "blocking": "blocks the event loop",
        "two-sessions": "holds two Sessions open at once in one request",
        "never-awaited": "never awaits a coroutine",
    }[event["kind"]]
    request = f" during {event['request']}" if event["request"] else ""
    return f"async-migrate guard: {what}{request} at {event['where']}: {'; '.join(event['calls'])}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if _guard is None or report.when == "setup" and report.passed:
        return report  # setup's events are judged with the call
    gc.collect()  # a coroutine dropped without await is reported when it is collected
    events = _guard.take()
    failing = [e for e in events if e["acknowledged"] is None]
    if failing:  # shown beside a failing test's own output
        report.sections.append(("async-migrate guard", "\n".join(_describe(e) for e in failing)))
    entry = _guard.outcomes.setdefault(item.nodeid, {"nodeid": item.nodeid, "outcome": "passed", "guard": []})
    entry["guard"].extend(events)
    if report.failed:
        entry["outcome"] = "failed" if report.when == "call" else "error"
    elif report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
    return report


# The test id under which coroutines still unawaited when the session ends are reported.
SESSION_END = "(end of the test session)"


def _pending_coroutines(guard: _Guard) -> None:
    """Coroutines of the application that were created and never started and are still alive
    when the tests end (kept in a list, a dict, app.state): the interpreter would only warn at
    exit, after the report is written, so they are reported now."""
    gc.collect()
    for obj in gc.get_objects():
        try:
            frame = getattr(obj, "cr_frame", None) if asyncio.iscoroutine(obj) else None
            if frame is None or inspect.getcoroutinestate(obj) != inspect.CORO_CREATED:
                continue
            if guard._relative(frame.f_code.co_filename) is None:
                continue  # the libraries' own
        except Exception:
            continue
        guard.never_awaited(obj)
    events = guard.take()
    if events:
        entry = guard.outcomes.setdefault(SESSION_END, {"nodeid": SESSION_END, "outcome": "passed", "guard": []})
        entry["guard"].extend(events)


ENV_COLLECT_ONLY = "ASYNC_MIGRATE_GUARD_COLLECT_ONLY"  # list the tests, run none


def pytest_collection_finish(session: pytest.Session) -> None:
    if _guard is None:
        return
    _guard.collected = [item.nodeid for item in session.items]
    if os.environ.get(ENV_COLLECT_ONLY):
        session.items[:] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get(ENV_REPORT)
    if _guard is None or not path:
        return
    _pending_coroutines(_guard)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        path = f"{path}.{worker}"
    document = {
        "installed": {**_guard.installed, **(
            {"blockbuster-on-trio": False} if _served_on_trio and _guard.installed.get("blockbuster") else {}
        )},
        "exitstatus": int(exitstatus),
        "tests": list(_guard.outcomes.values()),
        "collected": _guard.collected,
        "python": sys.executable,
    }
    Path(path).write_text(json.dumps(document, indent=1), encoding="utf-8")
