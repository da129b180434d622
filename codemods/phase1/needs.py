"""What needs a handler to stay a coroutine function, besides its own awaits.

One table, `NEEDS`, gives each kind of need its rule, the reason phase one gives and the fix
`check` gives: the two read the same entry, so a new kind is one row.

Over 500 lines: the table and the readers that find each kind of need in a handler (its own
calls, its decorators, its callers, the values it is used as) stay together, so that a new kind
is a row and its reader in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.phase1 import shared_store, shared_updates, thread_local
from async_migrate.codemods.project import HOOK_KINDS, Edge, FunctionId, Handler, HandlerKind, Project
from async_migrate.codemods.route_wrappers import endpoint_wrappers
from async_migrate.codemods.rules.am109_event_loop_api import RULE as AM109
from async_migrate.codemods.rules.am110_coroutine_decorator import RULE as AM110
from async_migrate.codemods.rules.am111_unverified_decorator import RULE as AM111
from async_migrate.codemods.rules.am112_opaque_decorator import RULE as AM112
from async_migrate.codemods.rules.am113_awaited_by_caller import RULE as AM113
from async_migrate.codemods.rules.am117_event_loop_helper import RULE as AM117
from async_migrate.codemods.rules.am130_used_as_coroutine import RULE as AM130
from async_migrate.codemods.rules.am134_context_variable_set import RULE as AM134
from async_migrate.codemods.rules.am138_loop_bound_primitive import RULE as AM138
from async_migrate.codemods.rules.am139_used_as_value import RULE as AM139
from async_migrate.codemods.rules.am140_updates_module_global import RULE as AM140
from async_migrate.codemods.rules.am141_thread_local_state import RULE as AM141
from async_migrate.codemods.rules.am143_session_on_shared_object import RULE as AM143
from async_migrate.codemods.rules.am168_registered_through_wrapper import RULE as AM168
from async_migrate.codemods.rules.base import Reason, Rule
from async_migrate.codemods.vocabulary.fastapi import DEPENDS
from async_migrate.codemods.vocabulary.python import EVENT_LOOP_ONLY, RAISE_WITHOUT_LOOP
from async_migrate.codemods.vocabulary.starlette import HOOK_DECORATORS


class NeedKind(Enum):
    EVENT_LOOP_API = "event-loop-api"  # the handler calls an API that needs the running loop
    EVENT_LOOP_HELPER = "event-loop-helper"  # a helper it calls does
    CONTEXT_VARIABLE = "context-variable"  # the handler sets a ContextVar
    LOOP_PRIMITIVE = "loop-primitive"  # it (or a helper) calls a method of an asyncio Queue, Event...
    COROUTINE = "coroutine"  # a decorator awaits the function it wraps
    EXTERNAL = "external"  # a decorator from outside the project
    UNKNOWN = "unknown"  # a project decorator the analysis cannot follow
    AWAITED = "awaited"  # a caller awaits the handler
    CALLED = "called"  # a caller uses what the call returns otherwise (`asyncio.run(f())`, `async for`)
    VALUE = "value"  # the function itself is handed on or stored (`asynccontextmanager(f)`)
    # a project router's `add_api_route`/`api_route` override or route class receives the endpoint
    ROUTER_WRAPPER = "router-wrapper"
    # a project decorator (above the route decorator too) hands the function on (`JOBS.append(fn)`)
    DECORATOR_HANDS_ON = "decorator-hands-on"
    GLOBAL_UPDATE = "global-update"  # `global n; n += 1`: threads could interleave the update
    # `self.hits += 1` in a method of an instance every request shares (a callable instance
    # dependency, a route registered as a bound method)
    INSTANCE_UPDATE = "instance-update"
    # `COUNTS[k] += 1`, `Stats.total += 1`: an item or attribute of a module-level object or class
    SHARED_UPDATE = "shared-update"
    # a helper it calls in place updates shared state from its own value (`stats.bump(k)`)
    HELPER_UPDATE = "helper-update"
    # `if key in SEEN: raise ...` then `SEEN.add(key)`: a check of shared state, then a change of it
    # the check decided, in the handler or a helper it calls in place
    CHECK_THEN_ACT = "check-then-act"
    # `next(IDS)` on a generator every request shares (`IDS = _ids()`): as `def`, two threads
    # could resume it at once
    GENERATOR = "shared-generator"
    # a cachetools cache given no `lock=` that the handler, or a helper it calls, reads and writes
    CACHE_UPDATE = "cache-update"
    # a cachetools cache held by an instance every request shares (`self.cache[k] = v`)
    INSTANCE_CACHE = "instance-cache"
    # `threading.local()` state the handler, or a helper it calls in place, reads or sets
    THREAD_LOCAL = "thread-local"
    # the request's Session stored on an object every request shares (`REGISTRY["Order"].session = db`)
    SHARED_STORE = "shared-store"


# The AsyncSession half of the fix for code that stays a coroutine and that phase two does not rewrite
# (middleware, lifecycle and exception handlers, a route class's handler): by hand, on its stack.
BY_HAND_ASYNC = (
    "or, once phase two has built the async stack, open an AsyncSession from its async sessionmaker there and "
    "await its calls by hand (phase two rewrites routes and what they call, not this)"
)

@dataclass(frozen=True, slots=True)
class CoroutineNeed:
    """Something outside a handler's own awaits that needs it to stay a coroutine function."""

    kind: NeedKind
    subject: str  # the API, the decorator as written, or the awaiting caller
    line: int
    where: str = ""  # where the decorator is defined, the helper chain, or the calling line as path:line
    # the path:line of what the helper chain reaches (a shared update); for a decorator, the name
    # `safe-decorators` lists it by
    at: str = ""
    # the store as written, for a Session stored on a shared object
    shared: str = ""
    # of a check-then-act: the check and the change, as written with where each is
    check: str = ""
    act: str = ""

    def reason(self) -> Reason:
        entry = NEEDS[self.kind]
        return entry.rule.reason(entry.reason(self))

    def fix(self) -> str | None:
        """`check`'s fix for this need; None for an event-loop API, whose fixes `check` joins."""
        fix = NEEDS[self.kind].fix
        return fix(self) if fix is not None else None


