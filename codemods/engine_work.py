"""Blocking database work that is not Session work: a synchronous engine's connections, and
`async def` functions a handler schedules as background tasks.

Shared by phase one (convert or keep, AM127/AM128) and `check` (AM306), so an `async def`
route that blocks the event loop this way is never reported clean. The shapes read: `engine_work`
(engines and connections) and `coroutine_tasks` (tasks and loop callbacks).

Over 500 lines: a scheduled task blocks by the engine work inside it (`engine_inside`) as much
as by its Session work, so the task reader needs the engine reader's walk; split apart, the two
halves would import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from async_migrate.codemods import facts
from async_migrate.codemods.flow import CONNECTION, ENGINE, split
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import Edge, FunctionId, Project
from async_migrate.codemods.vocabulary import OFFLOADERS, SYNC_ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.python import TASK_STARTERS
from async_migrate.codemods.vocabulary.sqlalchemy import (
    CONNECTION_IO_METHODS,
    CONNECTION_OPENERS,
    FROM_CONFIG,
    TABLE_TYPES,
)
from async_migrate.codemods.vocabulary.starlette import BACKGROUND_TASK

ENGINE_IO_METHODS = frozenset({"connect", "begin", "execute", "scalar", "raw_connection"})
METADATA_DDL = frozenset({"create_all", "drop_all", "reflect"})
# Methods handed a coroutine object to run as a task beside the caller: an event loop's
# (`loop.create_task(f())`, `asyncio.get_running_loop().create_task(f())`) and a TaskGroup's.
_TASK_METHODS = frozenset({"create_task"})
# An event loop's methods that call a plain function on the loop later: the position of the callback.
_LOOP_CALLBACKS = {"call_soon": 0, "call_soon_threadsafe": 0, "call_later": 1, "call_at": 1}
# Methods handed the coroutine function itself, run on the event loop: a background task, a
# task group's `start_soon`.
_FUNCTION_STARTERS = frozenset({"add_task", "start_soon"})
_SYNC_ENGINES = SYNC_ENGINE_CONSTRUCTORS | FROM_CONFIG
_INSPECT = frozenset({"sqlalchemy.inspect", "sqlalchemy.inspection.inspect"})
# Libraries whose calls given an engine keep it for later (a sessionmaker, a Session, a listener,
# an instrumentor, a partial) or hand it to a thread (`run_in_threadpool(f, engine)`): the work
# done with it is found where it happens, or is none.
_CONNECTS_LATER = frozenset({
    "sqlalchemy", "sqlmodel", "alembic", "opentelemetry", "logging", "builtins", "functools", "asyncio",
    "anyio", "starlette", "fastapi", "concurrent", "threading",
})
# Methods that keep an engine for later (a local sessionmaker's `configure(bind=engine)`).
_BINDS_ONLY = frozenset({"configure", "bind", "append", "add", "setdefault", "update", "set"})
_NO_IO = frozenset({"print", "repr", "str", "id", "isinstance", "getattr", "hasattr", "setattr", "type", "len"})


# What the Session work of a task moved to a worker thread does there, by the registry's scope:
# the thread's own (a `remove()` there ends it), the asyncio task's (none runs there), or one
# Session other requests use at the same time (a registry keyed alike for every request, one a
# dependency or middleware hands out, a process-wide Session).
THREAD, TASK, SHARED = "thread", "task", "shared"
_OWN_SESSION = (
    "have the code the worker runs (the plain def task or helper) open a Session of its own (`with "
    "SessionLocal() as session:`), or move its work to AsyncSession"
)
_REGISTRY_NOTES = {
    THREAD: (
        "runs on that worker's own Session, which nothing else removes: call the registry's `remove()` in a "
        "`finally` in the code the worker runs (the plain def task or helper), or scope the registry to the request"
    ),
    TASK: (
        "fails: the registry is keyed on the asyncio task and a worker thread runs none, so "
        f"`asyncio.current_task()` raises RuntimeError there; {_OWN_SESSION}"
    ),
    SHARED: (
        "would use, from that thread, a Session other requests use on the event loop at the same time, which a "
        f"Session does not allow; {_OWN_SESSION}"
    ),
}


@dataclass(frozen=True, slots=True)
class CoroutineTask:
    """An `async def` scheduled as a background task that blocks the event loop."""

    line: int  # where the handler schedules it
    task: str  # module.qualname of the coroutine function
    inner: tuple[str, ...]  # where it blocks: `path:line (call)`
    fid: FunctionId = ("", "")  # the coroutine function
    # `add_task` (Starlette runs a plain def task in the threadpool), or what needs a coroutine
    # (`asyncio.create_task`, a task group's `start_soon`)
    starter: str = "add_task"
    awaits: str | None = None  # the task's own first await, `at path:line (text)`
    # A plain function the event loop calls itself (`loop.call_later(60, purge)`): on the loop
    # whatever it is, so no plain def helps.
    callback: bool = False
    # The registry or process-wide Session its work uses, as `SharedUse.holder` says it, with where,
    # and what a worker thread makes of it (`_REGISTRY_NOTES`): "" for none.
    registry: str = ""
    registry_kind: str = THREAD

    def fix(self, awaits_said: bool = False) -> str:
        """A plain def task is a fix only where a plain def can be scheduled and awaits nothing.
        `awaits_said`: the text already says where the task awaits."""
        text = self._fix(awaits_said)
        if not self.registry or self.callback:
            return text
        return f"{text}; in a worker thread its Session work ({self.registry}) {_REGISTRY_NOTES[self.registry_kind]}"

    def _fix(self, awaits_said: bool) -> str:
        short = self.task.rsplit(".", 1)[-1]
        if self.callback:
            return (
                f"{self.starter} runs {short} on the event loop itself: schedule a coroutine that awaits "
                f"`run_in_threadpool({short})` (or `asyncio.to_thread`) instead, or move its work to AsyncSession"
            )
        if self.awaits is not None:
            because = "it" if awaits_said else f"{short} awaits too, {self.awaits}, so it"
            return (
                f"{because} cannot become a plain def: move its Session work into "
                f"a plain def helper that {short} calls as `await run_in_threadpool(helper, ...)`, or move its "
                "work to AsyncSession"
            )
        if self.starter != "add_task":
            return (
                f"{self.starter} needs a coroutine, so it cannot be handed a plain def {short}: make {short} a plain "
                f"def and schedule `run_in_threadpool({short}, ...)` (or `asyncio.to_thread`), or move its work to "
                "AsyncSession"
            )
        return f"make {short} a plain def (Starlette runs it in the threadpool) or move its work to AsyncSession"

    def describe(self) -> str:
        where = ", ".join(self.inner[:3]) + (", ..." if len(self.inner) > 3 else "")
        what = f"the function {self.task} on the event loop" if self.callback else f"the coroutine function {self.task}"
        return f"schedules {what} at line {self.line}, which blocks the event loop at {where}"


def is_sync_engine(project: Project, ref: str | None) -> bool:
    """A module-level synchronous engine: built by create_engine & co, here or in a project factory."""
    target = project.resolve(ref)
    if target is None or target.kind != "value" or target.value is None or target.value.kind != "call":
        return False
    callee = project.canonical(target.value.ref)
    if callee in _SYNC_ENGINES:
        return True
    factory = project.function(target.value.ref)
    if factory is None:
        return False
    module, function = factory
    return any(e.scope == function.key and project.canonical(e.callee) in _SYNC_ENGINES for e in module.engines)


def engine_work(project: Project, fid: FunctionId) -> list[Blocking]:
    """The function's own calls that take a synchronous engine's connection, or run a statement
    on a synchronous Connection it was given (a handler's parameters: FastAPI fills them).

    - Engine work: `with engine.connect() as conn`, `with engine.begin() as conn`,
      `engine.raw_connection()` (and 1.x `engine.execute(...)`) where `engine` is a module-level
      synchronous engine (`create_engine(...)`, `engine_from_config(...)`, SQLModel's, or a
      project function that builds one), or any other value the value flow finds one in (the
      `engine` attribute of a module-level wrapper object, `self.engine` in its methods), and
      `Base.metadata.create_all(engine)` (DDL). Taking a connection from the pool and every
      statement on it is blocking IO.
    - An engine handed to code that connects with it: `inspect(engine)`, `md.reflect(bind=engine)`,
      `Table(name, md, autoload_with=engine)`, a library outside SQLAlchemy (`pd.read_sql(q, engine)`).
    - Connection work: a statement (`conn.execute(...)`, `scalar`, `commit`, ...) on a synchronous
      Connection the function did not open itself: a parameter declared `Connection`, one a
      dependency yields (`conn = Depends(get_conn)` around `with engine.begin() as conn: yield
      conn`), one callers hand an unannotated parameter (`owner_name(conn, id)`), `self.conn` of a
      repository built on one. A Connection opened in the function is reported where it is opened.
    """
    return [b for b, _ in _engine_work(project, fid)]


def _engine_work(project: Project, fid: FunctionId) -> list[tuple[Blocking, str | None]]:
    """Each blocking call, with the parameter whose Connection it runs on (None for the rest):
    a helper's parameter holds a synchronous Connection only where its caller passes one (a
    `conn: Connection` given `await session.connection()` holds an AsyncConnection)."""
    memo = cast("dict[FunctionId, list[tuple[Blocking, str | None]]]", project.derived.setdefault("engine_work", {}))
    if fid in memo:
        return memo[fid]
    _, function = project.functions[fid]
    params = {p.name for p in function.params}
    found: list[tuple[Blocking, str | None]] = []
    for call in function.calls:
        if call.offloaded:
            continue
        expression = call.callee if call.callee is not None else call.func
        if expression is None:
            continue
        handed = _handed_engine(project, fid, call)
        if handed is not None:
            found.append((Blocking(call.line, handed), None))
            continue
        owner, dot, method = expression.rpartition(".")
        if dot and method in CONNECTION_IO_METHODS and _received_connection(project, fid, function, owner):
            param = owner[1:] if owner[1:] in params else None
            found.append((Blocking(call.line, f"{project.written(owner)}.{method}()"), param))
            continue
        if not dot or method not in ENGINE_IO_METHODS | METADATA_DDL:
            continue
        if method in ENGINE_IO_METHODS and call.callee is not None and is_sync_engine(project, owner):
            found.append((Blocking(call.line, f"{owner.rsplit('.', 1)[-1]}.{method}()"), None))
        elif method in ENGINE_IO_METHODS and project.flow.holds(fid, owner, ENGINE) is not None:
            # `db.engine.connect()` on a module-level wrapper, `self.engine.begin()` in its methods,
            # an engine a project function returns: the value flow finds the engine
            found.append((Blocking(call.line, f"{project.written(owner)}.{method}()"), None))
        elif call.callee is not None and method in METADATA_DDL and owner.rpartition(".")[2] == "metadata":
            # Called, not handed to `conn.run_sync(...)`: it runs on a synchronous engine's connection.
            found.append((Blocking(call.line, f"metadata.{method}()"), None))
    memo[fid] = found
    return found


def engine_work_in_coroutines(project: Project, fid: FunctionId) -> dict[str, list[Blocking]]:
    """The function's own engine work inside a nested `async def` it defines (`async def gen()`
    handed to a `StreamingResponse`), by the nested function's name: the event loop runs it
    whatever the function is, so converting the function to `def` moves none of it off the loop."""
    _, function = project.functions[fid]
    scopes = {call.line: call.coroutine for call in function.calls if call.coroutine is not None and not call.offloaded}
    found: dict[str, list[Blocking]] = {}
    for blocking in engine_work(project, fid):
        scope = scopes.get(blocking.line)
        if scope is not None:
            found.setdefault(scope, []).append(blocking)
    return found


def nested_engine_text(scopes: dict[str, list[Blocking]], when: str) -> list[str]:
    """Per nested coroutine: where it does engine work and the fix. `when`: when the loop runs it."""
    return [
        f"does synchronous engine work at {engine_summary(found)} inside the nested coroutine `{scope}`, which "
        f"the event loop runs {when}: make `{scope}` a plain def (a sync generator is iterated in the "
        "threadpool) or move its work to the async engine"
        for scope, found in scopes.items()
    ]


def _handed_engine(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """A call given a synchronous engine that connects with it: `inspect(engine)`,
    `md.reflect(bind=engine)`, `Table(name, md, autoload_with=engine)`, and code outside the
    project and SQLAlchemy given it (`pd.read_sql(q, engine)`). SQLAlchemy's other calls taking
    an engine (`sessionmaker(engine)`, `Session(engine)`, `event.listen(engine, ...)`) connect
    later, if at all, and project functions are followed through the call graph."""
    from async_migrate.codemods.received import argument_values

    if not call.args:
        return None
    callee = project.canonical(call.callee) or call.callee
    method = call.method or (callee or call.func or "").rpartition(".")[2]
    if method in METADATA_DDL and (call.callee or "").rpartition(".")[0].rpartition(".")[2] == "metadata":
        return None  # `Base.metadata.create_all(engine)`: said as `metadata.create_all()` below
    inspects = callee in _INSPECT or method in METADATA_DDL
    # `df.to_sql("t", con=engine)`: a method of an object the analysis cannot type, given the
    # engine, connects with it as a library function given one does
    untyped = callee is None and call.func is not None and "." in call.func and method not in _BINDS_ONLY
    # What the call is decides first (asked for every call): the arguments' values only where
    # an engine among them would be reported.
    if not inspects and not untyped and callee not in TABLE_TYPES and _not_connecting(project, call, callee):
        return None
    engines = [
        arg for arg in call.args
        if is_sync_engine(project, arg.ref)
        or any(v.kind == ENGINE for v in argument_values(project, project.flow, fid, call, arg))
    ]
    if not engines:
        return None
    arg = engines[0]
    given = f"{arg.keyword}={arg.name or 'engine'}" if arg.keyword else (arg.name or "engine")
    written = project.written(call.func) if callee is None and call.func else (callee or "").rpartition(".")[2]
    if inspects:
        return f"{written}({given})"
    if callee in TABLE_TYPES and arg.keyword == "autoload_with":
        return f"{written}(..., {given})"
    if untyped:
        return f"{written}({given})"
    if _not_connecting(project, call, callee):
        return None
    return f"{callee}({given})"


def _not_connecting(project: Project, call: facts.Call, callee: str | None) -> bool:
    """A call that connects with no engine handed to it: none named, the project's own code
    (followed through the call graph), or one that connects later or never."""
    if callee is None:
        return True
    target = project.resolve(call.callee)
    if target is not None and target.kind != "external":
        return True
    if project.flow.classes.resolve(call.callee) is not None:
        # a project class built with the engine (`Counter(engine)`): its `__init__` is followed through
        # the call graph, and what its methods do with the engine it keeps through `received`
        return True
    return callee.partition(".")[0] in _CONNECTS_LATER or callee in _NO_IO or callee in OFFLOADERS


def _received_connection(project: Project, fid: FunctionId, function: facts.Function, owner: str) -> bool:
    """Whether `owner` holds a synchronous Connection the function did not open itself: a
    local name every binding of which opens one here (`with engine.begin() as conn`,
    `conn = engine.connect()`) is reported at that opening call instead."""
    head, _ = split(owner)
    if not head.startswith("$") or project.flow.holds(fid, owner, CONNECTION) is None:
        return False
    name = head[1:]
    if any(p.name == name for p in function.params):
        return True
    bound = [b for b in function.bindings if b.name == name]
    return not bound or not all(_opens_connection(b.expr) for b in bound)


def _opens_connection(expression: str) -> bool:
    """`engine.begin()`, `db.engine.connect()`: a call opening a Connection on an engine."""
    return expression.endswith("()") and expression[:-2].rpartition(".")[2] in CONNECTION_OPENERS


def _connections_passed(
    project: Project, edge: Edge, caller_given: frozenset[str] | None
) -> frozenset[str]:
    """The callee's parameters the call hands a synchronous Connection. `caller_given`: the
    caller's own parameters that hold one (None: whatever the flow says, for a handler)."""
    from async_migrate.codemods.received import argument_values

    _, caller = project.functions[edge.caller]
    _, callee = project.functions[edge.callee]
    own = {p.name for p in caller.params}
    found = set()
    for arg in edge.call.args:
        name = facts.parameter_of(callee, arg)
        if name is None:
            continue
        if caller_given is not None and arg.name in own:
            holds = arg.name in caller_given
        else:
            values = argument_values(project, project.flow, edge.caller, edge.call, arg)
            holds = any(v.kind == CONNECTION for v in values)
        if holds:
            found.add(name)
    return frozenset(found)