@dataclass(frozen=True, slots=True)
class _Entry:
    rule: Rule
    reason: Callable[[CoroutineNeed], str]
    fix: Callable[[CoroutineNeed], str] | None


def _unsure_decorator(need: CoroutineNeed) -> str:
    listed = f' as "{need.at}"' if need.at else ""
    return (
        f"@{need.subject}: if it works with plain functions, list it{listed} under safe-decorators in "
        "[tool.async-migrate] and rerun phase one"
    )


def _primitive_call(need: CoroutineNeed) -> str:
    """`EVENTS.put_nowait() on an asyncio.Queue at line 12`, after the helper chain that reaches it."""
    if need.where:
        return f"{need.where}, which calls {need.subject}"
    return f"{need.subject} at line {need.line}"


def _loop_bound_why(subject: str) -> str:
    """Why a call on a loop-bound object fails in a worker thread: a task group or a loop has no
    waiter to miss, it needs the running loop of the thread calling it."""
    if any(word in subject for word in ("TaskGroup", "Nursery", "EventLoop", "task group")):
        return (
            "task groups and event loops belong to the event loop's thread; as `def` it would run in a "
            "worker thread, where starting a task or scheduling a callback raises (no running event loop) "
            "or touches the loop from the wrong thread"
        )
    return (
        "asyncio's primitives are bound to the event loop and not thread-safe; as `def` it would run in "
        "a worker thread, where the call wakes no waiter (a consumer awaiting it hangs)"
    )


def _outside_the_loop(api: str) -> str:
    """What `api` does called from a worker thread of the threadpool, which runs no event loop."""
    if api not in EVENT_LOOP_ONLY:
        # `self._loop.call_soon(...)`: a method of a loop the code kept, called from another thread
        return (
            "as `def` it would run in a worker thread, and a loop's methods are not thread-safe: called from "
            "another thread they do not wake the loop, so what they schedule runs late or not at all (and "
            "`run_until_complete` raises RuntimeError on the running loop)"
        )
    if api in RAISE_WITHOUT_LOOP:
        return (
            "it needs the running event loop, and as `def` it would run in a worker thread, which has none: the "
            "call raises RuntimeError there"
        )
    return (
        "it needs the running event loop, and as `def` it would run in a worker thread, which has none: what "
        "it returns fails once entered or awaited there"
    )


def _context_write(need: CoroutineNeed, fix: bool = False) -> str:
    """`sets a context variable, var.set() at line 12`, or through the helper chain that does."""
    if need.where:
        return f"{need.subject} at {need.at}, reached through {need.where}," if fix else (
            f"calls {need.where}, which sets a context variable, {need.subject} at {need.at}"
        )
    return f"{need.subject} (line {need.line})" if fix else f"sets a context variable, {need.subject} at line {need.line}"


NEEDS: dict[NeedKind, _Entry] = {
    NeedKind.EVENT_LOOP_API: _Entry(
        AM109, lambda need: f"uses {need.subject} at line {need.line}, which needs the event loop", None
    ),
    NeedKind.CONTEXT_VARIABLE: _Entry(
        AM134,
        lambda need: f"{_context_write(need)}: as `def` it would run in a worker thread, whose copy of the "
        "request's context the rest of the request never sees",
        lambda need: f"{_context_write(need, fix=True)} keeps it async: offload the Session work instead "
        "(`await run_in_threadpool(...)`)",
    ),
    NeedKind.LOOP_PRIMITIVE: _Entry(
        AM138,
        lambda need: f"calls {_primitive_call(need)}: {_loop_bound_why(need.subject)}",
        lambda need: f"{_primitive_call(need)} keeps it async: offload the Session work instead "
        "(`await run_in_threadpool(...)`), or use a thread-safe primitive (`queue.Queue`, "
        "`loop.call_soon_threadsafe`)",
    ),
    NeedKind.EVENT_LOOP_HELPER: _Entry(
        AM117,
        lambda need: f"calls {need.where}, which uses {need.subject}: {_outside_the_loop(need.subject)}",
        lambda need: f"{need.where} uses {need.subject}: do without it in that helper (phase one then converts "
        "it) or offload the Session work",
    ),
    NeedKind.COROUTINE: _Entry(
        AM110,
        lambda need: f"decorator @{need.subject} ({need.where}) awaits the function it wraps: it needs a "
        "coroutine function",
        lambda need: f"@{need.subject} needs a coroutine function: make it accept plain functions (phase one "
        "then converts it) or offload the Session work",
    ),
    NeedKind.EXTERNAL: _Entry(
        AM111,
        lambda need: f"decorator @{need.subject} is not defined in the project: cannot tell whether it needs "
        "a coroutine function",
        _unsure_decorator,
    ),
    NeedKind.UNKNOWN: _Entry(
        AM112,
        lambda need: f"decorator @{need.subject} ({need.where}) wraps the function in a way the tool cannot "
        "follow",
        _unsure_decorator,
    ),
    NeedKind.AWAITED: _Entry(
        AM113,
        lambda need: f"awaited by {need.subject} ({need.where}): that call would break as `def`",
        lambda need: f"awaited by {need.subject} ({need.where}): call it without await there, then rerun "
        "phase one",
    ),
    NeedKind.CALLED: _Entry(
        AM130,
        lambda need: f"called by {need.subject} ({need.where}) without await: what the call returns is a "
        "coroutine (an async generator, for one that yields: `async for`, `async with` take it), which a "
        "`def` would not return",
        lambda need: f"called by {need.subject} ({need.where}) as a coroutine: call it as a plain function "
        "there, then rerun phase one",
    ),
    NeedKind.VALUE: _Entry(
        AM139,
        lambda need: f"used as a value at {need.where} (`{need.subject}`), not called and not where FastAPI "
        "takes it (Depends, a route registration): what receives it may await it, iterate it or wrap it "
        "(`asynccontextmanager(f)`), which fails on a `def`",
        lambda need: f"`{need.subject}` at {need.where} uses it as a value: give that code a plain function "
        "of its own, then rerun phase one",
    ),
    NeedKind.ROUTER_WRAPPER: _Entry(
        AM168,
        lambda need: f"registered through {need.subject} ({need.where}), which receives the endpoint and "
        f"{need.at}: code awaiting the endpoint needs a coroutine function; as `def` every request would fail there",
        lambda need: f"{need.subject} ({need.where}) receives the endpoint and {need.at}: make it accept plain "
        "functions, or hand the endpoint on to `super()` untouched, then rerun phase one",
    ),
    NeedKind.DECORATOR_HANDS_ON: _Entry(
        AM139,
        lambda need: f"decorator @{need.subject} ({need.where}) receives the function itself (above a route "
        f"decorator too, which returns the function it registers) and hands it on at {need.at}: what receives "
        "it may await it, iterate it or wrap it, which fails on a `def`",
        lambda need: f"@{need.subject} hands the function on at {need.at}: give that code a plain function of its "
        "own, then rerun phase one",
    ),
    NeedKind.INSTANCE_UPDATE: _Entry(
        AM140,
        lambda need: f"updates `{need.subject}` from its own value at line {need.line}, on an instance "
        "every request shares: on the event loop no other request runs in between; as `def`, concurrent "
        "requests would run it in several threads at once, and one could overwrite another's update",
        lambda need: f"the update of `{need.subject}` (line {need.line}) keeps it async: offload the "
        "Session work instead (`await run_in_threadpool(...)`), or guard the update with a `threading.Lock` "
        "(`with self.lock:`, the lock set in `__init__`) and rerun phase one",
    ),
    NeedKind.SHARED_UPDATE: _Entry(
        AM140,
        lambda need: f"updates `{need.subject}` from its own value at line {need.line}, state every request "
        "shares (a module-level object or class, what a factory's closure holds, the application's state): "
        "on the event loop no other request runs in between; as `def`, concurrent requests would run it in "
        "several threads at once, and one could overwrite another's update",
        lambda need: f"the update of `{need.subject}` (line {need.line}) keeps it async: offload the Session "
        "work instead (`await run_in_threadpool(...)`), or guard the update with a `threading.Lock` "
        "(`with LOCK:` on a module-level one) and rerun phase one",
    ),
    NeedKind.HELPER_UPDATE: _Entry(
        AM140,
        lambda need: f"calls {need.where}, which updates `{need.subject}` from its own value at {need.at}, "
        "state every request shares: on the event loop no other request runs in between; as `def`, concurrent requests "
        "would run it in several threads at once, and one could overwrite another's update",
        lambda need: f"the update of `{need.subject}` at {need.at}, through {need.where}, keeps it async: offload the "
        "Session work instead (`await run_in_threadpool(...)`), or guard the update with a `threading.Lock` "
        "(`with LOCK:` on a module-level one) and rerun phase one",
    ),
    NeedKind.CHECK_THEN_ACT: _Entry(
        AM140,
        lambda need: (f"calls {need.where}, which " if need.where else "")
        + f"checks `{need.subject}` ({need.check}) and then changes it ({need.act}), state every request "
        "shares: on the event loop no other request runs between the check and the change; as `def`, "
        "concurrent requests would run it in several threads at once, and two could both pass the check "
        "before either changes it (a duplicate, a lost update)",
        lambda need: f"the check of `{need.subject}` ({need.check}) and its change ({need.act})"
        + (f", through {need.where}," if need.where else "")
        + " keep it async: offload the Session work instead (`await run_in_threadpool(...)`), or make both "
        "inside one `with LOCK:` on a module-level `threading.Lock` and rerun phase one",
    ),
    NeedKind.GENERATOR: _Entry(
        AM140,
        lambda need: (f"calls {need.where}, which resumes" if need.where else "resumes")
        + f" the generator `{need.subject}` ({need.at}), which every request shares: on the event loop no other "
        "request runs until it yields; as `def`, concurrent requests would resume it in several threads at once, "
        "and one would fail with `ValueError: generator already executing`",
        lambda need: f"the generator `{need.subject}` ({need.at}"
        + (f", through {need.where}" if need.where else "")
        + ") keeps it async: resume it inside `with LOCK:` on a module-level `threading.Lock` (or use "
        "`itertools.count()`, which threads may share) and rerun phase one",
    ),
    NeedKind.THREAD_LOCAL: _Entry(
        AM141,
        lambda need: f"uses thread-local state `{need.subject}` (threading.local) "
        + (f"through {need.where}" if need.where else f"at line {need.line}")
        + ": on the event loop it shares the loop thread's values with the middleware and the rest of the "
        "request; as `def` it would run in a worker thread and see that thread's values instead",
        lambda need: f"thread-local `{need.subject}` keeps it async: offload the Session work instead "
        "(`await run_in_threadpool(...)`), or carry the value in a ContextVar or on `request.state` and rerun phase one",
    ),
    NeedKind.SHARED_STORE: _Entry(
        AM143,
        lambda need: (f"calls {need.where}, which stores" if need.where else "stores")
        + f" the request's Session on `{need.subject}` ({need.at}: `{need.shared}`), an object every request "
        "shares: on the event loop no other request runs between that store and the code reading the Session "
        "back; as `def`, concurrent requests would overwrite it in several threads at once and run their "
        "queries on one another's Session",
        lambda need: f"`{need.shared}` ({need.at}"
        + (f", through {need.where}" if need.where else "")
        + f") stores the request's Session on `{need.subject}`, which every request shares: keep it async, or "
        "give each request its own object built with its Session instead, then rerun phase one",
    ),
    NeedKind.CACHE_UPDATE: _Entry(
        AM140,
        lambda need: (f"calls {need.where}, " if need.where else "")
        + (
            f"cached by `{need.subject}` ({need.at}) with no `lock=`: every call reads and writes that cache"
            if need.subject.startswith("@")
            else ("which " if need.where else "") + f"writes the module-level cachetools cache `{need.subject}` ({need.at})"
        )
        + ", and cachetools locks none of its caches itself; on the event loop no other request runs in between; as `def`, "
        "concurrent requests would update its bookkeeping in several threads at once and could corrupt it "
        "(a lost size update, a `KeyError` on a key another thread evicted)",
        # not "offload the Session work": the cache is read and written in the same call, so a worker
        # thread would run it as unlocked as a `def` would
        lambda need: (
            f"`{need.subject}` ({need.at}) keeps it async: pass it a `lock=threading.Lock()` and rerun phase one"
            if need.subject.startswith("@")
            else f"the write to `{need.subject}` ({need.at}) keeps it async: make it inside `with LOCK:` on a "
            "module-level `threading.Lock` and rerun phase one"
        ),
    ),
    NeedKind.INSTANCE_CACHE: _Entry(
        AM140,
        lambda need: (f"calls {need.where}, which writes" if need.where else "writes")
        + f" the cachetools cache `{need.subject}` ({need.at}) of an instance every request shares, and cachetools "
        "locks none of its caches itself; on the event loop no other request runs in between; as `def`, concurrent "
        "requests would update its bookkeeping in several threads at once and could corrupt it (a lost size "
        "update, a `KeyError` on a key another thread evicted)",
        # not "offload the Session work": the cache is written in the same call, which a worker thread
        # would run as unlocked as a `def` would
        lambda need: f"the write to `{need.subject}` ({need.at}"
        + (f", through {need.where}" if need.where else "")
        + ") keeps it async: make it inside `with self.lock:` on a `threading.Lock` set in `__init__` and rerun "
        "phase one",
    ),
    NeedKind.GLOBAL_UPDATE: _Entry(
        AM140,
        lambda need: f"updates the module-level `{need.subject}` from its own value at line {need.line}: "
        "on the event loop no other request runs in between; as `def`, concurrent requests would run it "
        "in several threads at once, and one could overwrite another's update",
        lambda need: f"the update of `{need.subject}` (line {need.line}) keeps it async: offload the Session "
        "work instead (`await run_in_threadpool(...)`), or guard the update with a `threading.Lock` "
        "(`with LOCK:` on a module-level one) and rerun phase one",
    ),
}