def connection_dependencies(
    project: Project, fid: FunctionId, seen: frozenset[FunctionId] = frozenset()
) -> list[tuple[str, str]]:
    """The function's parameters a dependency fills with a synchronous Connection (`conn:
    Connection = Depends(get_conn)`), or with something built on one (`ledger = Depends(get_ledger)`
    where `get_ledger(conn = Depends(get_conn))`): (parameter, dependency as written). FastAPI
    runs that dependency once per request, so every route and dependency naming it shares its
    transaction."""
    _, function = project.functions[fid]
    env = project.flow.env(fid)
    direct, built = [], []
    for param in function.params:
        depends = project.param_dependency(param)
        if depends is None:
            continue
        written = (param.name, param.default or param.text or param.name)
        if any(v.kind == CONNECTION for v in env.get(param.name, ())):
            direct.append(written)
            continue
        inner = [d for d in project.dependency_callables(depends) if d not in seen and d != fid]
        if any(connection_dependencies(project, d, seen | {fid}) for d in inner):
            built.append(written)
    return direct + built


def engine_work_reached(project: Project, fid: FunctionId) -> list[Blocking]:
    """The function's own engine work, and its calls (not offloaded) to project functions that
    do engine work themselves or further down: `helper(...)` at the line of the call."""
    # The calls reaching engine work, kept with the project: phase one, check and each subsystem
    # scan previews ask this of the same handler. Each answer is made of new `Blocking`s, as the
    # callers mark them offloaded.
    memo = cast("dict[FunctionId, list[tuple[int, str]]]", project.derived.setdefault("engine_work_reached", {}))
    reached = memo.get(fid)
    if reached is None:
        reached = memo[fid] = []
        for edge in project.all_calls_from[fid]:
            if edge.call.offloaded or edge.callee == fid:
                continue
            if engine_inside(project, edge.callee, {fid}, _connections_passed(project, edge, None)):
                module, callee = project.functions[edge.callee]
                reached.append((edge.call.line, f"{module.name}.{callee.qualname}(...)"))
    return engine_work(project, fid) + [Blocking(line, call) for line, call in reached]