def _restored_context_variables(project: Project, handler: Handler) -> set[int]:
    """Lines of a route's own `token = var.set(x)` ... `var.reset(token)` pairs: what it sets it
    restores itself, so whether it runs in the request's context or a worker thread's copy, nothing
    after the route sees a difference, and the helpers it calls in between read the value either way.
    Only for a route: a dependency sets the variable for the route, which is another call."""
    if handler.kind != HandlerKind.ROUTE:
        return set()
    function = handler.function
    writes = [c for c in function.calls if project.context_variable_write(c) is not None]
    tokens = {
        b.name: (b.expr.removesuffix(".set()"), b.line)
        for b in function.bindings
        if b.expr.endswith(".set()") and not b.entered
    }
    lines: set[int] = set()
    for call in writes:
        variable, _, method = (call.callee or "").rpartition(".")
        if method != "reset" or len(call.args) != 1 or call.args[0].name not in tokens:
            continue
        written, line = tokens[call.args[0].name]
        if project.canonical(written) == project.canonical(variable):
            lines.update((line, call.line))
    # every set and reset of the route paired: one left alone keeps the route
    if any(c.line not in lines for c in writes):
        return set()
    return lines


def coroutine_needs(project: Project, handler: Handler) -> list[CoroutineNeed]:
    """Read by the rule (reasons to stay async) and by `check` (the fix for each)."""
    function = handler.function
    needs: list[CoroutineNeed] = []
    restored = _restored_context_variables(project, handler)
    for call in function.calls:
        api = project.event_loop_api(call)
        if api is not None:
            kind = NeedKind.CONTEXT_VARIABLE if project.context_variable_write(call) else NeedKind.EVENT_LOOP_API
            if kind is NeedKind.CONTEXT_VARIABLE and call.line in restored:
                continue
            needs.append(CoroutineNeed(kind, api, call.line))
            continue
        # a router factory's `ContextVar` its routes set: as for a module-level one
        written = project.enclosing_context_variable_write(handler.id, call)
        if written is not None:
            needs.append(CoroutineNeed(NeedKind.CONTEXT_VARIABLE, written, call.line))
            continue
        primitive = project.loop_primitive(handler.id, call)
        if primitive is not None:
            needs.append(CoroutineNeed(NeedKind.LOOP_PRIMITIVE, primitive, call.line))
    self_shared = shared_updates.shared_self(project, handler)
    for update in shared_updates.own_updates(project, handler.id, self_shared):
        if update.kind in ("cache", "self-cache"):
            kind = NeedKind.CACHE_UPDATE if update.kind == "cache" else NeedKind.INSTANCE_CACHE
            needs.append(CoroutineNeed(kind, update.subject, update.line, "", f"line {update.line}"))
        elif update.kind == "self":
            needs.append(CoroutineNeed(NeedKind.INSTANCE_UPDATE, update.subject, update.line))
        elif update.kind == "generator":
            needs.append(CoroutineNeed(NeedKind.GENERATOR, update.subject, update.line, "", f"line {update.line}"))
        elif update.kind == "check":
            needs.append(
                CoroutineNeed(
                    NeedKind.CHECK_THEN_ACT, update.subject, update.read_line,
                    check=f"`{update.read}` at line {update.read_line}", act=f"`{update.write}` at line {update.line}",
                )
            )
        else:
            kind = NeedKind.GLOBAL_UPDATE if update.kind == "global" else NeedKind.SHARED_UPDATE
            needs.append(CoroutineNeed(kind, update.subject, update.line))
    helper = shared_updates.reached_update(project, handler.id, self_shared)
    if helper is not None:
        chain = _chain(project, helper.helpers, helper.call_line)
        kind = {
            "cache": NeedKind.CACHE_UPDATE, "self-cache": NeedKind.INSTANCE_CACHE, "generator": NeedKind.GENERATOR,
        }.get(helper.kind, NeedKind.HELPER_UPDATE)
        if helper.kind == "check":
            needs.append(
                CoroutineNeed(
                    NeedKind.CHECK_THEN_ACT, helper.subject, helper.call_line, chain, f"{helper.path}:{helper.line}",
                    check=f"`{helper.read}` at {helper.path}:{helper.read_line}",
                    act=f"`{helper.write}` at {helper.path}:{helper.line}",
                )
            )
        else:
            needs.append(CoroutineNeed(kind, helper.subject, helper.call_line, chain, f"{helper.path}:{helper.line}"))
    for store in shared_store.own_stores(project, handler.id, self_shared)[:1]:
        needs.append(
            CoroutineNeed(NeedKind.SHARED_STORE, store.shared, store.line, "", f"{store.path}:{store.line}", store.written)
        )
    stored = shared_store.reached_store(project, handler.id, self_shared) if not needs or needs[-1].kind is not NeedKind.SHARED_STORE else None
    if stored is not None:
        chain = _chain(project, stored.helpers, stored.call_line)
        needs.append(
            CoroutineNeed(
                NeedKind.SHARED_STORE, stored.shared, stored.call_line, chain, f"{stored.path}:{stored.line}", stored.written
            )
        )
    local = thread_local.own_use(project, handler.id)
    if local is not None:
        needs.append(CoroutineNeed(NeedKind.THREAD_LOCAL, local, handler.function.line))
    else:
        through = thread_local.reached_use(project, handler.id)
        if through is not None:
            chain = _chain(project, through.helpers, through.call_line)
            needs.append(CoroutineNeed(NeedKind.THREAD_LOCAL, through.subject, through.call_line, chain))
    reached = project.event_loop_need(handler.id)
    if reached is not None and reached.helpers:
        names = [f"{project.functions[h][0].name}.{project.functions[h][1].qualname}" for h in reached.helpers]
        last = project.functions[reached.helpers[-1]][0]
        chain = f"{names[0]} (line {reached.line})" + "".join(f" -> {n}" for n in names[1:])
        if reached.unverified:
            chain += f" ({reached.unverified})"
        if reached.context:
            needs.append(
                CoroutineNeed(
                    NeedKind.CONTEXT_VARIABLE, reached.api, reached.line, chain, f"{last.path}:{reached.api_line}"
                )
            )
        elif reached.primitive:
            needs.append(
                CoroutineNeed(
                    NeedKind.LOOP_PRIMITIVE, f"{reached.api} at {last.path}:{reached.api_line}", reached.line, chain
                )
            )
        else:
            needs.append(
                CoroutineNeed(
                    NeedKind.EVENT_LOOP_HELPER, reached.api, reached.line,
                    f"{chain}, at {last.path}:{reached.api_line}",
                )
            )
    for decorator in wrapping_decorators(project, handler):
        shape, where = project.decorator_shape(decorator)
        # the name `safe-decorators` matches it by (`app.limiter.limiter.limit` for `@limiter.limit(...)`)
        listed = project.canonical(decorator.callee) or ""
        if shape in ("coroutine", "external", "unknown"):
            needs.append(CoroutineNeed(NeedKind(shape), decorator.text, decorator.line, where, listed))
        elif shape == "loop":
            # its `async def` wrapper would run the plain def in place, on the event loop all the same
            needs.append(CoroutineNeed(NeedKind.UNKNOWN, decorator.text, decorator.line, where, listed))
    # A method is called through its object (`await self.level()`), which only the object
    # edges see; a function by reference.
    method = "." in handler.function.qualname and project_classes(project).owner(handler.id) is not None
    edges = [*(project.all_calls_to if method else project.calls_to)[handler.id], *_value_calls(project).get(handler.id, [])]
    seen: set[tuple[FunctionId, int]] = set()
    for edge in edges:
        # Every call of a coroutine function relies on what it returns: awaited, handed on
        # (`asyncio.run(f())`), iterated (`async for`), entered (`async with`), kept to await
        # later; even a bare `f()` runs nothing, and would run the body as `def`.
        if (edge.caller, edge.call.index) in seen:
            continue  # one call the object edges and the value calls both see (`await checker(s)`)
        seen.add((edge.caller, edge.call.index))
        module, caller = project.functions[edge.caller]
        needs.append(
            CoroutineNeed(
                NeedKind.AWAITED if edge.call.awaited else NeedKind.CALLED, f"{module.name}.{caller.qualname}",
                edge.call.line, f"{module.path}:{edge.call.line}",
            )
        )
    for decorator in handler.function.decorators:
        safe = project.canonical(decorator.callee) in project.config.safe_decorators
        found = None if safe or project.is_registration(decorator) else project.decorator_function(decorator.callee)
        if found is not None and found[1].hands_wrapped is not None:
            line, written = found[1].hands_wrapped
            needs.append(CoroutineNeed(
                NeedKind.DECORATOR_HANDS_ON, decorator.text, decorator.line, f"{found[0].path}:{found[1].line}",
                f"{found[0].path}:{line} (`{written}`)",
            ))
    for wrapper in endpoint_wrappers(project, handler):
        needs.append(CoroutineNeed(NeedKind.ROUTER_WRAPPER, wrapper.method, handler.function.line, wrapper.where, wrapper.how))
    for path, line, written in _values(project).get(handler.id, [])[:1]:
        needs.append(CoroutineNeed(NeedKind.VALUE, written, line, f"{path}:{line}"))
    return needs


def _chain(project: Project, helpers: tuple[FunctionId, ...], line: int) -> str:
    """`app.stats.bump` (line 12) -> `app.stats.Stats.add`: the helpers a handler calls to reach a need."""
    names = [f"{project.functions[h][0].name}.{project.functions[h][1].qualname}" for h in helpers]
    return f"`{names[0]}` (line {line})" + "".join(f" -> `{n}`" for n in names[1:])


def _values(project: Project) -> dict[FunctionId, list[tuple[str, int, str]]]:
    """Project functions used as values (`facts.Module.escapes`): the function a name stands for,
    or what a module-level value built from it runs (an instance's `__call__`, `partial(f)`'s f)."""
    cached = project.derived.get("phase1.values")
    if cached is None:
        found: dict[FunctionId, list[tuple[str, int, str]]] = {}
        # A GraphQL router's `context_getter=f`: where FastAPI takes it, as with `Depends(f)`. Each
        # site stands for the first escape of that name at or below its call's line.
        sites = sorted(project.context_getter_sites)
        for module in project.modules.values():
            taken = [(ref, line) for name, ref, line in sites if name == module.name]
            for ref, line, written in module.escapes:
                site = next((s for s in taken if s[0] == ref and s[1] <= line), None)
                if site is not None:
                    taken.remove(site)
                    continue
                fid = _runs(project, ref)
                if fid is not None:
                    found.setdefault(fid, []).append((module.path, line, written))
            # a parameter's default (`def job(opener=get_session)`): the body uses it as it likes
            for function in module.functions:
                for param in function.params:
                    fid = _runs(project, param.default_ref) if param.default_ref and not param.depends else None
                    if fid is not None:
                        found.setdefault(fid, []).append((module.path, param.line, f"{param.name}={param.default_ref}"))
        for fid, uses in _factory_values(project).items():
            found.setdefault(fid, []).extend(uses)
        cached = project.derived["phase1.values"] = found
    return cached  # type: ignore[return-value]