def engine_inside(
    project: Project, fid: FunctionId, seen: set[FunctionId], given: frozenset[str] | None = None
) -> list[str]:
    """Where a function, or what it calls (not offloaded), takes a synchronous engine's
    connection or runs a statement on a synchronous Connection handed down to it: `path:line
    (call)`. `seen`: functions not to enter (the caller); `given`: the function's parameters its
    caller hands a synchronous Connection (None: every parameter that may hold one)."""
    memo = cast(
        "dict[tuple[FunctionId, frozenset[str] | None], list[tuple[FunctionId, str]]]",
        project.derived.setdefault("engine_inside", {}),
    )
    key = (fid, given)
    if key not in memo:
        visited = [fid]
        frontier = [fid]
        while frontier:
            current = frontier.pop(0)
            for edge in project.all_calls_from[current]:
                if not edge.call.offloaded and edge.callee not in visited:
                    visited.append(edge.callee)
                    frontier.append(edge.callee)
        # Which parameters hold a synchronous Connection, from the root down: each a parameter
        # some call among the visited hands one; to a fixpoint, for calls back up the graph.
        held: dict[FunctionId, frozenset[str] | None] = {f: frozenset() for f in visited}
        held[fid] = given
        changed = True
        while changed:
            changed = False
            for current in visited:
                for edge in project.all_calls_from[current]:
                    if edge.call.offloaded or edge.callee not in held or held[edge.callee] is None:
                        continue
                    passed = _connections_passed(project, edge, held[current])
                    before = held[edge.callee]
                    assert before is not None
                    if not passed <= before:
                        held[edge.callee] = before | passed
                        changed = True
        found: list[tuple[FunctionId, str]] = []
        for current in visited:
            module, _ = project.functions[current]
            allowed = held[current]
            found.extend(
                (current, f"{module.path}:{b.line} ({b.call})")
                for b, param in _engine_work(project, current)
                if param is None or allowed is None or param in allowed
            )
        memo[key] = found
    return [where for owner, where in memo[key] if owner not in seen]