def _factory_values(project: Project) -> dict[FunctionId, list[tuple[str, int, str]]]:
    """The functions dependency factories return (`requires("admin")` for `def requires(role):
    async def inner(...): ...; return inner`) where a call of the factory hands its result on as a
    value: into a list, to another call, to a local name (`check = requires("b")`), a return. Not
    where FastAPI takes it (`Depends(requires("admin"))`), nor called at once (`_value_calls`),
    nor the whole value of a module-level name (that name's uses are its own escapes)."""
    made: dict[str, FunctionId | None] = {}

    def nested(ref: str | None) -> FunctionId | None:
        if ref is None:
            return None
        if ref not in made:
            target = project.function(ref)
            made[ref] = next(iter(_made(project, f"{ref}()")), None) if target is not None and target[1].returned else None
        return made[ref]

    uses: dict[FunctionId, list[tuple[str, int, str]]] = {}
    for module in project.modules.values():
        for ref, line in module.made_values:
            fid = nested(ref)
            if fid is not None:
                uses.setdefault(fid, []).append((module.path, line, f"{ref.rpartition('.')[2]}(...)"))
        for function in module.functions:
            factory_calls = [
                (call, callee, fid) for call in function.calls if (callee := call.callee) and (fid := nested(callee))
            ]
            if not factory_calls:
                continue
            by_index = {call.index: call for call in function.calls}
            at_once = {call.func for call in function.calls if call.func is not None and call.func.endswith("()")}
            for call, callee, fid in factory_calls:
                parent = by_index.get(call.argument_of) if call.argument_of is not None else None
                if parent is not None and project.canonical(parent.callee) in DEPENDS:
                    continue
                if parent is None and f"{callee}()" in at_once and not any(b.expr == f"{callee}()" for b in function.bindings):
                    continue
                uses.setdefault(fid, []).append((module.path, call.line, f"{callee.rpartition('.')[2]}(...)"))
    return uses


def _value_calls(project: Project) -> dict[FunctionId, list[Edge]]:
    """Calls of a value that runs a project function: `await require_admin(db=s)` for
    `require_admin = Permission("admin")` runs `Permission.__call__`, as does `await p(db=s)` for
    a local `p` bound to `Permission(...)` or a parameter annotated `Permission`, or an instance
    built and called at once (`await Permission("admin")(db=s)`)."""
    cached = project.derived.get("phase1.value_calls")
    if cached is None:
        found: dict[FunctionId, list[Edge]] = {}
        classes = project_classes(project)
        for fid, (_module, function) in project.functions.items():
            for call in function.calls:
                if call.func is not None and call.func.startswith("$") and call.func[1:].isidentifier():
                    for held in _local_values(function, call.func[1:]):
                        runs = None if held.endswith("()") else _runs(project, held)
                        # `p = Permission(...)`, or a parameter annotated with the class
                        cls = classes.resolve(held.removesuffix("()")) if runs is None else None
                        targets = [runs] if runs is not None else classes.method(cls, "__call__")[0] if cls else []
                        if not targets and held.endswith("()"):
                            targets = _made(project, held)  # `check = requires("x")`, a factory's function
                        for runs in targets:
                            found.setdefault(runs, []).append(Edge(fid, runs, call, {}))
                    continue
                if call.func is not None and not call.func.startswith("$") and call.func.endswith("()"):
                    # `await Permission("admin")(db)`: an instance built in place and called at once;
                    # `await requires("admin")(request, db)`: the function a factory returns, likewise
                    cls = classes.resolve(call.func.removesuffix("()"))
                    for runs in classes.method(cls, "__call__")[0] if cls else _made(project, call.func):
                        found.setdefault(runs, []).append(Edge(fid, runs, call, {}))
                    continue
                if call.func is not None or call.callee is None:
                    continue
                target = project.resolve(call.callee)
                if target is None or target.kind != "value":
                    continue
                runs = _runs(project, call.callee)
                if runs is not None:
                    found.setdefault(runs, []).append(Edge(fid, runs, call, {}))
        cached = project.derived["phase1.value_calls"] = found
    return cached  # type: ignore[return-value]