def coroutine_tasks(project: Project, fid: FunctionId) -> list[CoroutineTask]:
    """`async def` functions the function schedules as background tasks, that block the loop.

    `background_tasks.add_task(f, ...)`, `BackgroundTask(f, ...)` (a response's `background=`),
    `asyncio.create_task(f(...))`, `asyncio.ensure_future(f(...))`, `loop.create_task(f(...))`, a
    TaskGroup's `tg.create_task(f(...))` where `f` is a project `async def` that does synchronous
    Session or engine work. Starlette runs an `async def` task on the event loop (a plain `def`
    one in the threadpool), so it blocks the loop whatever the route is. So does a plain function
    the loop calls back (`loop.call_soon(f)`, `call_later(60, f)`, `call_at`,
    `call_soon_threadsafe`): the loop runs it itself.
    """
    # Asked of each handler by phase one's notes, by `check`'s AM306 and by the workers' check.
    known = cast("dict[FunctionId, list[CoroutineTask]]", project.derived.setdefault("coroutine_tasks", {}))
    found = known.get(fid)
    if found is None:
        found = known[fid] = _coroutine_tasks(project, fid)
    return list(found)


def _coroutine_tasks(project: Project, fid: FunctionId) -> list[CoroutineTask]:
    from async_migrate.codemods.session_work import coroutine_blocking, first_await

    _, function = project.functions[fid]
    by_index = {call.index: call for call in function.calls}
    names = project.session_names_view(fid)
    found = []
    for call in function.calls:
        tasks: list[FunctionId] = []
        task_ref = None
        starter = "start_soon" if call.method == "start_soon" else "add_task"
        if call.method in _FUNCTION_STARTERS or (call.callee or "").endswith(".add_task") or (
            project.canonical(call.callee) in BACKGROUND_TASK
        ):
            if call.method == "start_soon" and any(a.name in names for a in call.args):
                continue  # `tg.start_soon(count, db)`: work on the handler's own Session, reported as such
            first = next((a for a in call.args if a.position == 0), None)
            task_ref = first.ref if first is not None else None
            if first is not None and first.expr is not None:
                # `tg.start_soon(repo.sync, x)`: a method of an object, which nothing here calls
                tasks = project.flow.functions(fid, first.expr)[0]
        elif project.canonical(call.callee) in TASK_STARTERS or _task_method(call) is not None:
            if _task_method(call) is not None:
                starter = f"{call.receiver}.create_task" if call.receiver else "create_task"
            else:
                starter = str(project.canonical(call.callee)).replace(".tasks.", ".")
            inner = next((c for c in by_index.values() if c.argument_of == call.index), None)
            task_ref = inner.callee if inner is not None else None
            if inner is not None and project.function(task_ref) is None:
                # `create_task(worker.run())`: a method of a project instance, through the flow
                method = inner.func or inner.callee
                if method is not None:
                    tasks = project.flow.functions(fid, method)[0]
        target = project.function(task_ref) if task_ref else None
        if target is not None:
            tasks.append((target[0].name, target[1].key))
        callback = _callback_position(call)
        if callback is not None:
            given = next((a for a in call.args if a.position == callback), None)
            if given is not None:
                starter = f"{call.receiver}.{_called_method(call)}" if call.receiver else str(_called_method(call))
                tasks = project.flow.functions(fid, given.expr)[0] if given.expr else []
                found_ref = project.function(given.ref) if given.ref else None
                if found_ref is not None:
                    tasks = [(found_ref[0].name, found_ref[1].key)]
            for task_fid in tasks:
                module, task = project.functions[task_fid]
                inner_work = [] if task.is_async else (
                    coroutine_blocking(project, task_fid, {fid}) + engine_inside(project, task_fid, {fid})
                )
                if inner_work:
                    found.append(CoroutineTask(
                        call.line, f"{module.name}.{task.qualname}", tuple(inner_work), task_fid, starter, callback=True
                    ))
            continue
        for task_fid in tasks:
            module, task = project.functions[task_fid]
            if not task.is_async:
                continue
            inner_work = coroutine_blocking(project, task_fid, {fid}) + engine_inside(project, task_fid, {fid})
            if inner_work:
                registry, kind = _thread_registry(project, task_fid)
                found.append(CoroutineTask(
                    call.line, f"{module.name}.{task.qualname}", tuple(inner_work), task_fid, starter,
                    first_await(module, task), registry=registry, registry_kind=kind,
                ))
    return found