def _made(project: Project, ref: str) -> list[FunctionId]:
    """The nested function a project factory call returns on every path (`requires("x")` for
    `def requires(kind): async def inner(...): ...; return inner`), as [its id]; [] for anything else."""
    found = project.endpoint(ref)
    return [(found[0].name, found[1].key)] if found is not None else []


def _local_values(function: facts.Function, name: str) -> set[str]:
    """What a local name may hold, as value-flow expressions on module-level references: what a
    binding gives it (`p = Permission("x")`, `check = require_admin`) and a parameter's
    annotation (an instance of that class)."""
    held = {b.expr for b in function.bindings if b.name == name and not b.entered}
    held.update(ref for p in function.params if p.name == name for ref in p.annotation)
    return {ref for ref in held if not ref.startswith("$") and "(" not in ref.removesuffix("()")}


def _runs(project: Project, ref: str) -> FunctionId | None:
    target = project.resolve(ref)
    if target is None or target.kind not in ("function", "value"):
        return None
    if target.kind == "value" and (target.value is None or target.value.kind != "call"):
        return None
    found = project.endpoint(ref)
    return (found[0].name, found[1].key) if found is not None else None


def wrapping_decorators(project: Project, handler: Handler) -> list[facts.Decorator]:
    """The decorators whose result FastAPI (or a dependant) receives, in source order.

    A route decorator registers the function as it is at that point: a decorator
    listed above it runs later and wraps only the module attribute, which FastAPI
    never calls. Only decorators below the topmost route decorator can need a
    coroutine function, unless the function is also reached as a dependency or
    registered through `add_api_route(...)`, where the fully decorated attribute is used.
    """
    decorators = handler.function.decorators

    def registers(decorator: facts.Decorator) -> bool:
        # a hook's own decorator (`@app.on_event("startup")` on a startup handler) registers it
        return project.is_registration(decorator) or (
            handler.kind in HOOK_KINDS and decorator.is_call and decorator.attr in HOOK_DECORATORS
        )

    registered = [i for i, d in enumerate(decorators) if registers(d)]
    whole = handler.kind == HandlerKind.DEPENDENCY or any(r.decorator is None for r in handler.registrations)
    if whole or not registered or project.is_dependency(handler.id):
        return [d for d in decorators if not registers(d)]
    return [d for d in decorators[registered[0] + 1 :] if not registers(d)]