def _thread_registry(project: Project, fid: FunctionId) -> tuple[str, str]:
    """Where the task's work uses a `scoped_session` no code of its own removes, or a Session the
    whole process shares (`path:line`, `call`, and the holder), and what a worker thread makes of
    it (`_REGISTRY_NOTES`); ("", THREAD) for neither."""
    from async_migrate.codemods.phase1.shared_session import shared_session_uses, thread_scoped_uses
    from async_migrate.codemods.phase1.tasks import handed_registry_sessions

    shared = [use for use in shared_session_uses(project, fid) if use.certain]
    if shared:
        use = shared[0]
        return f"at {use.path}:{use.line} (`{use.call}`), on {use.holder}, {use.shared}", SHARED
    for path, line, use in handed_registry_sessions(project, fid)[:1]:
        return f"on {use.holder}, which {path}:{line} hands it", SHARED
    for use in thread_scoped_uses(project, fid):
        kind = SHARED if use.handed or use.one_key else TASK if use.task else THREAD
        return f"at {use.path}:{use.line} (`{use.call}`), on {use.holder}", kind
    return "", THREAD


def _called_method(call: facts.Call) -> str | None:
    """The method a call names, also on a receiver that is a call's result (`get_running_loop().call_soon`)."""
    if call.method is not None:
        return call.method
    return call.func.rpartition(".")[2] if call.callee is None and call.func is not None else None


def _callback_position(call: facts.Call) -> int | None:
    method = _called_method(call)
    return _LOOP_CALLBACKS.get(method) if method is not None else None


def _task_method(call: facts.Call) -> str | None:
    """`create_task` for `loop.create_task(...)`, also on a receiver that is a call's result
    (`asyncio.get_running_loop().create_task(...)`, which names no method on its own)."""
    method = _called_method(call)
    return method if method in _TASK_METHODS else None


def engine_summary(blocking: list[Blocking]) -> str:
    first = blocking[0]
    more = f" and {len(blocking) - 1} more" if len(blocking) > 1 else ""
    return f"line {first.line} (`{first.call}`){more}"



