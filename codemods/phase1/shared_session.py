"""Session objects the whole process shares: what phase one must not move to the threadpool.

An `async def` route runs on the event loop thread, one at a time between awaits, so a Session
the whole process shares (a module global, one a long-lived object or a cache keeps) is used by
one request at a time; as `def`, concurrent requests would use it from several threads at once,
and a `Session` is not thread-safe (AM126; the shapes found are listed there). A thread-local
`scoped_session` is not shared, but has its own harm (AM132). The value flow tells them apart:
it gives a `scoped_session` both `factory` and `session` values, a plain Session only `session`.

Over 500 lines: every shape of a process-wide Session (globals, instances and what they keep,
class attributes, caches, thread-scoped registries) reads the same value flow and reach walk;
apart, each part would import the others' private readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from async_migrate.codemods import facts
from async_migrate.codemods.classes import Classes
from async_migrate.codemods.flow import (
    CLASS,
    FACTORY,
    INSTANCE,
    PROCESS,
    QUERY,
    REGISTRY,
    REPEATED,
    REQUEST,
    SESSION,
    TASK,
    THREAD,
    Values,
    app_state_name,
    context_variable_ref,
    in_order,
    local_proxy_source,
    registry_scope_of,
    scope_argument,
    split,
    state_attribute,
)
from async_migrate.codemods.handed_constants import NO_SPANS, Spans, dead_in_reach, within
from async_migrate.codemods.phase1.registry_handed import registry_of, state_registry
from async_migrate.codemods.phase1.shared_updates import shared_self
from async_migrate.codemods.phase1.thread_local import thread_local_objects
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.provided_sessions import shared_provided
from async_migrate.codemods.session_work import handed_held_sessions, session_work_view
from async_migrate.codemods.vocabulary.dependency_injector import SINGLE_INSTANCE_PROVIDERS
from async_migrate.codemods.vocabulary.python import CACHED_PROPERTIES, CACHES, CONTEXT_MANAGER_DECORATORS
from async_migrate.codemods.vocabulary.sqlalchemy import SCOPED_SESSION_MAKERS, SESSION_IO_METHODS

if TYPE_CHECKING:
    from async_migrate.codemods.handlers import Handler
    from async_migrate.codemods.outcome import Blocking

_DEPTH = 8  # helpers deeper than this are not followed; phase one's other reasons see them


@dataclass(frozen=True, slots=True)
class SharedUse:
    """One use of a process-wide Session: where, the call as written, and what holds the Session."""

    path: str
    line: int
    call: str
    holder: str
    # False: reached through a property or method of a module-level object, which may hand out a
    # Session per thread or per request as well as one for the whole process.
    certain: bool = True
    # `self.x` in a method of this class, which opens the Session into `self.x` itself (a unit of
    # work's `__enter__`): shared only where the handler works on a process-wide instance of it.
    instance_of: str | None = None
    # What to do instead, when the general advice (a Session per request) does not fit the holder.
    remedy: str = ""
    # The registry is keyed on the asyncio task: in a worker thread its Session cannot be had at all.
    task: bool = False
    # A dependency hands the route the registry's Session of the thread it ran on, which other
    # requests get as well.
    handed: bool = False
    # The registry's key is the same for every request (a context variable nothing sets).
    one_key: bool = False
    # Where the registry is made (`app.py:8`), whatever name reaches it (`db_session`, or `User.query`
    # from its `query_property()`): one registry, which one `remove()` empties; "" when not known.
    registry: str = ""
    # In the block of a `with` entering the registry's own Session (`with self.Session() as s:`),
    # whose exit closes it, or its `begin()`, whose exit ends the transaction: the thread keeps no
    # transaction nor connection past the block.
    closed: bool = False

    @property
    def shared(self) -> str:
        """What the Session is, for a reason: the process's one, or possibly so."""
        if self.certain:
            return "one Session the whole process shares"
        return "which may be one Session the whole process shares (or one per thread or per request: the analysis cannot tell)"


def shared_session_uses(project: Project, fid: FunctionId) -> list[SharedUse]:
    """Uses of a process-wide Session by `fid` and the project functions it reaches, in call order."""
    return _resolved(project, fid, _reached(project, fid, "shared_session_uses", _own_uses))


def offloaded_shared_uses(project: Project, fid: FunctionId) -> list[SharedUse]:
    """Uses of a process-wide Session, certainly so, in the work `fid` hands to a worker thread
    (`await run_in_threadpool(bus.handle, cmd)`, `asyncio.to_thread(services.count, uow)` with a
    module-level `uow`): each request runs it on a thread of its own, all on the one Session."""
    edges = [edge for edge in project.all_calls_from.get(fid, ()) if edge.call.offloaded]
    if not edges:
        return []
    module, _ = project.functions[fid]
    lines = {edge.call.line for edge in edges}
    uses = [use for use in _own_uses(project, fid) if use.path == module.path and use.line in lines]
    for edge in edges:
        uses.extend(_reached(project, edge.callee, "shared_session_uses", _own_uses))
    return [use for use in _resolved(project, fid, uses) if use.certain]


def unseen_shared_openers(project: Project, fid: FunctionId) -> tuple[str, str, str] | None:
    """A process-wide instance `fid` works on (`bus.uow` of a module-level bus, what an
    `@lru_cache` dependency returns) whose class opens a Session into an attribute of its own (a
    unit of work's `self.session`), when what `fid` runs on it the analysis cannot read (a message
    bus's handler table): (the instance, its class, the attribute), or None. Not a use seen: one
    the handler may make, as every request does on that one object."""
    if fid not in project.unverified_chains:
        return None
    for cls, ref in _process_wide_instances(project, fid):
        attribute = _opened_into(project, cls)
        if attribute is not None:
            return ref, project.flow.classes.short(cls), attribute
    return None


def _opened_into(project: Project, cls: str) -> str | None:
    """The attribute of its own a class (or a base) opens a Session into (a unit of work's
    `self.session = self.session_factory()`), or None."""
    flow = project.flow
    for ancestor in flow.classes.mro(cls):
        for (owner, attribute), assigned in flow.classes.assigned.items():
            if owner == ancestor and any(
                expression.endswith("()") and SESSION in {v.kind for v in flow.evaluate(assigning, expression)}
                for assigning, expression in assigned
            ):
                return attribute
    return None


def unseen_offloaded_openers(project: Project, fid: FunctionId) -> tuple[str, str, str, list[str]] | None:
    """`unseen_shared_openers` for the work `fid` hands to a worker thread (`await
    run_in_threadpool(bus.handle, cmd)` on a module-level bus whose handler table is unread): the
    instance, its class, the attribute, and the chain to what is unread; or None. Only an
    instance the offloaded call names counts: one the handler uses on the loop takes turns."""
    chains = project.unverified_chains
    edges = [edge for edge in project.all_calls_from.get(fid, ()) if edge.call.offloaded and edge.callee in chains]
    if not edges:
        return None
    for edge in edges:
        written = [a.ref for a in edge.call.args if a.ref]
        if edge.call.callee:
            written.append(edge.call.callee)
        for cls, ref in _process_wide_instances(project, edge.caller):
            owner = ref.rsplit(".", 1)[0]
            if not any(name == ref or name.startswith((ref + ".", owner + ".")) for name in written):
                continue
            attribute = _opened_into(project, cls)
            if attribute is not None:
                _, callee = project.functions[edge.callee]
                return ref, project.flow.classes.short(cls), attribute, [callee.qualname, *chains[edge.callee]]
    return None


def _resolved(project: Project, fid: FunctionId, uses: list[SharedUse]) -> list[SharedUse]:
    """`uses` with each `self.x` a unit of work opens named by the process-wide instance of its
    class `fid` works on; dropped where `fid` works on none (each request builds its own)."""

    bound = {ref for _, ref in _bound_instance(project, fid)}

    def named(use: SharedUse, instance: str) -> SharedUse:
        assert use.instance_of is not None
        short = project.flow.classes.short(use.instance_of)
        remedy = (
            f"give each request its own {short} (a dependency returning `{short}()`, or one built in the "
            f"route) instead of `{instance}`"
        )
        if instance in bound:  # the handler is a method of that instance: it cannot be built per request
            remedy = (
                f"give each request its own Session (a `Depends(get_db)` parameter of "
                f"`{project.functions[fid][1].qualname}`) instead of the one `{instance}` keeps"
            )
        holder = use.holder.format(instance=instance)
        if instance.startswith("app.state."):  # kept by the application, not a module global
            holder = holder.replace("module-level instance", "instance")
        cached = _cached_builder(project, instance.partition("()")[0]) if "()" in instance else None
        shape = _sharing_shape(project, instance)
        if shape is not None:
            holder = holder.replace("module-level instance", "instance").replace(" every request gets", "")
            holder += f", {shape[0]}"
            remedy = f"give each request its own {short}: {shape[1]}"
        elif cached is not None:
            cache, where = cached
            holder = holder.replace("module-level instance", "instance") + (
                f", whose `@{cache}` ({where}) hands it to every caller"
            )
            remedy = (
                f"give each request its own {short}: drop the `@{cache}` from "
                f"`{instance.partition('()')[0].rpartition('.')[2]}()` ({where})"
            )
        return replace(use, holder=holder, instance_of=None, remedy=remedy)

    return on_process_wide_instances(project, fid, uses, named)


_Use = TypeVar("_Use", bound="_OnInstance")


class _OnInstance(Protocol):
    @property
    def instance_of(self) -> str | None: ...


def on_process_wide_instances(
    project: Project, fid: FunctionId, uses: list[_Use], named: Callable[[_Use, str], _Use]
) -> list[_Use]:
    """`uses` with each use of `self.x` on a class (`instance_of`) `named` by the reference to
    the process-wide instance of it `fid` works on; dropped where `fid` works on none (each
    request builds its own). Serves a Session (`SharedUse`) and a connection (`thread_bound.py`)."""
    if not any(use.instance_of for use in uses):
        return uses
    held = _process_wide_instances(project, fid)
    found = []
    for use in uses:
        if use.instance_of is None:
            found.append(use)
            continue
        instance = held_instance(project, held, use.instance_of)
        if instance is not None:
            found.append(named(use, instance))
    return found


def _stored_on(project: Project, held: str, attribute: str) -> bool:
    """Whether a function stores `attribute` on the module-level object `held` (`state.db = db`)."""
    target = project.canonical(held) or held
    return any(
        (project.canonical(receiver) or receiver) == target
        for _, _, receiver, _, _ in project.flow.classes.stored(attribute)
        if not receiver.startswith("$")
    )


def thread_registry_uses(project: Project, fid: FunctionId) -> list[SharedUse]:
    """Uses of a thread-local registry by `fid` and what it reaches, its `remove()` among them
    (which `thread_scoped_uses` drops), not those a dependency hands it."""
    return [
        use for use in _reached(project, fid, "thread_scoped_uses", _own_scoped_uses) if not use.handed and not use.closed
    ]


def offload_note(project: Project, fid: FunctionId, lines: set[int] | None = None) -> str:
    """For advice to move a handler's Session work into `run_in_threadpool`: empty, or why that
    must not take the process's one Session along (a middleware on `db = SessionLocal()`).
    `lines`: only the registry's uses at those lines of `fid`'s own module (the blocking ones)."""
    uses = [use for use in shared_session_uses(project, fid) if use.certain]
    if not uses:
        scoped = thread_registry_uses(project, fid)
        if lines is not None:
            path = project.functions[fid][0].path
            scoped = [use for use in scoped if use.path == path and use.line in lines]
        if not scoped:
            return ""
        use = scoped[0]
        return (
            f"; not the work on the registry ({use.path}:{use.line}, `{use.call}`): {use.holder}: in a worker "
            "thread it reaches that thread's Session, not the one the request used on the event loop, which a "
            "`remove()` there would then leave open; keep the registry's calls on the loop (silence this with a "
            "pragma naming why) or scope the registry to the request (`scopefunc=` a context variable set per request)"
        )
    use = uses[0]
    return (
        f"; not on the Session it uses now ({use.path}:{use.line}): {use.holder}, is {use.shared}, and "
        "in a worker thread it would be used beside the requests on the event loop: have the helper open "
        "its own Session (`with SessionLocal() as session:`)"
    )


def thread_scoped_uses(project: Project, fid: FunctionId) -> list[SharedUse]:
    """Uses of a thread-local `scoped_session` (no `scopefunc=`) by `fid` and what it reaches,
    unless that code also calls its `remove()` itself however it is left (`_unguarded`).

    An `async def` route uses the event loop thread's Session, which code on that thread (an
    HTTP middleware, an async dependency) closes with `remove()` after each request. As `def`
    the route runs on a threadpool worker, whose Session that `remove()` never reaches: each
    worker keeps its Session, and its open transaction and connection, from one request to the
    next.
    """
    uses = _reached(project, fid, "thread_scoped_uses", _own_scoped_uses)
    members: list[tuple[FunctionId, int, SharedUse]] = []
    if _registries_possible(project) and _thread_local_registries(project):
        members = _member_uses_at(project, fid)
        uses = uses + [use for _, _, use in members]
    _, function = project.functions[fid]
    # FastAPI runs a plain generator dependency's code before and after its `yield` in two
    # threadpool calls, which may land on two workers: the `remove()` after the yield may empty
    # another thread's registry, so it proves nothing.
    uses = [use for use in uses if not use.closed]
    removed = set() if function.is_generator or not any(_removing(use) for use in uses) else {
        _registry_key(use) for use in uses if _removing(use)
    } - {_registry_key(use) for use in _unguarded(project, fid, members)}
    handed = [use for param in function.params if (use := registry_dependency(project, param)) is not None]
    return handed + [use for use in uses if _registry_key(use) not in removed]


def unguarded_remove(project: Project, fid: FunctionId, use: SharedUse) -> SharedUse | None:
    """The first `remove()` of `use`'s registry that `fid` (or what it calls) runs, when that
    registry is still reported: a `remove()` some exception or early return skips (none in a
    `finally` around the work, or in the `finally` of a `@contextmanager` the work runs in)."""
    if use.task or use.one_key or use.handed or project.functions[fid][1].is_generator:
        return None  # a generator's `remove()` after its `yield` may run on another thread: said apart
    key = _registry_key(use)
    return next(
        (found for found in _reached(project, fid, "thread_scoped_uses", _own_scoped_uses)
         if _removing(found) and _registry_key(found) == key),
        None,
    )


def first_work(uses: list[SharedUse]) -> SharedUse:
    """The use to name of `thread_scoped_uses` (not empty): the first one that is not a `remove()`."""
    return next((use for use in uses if not use.call.endswith(".remove()")), uses[0])


def unguarded_remove_fix(project: Project, fid: FunctionId, use: SharedUse) -> str | None:
    """Where `fid` (or what it calls) removes `use`'s registry on some paths only: the fix that
    keeps the registry thread-local (a `finally`), or None."""
    removed = unguarded_remove(project, fid, use)
    if removed is None:
        return None
    return (
        f"its `{removed.call}` ({removed.path}:{removed.line}) runs only when nothing before it raises or returns "
        "early, so a request that fails would leave the worker thread's Session (its transaction and connection) "
        "to the next request on that thread: call it in a `finally` around all the work on the registry (or in "
        "the `finally` around the `yield` of a `@contextmanager` the work runs in, `with scope() as session:`)"
    )


def _registry_key(use: SharedUse) -> str:
    return use.registry or use.holder


def _removing(use: SharedUse) -> bool:
    """Whether `use` is a registry's `remove()` that empties the calling thread's entry: a
    task-keyed registry's raises in a worker thread before it, and a key every request shares is
    used by the other workers meanwhile."""
    return use.call.endswith(".remove()") and not use.task and not use.one_key


# (registry, first line, last line, whether a `yield` is among them): a `remove()` of the registry
# runs however the code on those lines is left.
_Guard = tuple[str, int, int, bool]


def _unguarded(
    project: Project, fid: FunctionId, members: list[tuple[FunctionId, int, SharedUse]]
) -> list[SharedUse]:
    """The uses of a registry `fid` and what it calls make (`members`: model code they run, by
    function and line) that no `remove()` of that registry follows however the work is left: a
    `remove()` reaches a use only from the `finally` of a `try` running it (directly, or as the first
    thing a function called there does), or as the `with` exit of a `@contextmanager` whose own
    `finally` around its `yield` removes the registry. A Session a registry call hands to a name
    (`session = ScopedSession()`) needs the name's uses covered, not the call. Removes themselves
    need no cover. A use in a lambda or nested function may run after the `finally`: uncovered."""
    deads = cast("dict[FunctionId, dict[FunctionId, Spans]]", project.derived.get("shared_session.dead", {}))
    dead = deads.get(fid, {})
    cache: dict[tuple[FunctionId, Spans], list[SharedUse]] = project.derived.setdefault(  # type: ignore[assignment]
        "thread_scoped_uses", {}
    )
    read: dict[FunctionId, list[SharedUse]] = {}
    guards_of: dict[FunctionId, list[_Guard]] = {}
    by_member: dict[FunctionId, list[tuple[int, SharedUse]]] = {}
    for current, line, use in members:
        by_member.setdefault(current, []).append((line, use))

    def own(current: FunctionId) -> list[SharedUse]:
        at = (current, dead.get(current, NO_SPANS))
        if at not in cache:
            cache[at] = _own_scoped_uses(project, *at)
        return cache[at]

    def covered(guards: list[_Guard], key: str, lines: list[int]) -> bool:
        return all(any(k == key and start <= line <= end for k, start, end, _ in guards) for line in lines)

    def guards(current: FunctionId, depth: int) -> list[_Guard]:
        if current in guards_of:
            return guards_of[current]
        guards_of[current] = []  # a cycle: no guard from itself
        _, function = project.functions[current]
        edges = project.all_calls_from.get(current, ())
        found: list[_Guard] = []
        for line, start, end, yields in function.finally_calls:
            found.extend((_registry_key(use), start, end, yields) for use in own(current) if use.line == line and _removing(use))
            for edge in edges:
                if edge.call.line == line and not edge.call.nested:
                    found.extend((key, start, end, yields) for key in _removes_first(project, edge.callee, own))
        for line, start, end in function.with_calls:
            for edge in edges:
                if edge.call.line != line or edge.call.nested or not _context_manager(project, edge.callee):
                    continue
                inner = guards(edge.callee, depth + 1)
                left = {_registry_key(use) for use in unguarded(edge.callee, depth + 1)}
                found.extend((key, start, end, False) for key, _, _, yields in inner if yields and key not in left)
        guards_of[current] = found
        return found

    def unguarded(current: FunctionId, depth: int) -> list[SharedUse]:
        if current in read:
            return read[current]
        read[current] = []  # a cycle: its uses are counted where the walk met it first
        _, function = project.functions[current]
        mine = guards(current, depth)
        found: list[SharedUse] = []
        for use in own(current):
            if not _removing(use) and not covered(mine, _registry_key(use), _lines_to_cover(function, use)):
                found.append(use)
        found.extend(
            use for line, use in by_member.get(current, ())
            if not _removing(use) and not covered(mine, _registry_key(use), [line])
        )
        if depth < _DEPTH:
            for edge in project.all_calls_from.get(current, ()):
                if within(dead.get(current, NO_SPANS), edge.call.line):
                    continue
                lines = [] if edge.call.nested else [edge.call.line]
                found.extend(
                    use for use in unguarded(edge.callee, depth + 1)
                    if not lines or not covered(mine, _registry_key(use), lines)
                )
        read[current] = found
        return found

    return unguarded(fid, 0)


def _lines_to_cover(function: facts.Function, use: SharedUse) -> list[int]:
    """The lines a `remove()` must cover for `use`: its own, or, for a Session the registry's call
    hands to a name (`session = ScopedSession()`, which does no I/O), every later use of that name.
    No line (never covered) for a use in a lambda or nested function, which may run later."""
    at = [call for call in function.calls if call.line == use.line]
    if at and all(call.nested for call in at):
        return [-1]
    method = use.call.removesuffix("()").rpartition(".")[2]
    if method not in _IO_OR_REMOVE:
        name = next((b.name for b in function.bindings if b.line == use.line and not b.entered), None)
        later = function.name_uses.get(name, []) if name is not None else []
        if later and len(at) == 1:
            return [line for line in later if line != use.line] or [use.line]
    return [use.line]


def _removes_first(
    project: Project, fid: FunctionId, own: Callable[[FunctionId], list[SharedUse]]
) -> set[str]:
    """The registries a plain function called from a `finally` removes before anything else it
    does could raise (`def cleanup(): ScopedSession.remove()`)."""
    _, function = project.functions[fid]
    if function.is_generator or not function.calls:
        return set()
    first = min(function.calls, key=lambda call: call.index)
    return {_registry_key(use) for use in own(fid) if use.line == first.line and _removing(use) and first.top}


def _context_manager(project: Project, fid: FunctionId) -> bool:
    """Whether `fid` is a `@contextmanager` generator: a `with` on its call runs its code after the
    `yield` when the block is left, by an exception too (thrown in at the `yield`)."""
    _, function = project.functions[fid]
    return function.is_generator and not function.is_async and any(
        project.canonical(d.callee) in CONTEXT_MANAGER_DECORATORS for d in function.decorators if d.callee
    )


def registry_work_reached(project: Project, fid: FunctionId) -> list[SharedUse]:
    """`thread_scoped_uses` before the uses of a registry `fid` removes are taken off, its
    `remove()` calls left out: what a worker thread would run on its own Session were `fid`'s calls
    offloaded, whatever `remove()` `fid` itself then runs on its own thread. A helper removing
    the registry itself is counted too (a wider net, for refusing to offload)."""
    uses = _reached(project, fid, "thread_scoped_uses", _own_scoped_uses)
    if _registries_possible(project) and _thread_local_registries(project):
        uses = uses + _member_scoped_uses(project, fid)
    return [use for use in uses if not use.call.endswith(".remove()") and not use.closed]


def offloaded_registry_calls(project: Project, fid: FunctionId) -> list[SharedUse]:
    """A thread-local (task-keyed, one-key) registry's own methods `fid` hands to a worker thread
    (`await run_in_threadpool(db_session.remove)`, `asyncio.to_thread(db_session.commit)`): there
    they reach the worker's Session, not the one `fid` works on."""
    _, function = project.functions[fid]
    lines = {call.line for call in function.calls if call.offloaded and call.callee is not None}
    if not lines:
        return []
    return [
        use for use in _own_scoped_uses(project, fid)
        if use.line in lines and not use.handed and any(
            call.offloaded and call.line == use.line and call.callee is not None
            and call.callee.rpartition(".")[2] == use.call.removesuffix("()").rpartition(".")[2]
            for call in function.calls
        )
    ]


def _member_scoped_uses(project: Project, fid: FunctionId) -> list[SharedUse]:
    """Uses of a thread-local registry by model code `fid` (or what it calls) runs on an object:
    `user.post_count`, `post.save()` for a property or an active-record mixin's method working
    on the `scoped_session` global. The call graph does not reach a member of what a query
    returned; judged by the member's name over every mapped class defining it, since a route
    converted on a wrong guess keeps a Session open on a worker thread."""
    return [use for _, _, use in _member_uses_at(project, fid)]


def _member_uses_at(project: Project, fid: FunctionId) -> list[tuple[FunctionId, int, SharedUse]]:
    """`_member_scoped_uses`, each with the function reading the member and its line there (a
    response model's field: the route's decorator line, read after the route returned)."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.model_members import members

    classes = project_classes(project)
    index = members(project, classes)
    orders = cast("dict[FunctionId, tuple[FunctionId, ...]]", project.derived.get("shared_session.breadth", {}))
    found: list[tuple[FunctionId, int, SharedUse]] = []
    seen: set[FunctionId] = set()
    for current in orders.get(fid, (fid,)):
        module, function = project.functions[current]
        # objects under a local name (`user.post_count`), not what `self`/`cls` or a dotted
        # receiver holds (`cls.registry_session.add(note)` is no model's `add`)
        read = [
            (line, f"`{written}.{name}`", name) for line, written, _, name, _ in function.uses
            if written.isidentifier() and written not in ("self", "cls")
        ]
        read += [
            (line, f"`{receiver}.{attribute}`", attribute) for line, receiver, attribute in function.attributes
            if receiver.isidentifier() and receiver not in ("self", "cls")
        ]
        if current == fid:
            # A `def` route's response is serialised on a worker thread too: the fields of its
            # response model read the returned object's properties there.
            read += [
                (line, f"response model field `{model}.{name}`", name)
                for line, model, name in _response_fields(project, classes, fid)
            ]
        for line, shown, name in read:
            for cls in index.defining(name):
                member = index.lookup(cls, name)
                if member is None or member in seen:
                    continue
                seen.add(member)
                where = f"{project.functions[current][0].path}:{line}"
                found.extend(
                    (current, line, replace(use, holder=f"{use.holder}, through {shown} ({where})"))
                    for use in _reached(project, member, "thread_scoped_uses", _own_scoped_uses)
                )
    return found


def _response_fields(project: Project, classes: Classes, fid: FunctionId) -> list[tuple[int, str, str]]:
    """(line, model, field) for each top-level field of the response models a route declares."""
    found: list[tuple[int, str, str]] = []
    for handler in project.handlers:
        if handler.id != fid:
            continue
        for registration in handler.registrations:
            declared = registration.declared_response
            if declared is None or declared[0] == "None":
                continue
            line = registration.decorator.line if registration.decorator is not None else handler.function.line
            for ref in declared[1]:
                model = classes.resolve(ref)
                if model is not None:
                    found.extend((line, classes.short(model), name) for name, _ in classes.fields(model))
    return found


def registry_dependency(project: Project, param: facts.Param) -> SharedUse | None:
    """The parameter FastAPI fills from a dependency returning or yielding the Session of a
    `scoped_session` that is not scoped to the request (`db = db_session(); yield db`). An
    `async def` dependency hands every request the event loop thread's one Session; a plain one
    a worker's, which the next request that worker serves is handed too. Either way, a route
    run as `def` would use it from several threads at once. A Session an `async def` dependency
    makes from a registry keyed on the asyncio task is the request's own (the dependency runs in
    the request's task): none."""
    depends = project.param_dependency(param)
    if depends is None or param.opaque_depends or not _registries_possible(project):
        return None
    hands = dependency_hands(project, depends)
    if hands is None:
        return None
    dependency, module, function, handed = hands
    for expression in handed:
        found = registry_of(project, dependency, expression)
        if found is None:
            continue
        scope, where = found
        name = depends.rpartition(".")[2]
        if any(v.kind == REGISTRY for v in project.flow.evaluate(dependency, expression)):
            # `return db_session`: the registry itself, whose calls reach the Session of the
            # thread the route runs on, as the global named in the route would
            holder = f"`{param.name}`, the `scoped_session` `{name}()` hands out itself, {_any_scope_words(scope, where)}"
            return SharedUse(
                module.path, function.line, f"{name}()", holder, scope is not None,
                task=scope == TASK, one_key=scope in (PROCESS, REPEATED),
            )
        if scope == TASK and function.is_async:
            # FastAPI runs an `async def` dependency in the request's own task: the Session made
            # under that key is the request's, as a module-level task-keyed registry is on the loop
            continue
        holder = (
            f"`{param.name}`, the Session `{name}()` hands out from a `scoped_session` {_any_scope_words(scope, where)}: "
            "the same Session for every request "
            + ("on the event loop thread" if function.is_async else "the worker it ran on serves")
        )
        return SharedUse(module.path, function.line, f"{name}()", holder, scope is not None, handed=True)
    return None


def dependency_hands(project: Project, ref: str) -> tuple[FunctionId, facts.Module, facts.Function, tuple[str, ...]] | None:
    """The project function a dependency reference names, (id, module, function, what it hands
    FastAPI: the expressions it yields, a generator, or returns); None where `ref` names no project
    function."""
    target = project.resolve(ref)
    if target is None or target.kind != "function" or target.function is None or target.module is None:
        return None
    function = target.function
    handed = function.yielded if function.is_generator else function.returned
    return (target.module.name, function.key), target.module, function, handed


def _any_scope_words(scope: str | None, where: str) -> str:
    return f"whose scope the analysis cannot read ({where})" if scope is None else _scope_words(scope, where)


# What a route on a registry whose key the analysis cannot read does as `def`, after "by its key",
# and how to write a key that is the request's so the analysis reads it.
UNREAD_SCOPE_HARM = (
    "each may keep its own Session open from one request to the next (a thread's key), fail (an asyncio "
    "task's: none runs there) or use one Session from several workers at once (one value for every request)"
)
UNREAD_SCOPE_FIX = (
    "if its `scopefunc=` already keys on the request, write it so the analysis reads it: `scopefunc=` the "
    "`.get` of a module-level `ContextVar` an `async def` dependency or middleware sets to a value made for "
    "the request (`object()`, `uuid4()`)"
)


def unread_scope(project: Project, where: str) -> str:
    """Why the scope of the `scoped_session(...)` made at `where` (`path:line`) is not read, and
    what it may be: a `scopefunc=` given as what the analysis cannot follow keys on the thread, the
    asyncio task or one value for every request, as it may; arguments unpacked into the call may
    give one or not."""
    found = _scopefunc_written(project, where)
    if found is None:
        return "a thread's, an asyncio task's or one for every request, by what its `scopefunc=` keys on"
    given, text = found
    if not given:
        return "the thread's unless the arguments unpacked into the call give a `scopefunc=`"
    shown = f"its `scopefunc={text}`" if text and "\n" not in text and len(text) <= 60 else "its `scopefunc=`"
    return f"{shown} may key the Session on the thread, on the asyncio task or on one value every request shares"


def _scopefunc_written(project: Project, where: str) -> tuple[bool, str] | None:
    """(whether a `scopefunc=` is given, as written or "") for the `scoped_session(...)` made at
    `where`; None where the analysis finds no such call there."""
    path, _, number = where.rpartition(":")
    line = int(number) if number.isdigit() else 0
    module = next((m for m in project.modules.values() if m.path == path), None)
    if module is None:
        return None
    made = [
        value.args for value in module.values.values()
        if value.kind == "call" and value.line == line and project.canonical(value.ref) in SCOPED_SESSION_MAKERS
    ]
    if line in module.state_set_args:
        made.append(module.state_set_args[line])
    for args in made:
        arg = scope_argument(args)
        return (True, arg.text.strip()) if arg is not None else (False, "")
    for function in module.functions:
        for call in function.calls:
            if call.line == line and project.canonical(call.callee) in SCOPED_SESSION_MAKERS:
                keyed = [a for a in call.args if a.keyword == "scopefunc" or a.position == 1]
                if keyed:
                    return True, keyed[0].ref or keyed[0].expr or keyed[0].name or ""
                return False, ""
    return None


def _reached(
    project: Project, fid: FunctionId, key: str, own: Callable[[Project, FunctionId, Spans], list[SharedUse]]
) -> list[SharedUse]:
    cache: dict[tuple[FunctionId, Spans], list[SharedUse]] = project.derived.setdefault(key, {})  # type: ignore[assignment]
    # Every handler asks both kinds of use of the same reach: the walk is kept per project.
    orders: dict[FunctionId, tuple[FunctionId, ...]] = project.derived.setdefault(  # type: ignore[assignment]
        "shared_session.breadth", {}
    )
    deads: dict[FunctionId, dict[FunctionId, Spans]] = project.derived.setdefault(  # type: ignore[assignment]
        "shared_session.dead", {}
    )
    order = orders.get(fid)
    if order is None:
        order = orders[fid] = tuple(_breadth(project, fid))
    dead = deads.get(fid)
    if dead is None:
        dead = deads[fid] = dead_in_reach(project, order)
    found: list[SharedUse] = []
    for current in order:
        at = (current, dead.get(current, NO_SPANS))
        if at not in cache:
            cache[at] = own(project, *at)
        found.extend(cache[at])
    return found


def _breadth(
    project: Project, fid: FunctionId, more: Callable[[FunctionId], list[FunctionId]] | None = None
) -> Iterator[FunctionId]:
    """`fid` and the functions it calls, breadth first, at most `_DEPTH` calls deep, each once;
    `more`: other functions one reaches from a function (the dependencies it takes)."""
    seen = {fid}
    frontier = [fid]
    for _ in range(_DEPTH):
        following = []
        for current in frontier:
            yield current
            reached = [edge.callee for edge in project.all_calls_from.get(current, ())]
            for callee in (more(current) if more is not None else []) + reached:
                if callee not in seen:
                    seen.add(callee)
                    following.append(callee)
        frontier = following
        if not frontier:
            break


def _own_uses(project: Project, fid: FunctionId, dead: Spans = NO_SPANS) -> list[SharedUse]:
    module, function = project.functions[fid]
    flow = project.flow
    uses = []
    for call in function.calls:
        expression = call.func if call.func is not None else call.callee
        if expression is None or (dead and within(dead, call.line)):
            continue
        receiver, dot, method = expression.rpartition(".")
        if not dot or method not in SESSION_IO_METHODS:
            continue
        values = flow.evaluate(fid, receiver, dead)
        kinds = {v.kind for v in values}
        if SESSION not in kinds or FACTORY in kinds:
            continue  # no Session, or a scoped_session: one Session per thread
        written = f"{project.written(expression)}()"
        opened = _opened_by_instance(project, fid, receiver)
        if opened is not None:
            uses.append(SharedUse(module.path, call.line, written, opened[1], instance_of=opened[0]))
            continue
        found = _process_wide(project, fid, receiver)
        if found is not None:
            holder, certain = found
            uses.append(SharedUse(module.path, call.line, written, holder, certain))
    for call, ref in handed_held_sessions(project, fid):
        found = _process_wide(project, fid, ref)
        if found is not None:
            holder, certain = found
            callee = call.callee or call.func or ""
            uses.append(SharedUse(module.path, call.line, f"{project.written(callee)}(...)", holder, certain))
    if project._providers:
        uses.extend(_provided_uses(project, fid, dead))
    return uses


def _provided_uses(project: Project, fid: FunctionId, dead: Spans) -> list[SharedUse]:
    """Session work on what a dependency-injector provider hands every request, or builds on a
    Session it does (`provided_sessions`): a parameter it is injected into (`svc =
    Depends(Provide[Container.user_service])`) whose Session method `fid` calls, or which it calls
    a method of, or hands on, reaching Session work; a provider `fid` calls (`container.db()`),
    where `fid` does Session work."""
    module, function = project.functions[fid]
    found: list[SharedUse] = []
    edges = {id(edge.call): edge.callee for edge in project.all_calls_from.get(fid, ())}
    for param in function.params:
        if not param.provide or param.provide == "?" or param.provide.endswith(".provider"):
            continue
        shared = shared_provided(project, param.provide)
        if shared is None:
            continue
        name = param.name
        for call in function.calls:
            if dead and within(dead, call.line):
                continue
            on = call.receiver == name or (call.func or "").startswith(f"${name}.")
            handed = any(a.name == name or (a.expr or "").startswith(f"${name}.") for a in call.args)
            direct = call.receiver == name and call.method in SESSION_IO_METHODS
            callee = edges.get(id(call))
            if direct or ((on or handed) and callee is not None and session_work_view(project, callee).any):
                written = f"{project.written(call.func or call.callee or name)}()"
                found.append(SharedUse(
                    module.path, call.line, written, f"`{name}`, {shared.words}", shared.certain, remedy=shared.remedy
                ))
                break
    for call in function.calls:
        if not call.callee or "$" in call.callee or (dead and within(dead, call.line)):
            continue
        shared = shared_provided(project, call.callee)
        if shared is not None and session_work_view(project, fid).any:
            written = f"{project.written(call.callee)}()"
            found.append(SharedUse(module.path, call.line, written, f"what `{written}` gives, {shared.words}",
                                   shared.certain, remedy=shared.remedy))
    return found



def _process_wide(
    project: Project, fid: FunctionId, receiver: str, seen: set[tuple[FunctionId, str]] | None = None
) -> tuple[str, bool] | None:
    """What makes the Session `receiver` holds one for the whole process, and whether that is
    certain (False: a property or method of a module-level object hands it out); or None.

    A local name (`s = _shared`) and a project function's result (`current_session()` returning
    `_shared`, or `db.session`) are followed to the expressions that made them (each once, 64 at most):
    the Session is as shared as any of them."""
    found = _held_for_good(project, fid, receiver)
    seen = set() if seen is None else seen
    if found is not None or len(seen) >= 8 * _DEPTH:
        return found
    for source in _sources(project, fid, receiver):
        if source not in seen:  # each expression once per question, however many paths lead to it
            seen.add(source)
            found = _process_wide(project, *source, seen)
            if found is not None:
                return found
    return None


def _sources(project: Project, fid: FunctionId, receiver: str) -> list[tuple[FunctionId, str]]:
    """The expressions `receiver` takes its value from, each in the function it is written in: a
    local name's assignments (not `with ... as s`, which holds what entering gives), or what the
    project function called at its head returns."""
    head, steps = split(receiver)
    rest = "".join(steps)
    forwarded = _forwarded_source(project, fid, head) if not steps and not head.startswith("$") else None
    if forwarded is not None:
        return [forwarded]
    if head.startswith("$") and head != "$self":
        name = head[1:]
        _, function = project.functions[fid]
        return [
            (fid, binding.expr + rest)
            for binding in function.bindings
            if binding.name == name and not binding.entered and binding.expr != facts.UNSPELLED
        ]
    if head.startswith("$") or head == "super()" or steps[:1] != ("()",):
        return []
    target = project.resolve(head)
    if target is None or target.kind != "function" or target.function is None or target.module is None:
        return []
    callee = (target.module.name, target.function.key)
    after = "".join(steps[1:])
    return [(callee, expression + after) for expression in target.function.returned]


def request_context_variable(project: Project, fid: FunctionId, receiver: str, depth: int = 0) -> str | None:
    """The `ContextVar` (its reference) the Session `receiver` is read from, when each request's
    context holds its own there: `_session.get()` on a variable the project sets to a Session,
    also through a local name, a project function's result or a property of a module-level
    object handing it out (fastapi-sqlalchemy's `db.session`); None otherwise. A worker thread
    runs a `def` route in a copy of the request's context, so it reads that request's Session."""
    head, steps = split(receiver)
    head = project.flow.getter_alias(head, steps)  # `get_session()` where `get_session = _session.get`
    variable = head.removesuffix(".get")
    if variable != head and steps == ("()",) and project.flow.context_variable(variable):
        canonical = project.canonical(variable) or variable
        return canonical if _shared_set(project, canonical) is None else None
    if depth >= _DEPTH:
        return None
    sources = _sources(project, fid, receiver)
    if sources:
        found: set[str | None] = set()
        for where, made in sources:
            found.add(request_context_variable(project, where, made, depth + 1))
            if None in found or len(found) > 1:
                return None  # one source that is not the request's own settles it
        return found.pop()
    if head.startswith("$") or head == "super()" or steps or "." not in head:
        return None
    value, _, attribute = head.rpartition(".")
    return _property_variable(project, value, attribute, depth + 1)


def _shared_set(project: Project, variable: str) -> str | None:
    """Where (`path:line`) a `variable.set(x)` stores a process-wide Session (`_session.set(_shared)`
    makes every request's context hold the one Session), or None."""
    cache: dict[str, str | None] = project.derived.setdefault("context_shared_set", {})  # type: ignore[assignment]
    if variable not in cache:
        cache[variable] = None  # cycle guard: a set whose value reads the variable again
        cache[variable] = next((
            f"{project.functions[fid][0].path}:{call.line}"
            for fid, call in project.context_variable_sets.get(variable, ())
            for stored in [project.context_variable_stored(project.functions[fid][1], call)]
            if stored is not None and _process_wide(project, fid, stored) is not None
        ), None)
    return cache[variable]


def _property_variable(project: Project, value: str, attribute: str, depth: int = 0) -> str | None:
    """`request_context_variable` of what every definition of `value.attribute` (a property or a
    method, through the class order of the module-level `value`) returns; None unless all agree."""
    flow = project.flow
    methods = [
        method
        for made in flow.ref(value)
        if made.kind == INSTANCE
        for cls in flow.classes.mro(made.target)  # type: ignore[arg-type]
        if (method := flow.classes.methods.get(cls, {}).get(attribute)) is not None
    ]
    found = {
        request_context_variable(project, method, expression, depth)
        for method in methods
        for expression in project.functions[method][1].returned or ("",)
    }
    return found.pop() if len(found) == 1 else None


def _made_default(project: Project, variable: str) -> bool:
    """`ContextVar("s", default=SessionLocal())`: a default built once at import, which every
    context that sets nothing reads."""
    target = project.resolve(project.canonical(variable) or variable)
    value = target.value if target is not None and target.kind == "value" else None
    return value is not None and any(
        a.keyword == "default" and a.text.strip() not in ("None", "...") and a.ref is None for a in value.args
    )


def _forwarded_source(project: Project, fid: FunctionId, head: str) -> tuple[FunctionId, str] | None:
    """`db`, a module-level proxy whose class's `__getattr__` forwards each attribute it does not
    declare (`getattr(current_session(), name)`): that `__getattr__` and what it forwards to
    (`Function.forwards`), where the Session is read on each use; werkzeug's `LocalProxy(x)`
    likewise reads `x.get()` of a ContextVar, or calls `x` (a function, or a lambda calling
    one), on each use; None for any other value."""
    flow = project.flow
    proxied = local_proxy_source(project, head)
    if proxied is not None:
        return fid, proxied
    for value in flow.evaluate(fid, head):
        if value.kind == INSTANCE and isinstance(value.target, str):
            methods, _ = flow.classes.method(value.target, "__getattr__")
            forwards = project.functions[methods[0]][1].forwards if len(methods) == 1 else None
            if forwards is not None:
                return methods[0], forwards
    return None


def _held_for_good(project: Project, fid: FunctionId, receiver: str) -> tuple[str, bool] | None:
    """`_process_wide` for `receiver` as written, its sources not followed."""
    head, steps = split(receiver)
    flow = project.flow
    variable = head.removesuffix(".get")
    if variable != head and steps[:1] == ("()",) and not flow.context_variable(variable) and (
        context_variable_ref(project, variable) and not _made_default(project, variable)
    ):
        # a value the flow cannot read (`session_ctx.set(request.app.state.maker())`), typed by
        # what reads it (`def current() -> Session`): whatever it is, the variable holds it per
        # context, not made at import as a module-level value is
        return None
    if variable != head and steps[:1] == ("()",) and flow.context_variable(variable):
        where = _shared_set(project, project.canonical(variable) or variable)
        if where is None:
            return None  # `request_session.get()`: each request's context holds the Session it set
        return f"`{project.written(receiver)}`, a context variable set to a process-wide Session at {where}", True
    cached = _cached_session(project, fid, head, steps)
    if cached is not None:
        return cached, True
    closed = head.partition(".")[0] if not head.startswith("$") and head != "super()" else ""
    binder = project.enclosing_binder(fid, closed) if closed else None
    if binder is not None:
        # A router factory's `db = SessionLocal()` (or its parameter, or what its `self` holds)
        # read by the routes it defines: the factory ran once, and every request those routes
        # serve reads that one.
        kinds = {v.kind for v in flow.evaluate(fid, head)}
        if SESSION not in kinds or FACTORY in kinds:
            return None
        module, outer = project.functions[binder]
        return (
            f"`{project.written(receiver)}`, the Session `{outer.qualname}` ({module.path}:{outer.line}) holds for "
            "every route it defines", True,
        )
    kept = _kept_at_import(project, fid, head, steps)
    if kept is not None:
        return f"`{project.written(receiver)}`, created once at import time ({kept})", True
    if not head.startswith("$") and head != "super()":
        # `app.db` or `app.repo.db`: the first module-level value on the path holds it for good.
        parts = head.split(".")
        for end in range(len(parts), 0, -1):
            cls = flow.classes.resolve(".".join(parts[:end]))
            if cls is not None and end < len(parts):
                # `Holder.db`: what the class body (or a module) stores on the class, made once
                return _class_held(project, cls, parts[end], receiver)
            target = project.resolve(".".join(parts[:end]))
            if target is None or target.kind == "function":
                continue
            if target.kind == "value" and target.value is not None and target.module is not None:
                if end < len(parts) and target.ref in thread_local_objects(project):
                    return None  # `_local.session`: each thread's own (`thread_local.py`, AM141)
                if end == len(parts) and steps[:1] == ("()",):
                    return None  # `SessionLocal().execute()`: the module-level maker makes one per call
                if steps[:1] == ("()",) and _maker_only(flow.evaluate(fid, head), registry=True):
                    # `db.SessionLocal()`: a sessionmaker the module-level object holds, likewise; a
                    # `scoped_session` there (`app.state.registry()`) hands out the scope's Session
                    return None
                if end == len(parts) and not steps and _forwarded_source(project, fid, head) is not None:
                    return None  # a proxy: its `__getattr__` reads the Session on each use (`_sources`)
                line = f":{target.value.line}" if target.value.line else ""
                where = f"{target.module.path}{line}"
                if end < len(parts) and _computed(project, ".".join(parts[:end]), parts[end]):
                    if _property_variable(project, ".".join(parts[:end]), parts[end]) is not None:
                        return None  # fastapi-sqlalchemy's `db.session`: the request's own
                    return (
                        f"`{project.written(receiver)}`, which a property or method of the module-level "
                        f"`{parts[end - 1]}` ({where}) hands out", False,
                    )
                if end < len(parts) and ".".join(parts[:end + 1]) in project._rebound:
                    # `registry.db = SessionLocal()` in a start-up function or a lazy getter
                    return (
                        f"`{project.written(receiver)}`, a Session a function binds on the module-level "
                        f"`{parts[end - 1]}` ({where}) for every request after it", True,
                    )
                if end < len(parts) and _stored_on(project, ".".join(parts[:end]), parts[end]):
                    # `state.db = db` in a handler: the Session the last request stored (AM143)
                    return (
                        f"`{project.written(receiver)}`, a Session code stores on the module-level "
                        f"`{parts[end - 1]}` ({where}) for every request after it", True,
                    )
                return f"`{project.written(receiver)}`, created once at import time ({where})", True
            break
        return None
    if head != "$self" or len(steps) != 1:
        return None
    owner = flow.classes.owner(fid)
    if owner is None:
        return None
    attribute = steps[0][1:]
    if not flow.classes.assigned.get((owner, attribute)) and any(
        _session_built(project, cls, attribute) for cls in flow.classes.mro(owner)
    ):
        return _class_held(project, owner, attribute, receiver)
    opened_here = any(
        expression.endswith("()") and SESSION in {v.kind for v in flow.evaluate(assigning, expression)}
        for cls in flow.classes.mro(owner)
        for assigning, expression in flow.classes.assigned.get((cls, attribute), ())
    )
    if not opened_here:
        set_there = _set_on_instance(project, fid, owner, attribute)
        if set_there is not None:
            return f"`self.{attribute}`, the Session {set_there}", True
        given = _instance_given_session(project, fid, owner)
        if given is None:
            kept = _kept_construction(project, owner)
            if kept is None:
                return None
            return f"`self.{attribute}`, the Session an instance of {flow.classes.short(owner)} {kept}", False
        return f"`self.{attribute}`, the Session the module-level instance `{given}` was created with", True
    return None


def _kept_at_import(project: Project, fid: FunctionId, head: str, steps: tuple[str, ...]) -> str | None:
    """Where the module keeps a Session on the application's state at import (`app.state.db =
    SessionLocal()` beside `app = FastAPI()`) that `request.app.state.db` (or `main.app.state.db`)
    reads: "path:line", or None."""
    flow = project.flow
    attribute = state_attribute(flow, fid, head, steps[:3] if head.startswith("$") else ())
    if attribute is None:
        return None
    kinds = {v.kind for v in flow.app_state_classes(attribute)}
    if SESSION not in kinds or FACTORY in kinds:
        return None  # a sessionmaker, or a `scoped_session` registry: a Session per call or scope
    at = flow.module_state_assignments().get(attribute, [])
    return f"{at[0][0]}:{at[0][2]}" if at else None


def _maker_only(values: Values, registry: bool = False) -> bool:
    """Whether every value is a sessionmaker (not a `scoped_session`, which is a Session too);
    with `registry`, or a `scoped_session` registry, whose call returns its scope's Session."""
    if registry and any(value.kind == REGISTRY for value in values):
        return all(value.kind in (FACTORY, SESSION, REGISTRY) for value in values)
    return bool(values) and all(value.kind == FACTORY for value in values)


def _opened_by_instance(project: Project, fid: FunctionId, receiver: str) -> tuple[str, str] | None:
    """`self.x` in a method of a class that opens a Session into `self.x` itself (in `__init__`,
    or in `__enter__` on each use, as a unit of work does): the class, and a holder to fill with
    the instance's name (`{instance}`); or None. Whether the instance is the process's one
    depends on the handler reaching it, not on the method."""
    head, steps = split(receiver)
    flow = project.flow
    owner = flow.classes.owner(fid)
    if head != "$self" or len(steps) != 1 or owner is None:
        return None
    attribute = steps[0][1:]
    openers = [
        assigning
        for cls in flow.classes.mro(owner)
        for assigning, expression in flow.classes.assigned.get((cls, attribute), ())
        if expression.endswith("()") and SESSION in {v.kind for v in flow.evaluate(assigning, expression)}
    ]
    if not openers:
        return None
    if all(opener[1].rpartition(".")[2] == "__init__" for opener in openers):
        return owner, f"`self.{attribute}`, opened once by the module-level instance `{{instance}}`"
    where = ", ".join(sorted({opener[1] for opener in openers}))
    # a unit of work opens one at each `with`; `connect()` may open one only while none is kept
    when = " on each use" if all(o[1].rpartition(".")[2] in ("__enter__", "__aenter__") for o in openers) else ""
    return owner, (
        f"`self.{attribute}`, which `{where}` opens{when} and keeps on the one module-level instance "
        "`{instance}` every request gets"
    )


def opening_class(project: Project, fid: FunctionId, receiver: str) -> tuple[str, str, list[FunctionId]] | None:
    """The project class that opens the Session `receiver` names into an attribute of its own
    (`self.session` in a unit of work's `__enter__`), as `receiver` reaches it: `self.session`
    in its methods, `uow.session` on an instance of it. (class, attribute, the methods opening it)."""
    head, steps = split(receiver)
    if not steps or steps[-1] == "()":
        return None
    flow = project.flow
    attribute = steps[-1][1:]
    base = head + "".join(steps[:-1])
    if base == "$self":
        owner = flow.classes.owner(fid)
        candidates = [owner] if owner is not None else []
    else:
        candidates = sorted({v.target for v in flow.evaluate(fid, base) if v.kind == INSTANCE and isinstance(v.target, str)})
    for cls in candidates:
        openers = [
            assigning
            for ancestor in flow.classes.mro(cls)
            for assigning, expression in flow.classes.assigned.get((ancestor, attribute), ())
            if expression.endswith("()") and SESSION in {v.kind for v in flow.evaluate(assigning, expression)}
        ]
        if openers:
            return cls, attribute, list(dict.fromkeys(openers))
    return None


def held_instance(project: Project, held: list[tuple[str, str]], instance_of: str) -> str | None:
    """The reference to the instance in `held` (`_process_wide_instances`' pairs of class and
    reference) of the class `instance_of`, or of a class it derives from or that derives from it;
    None: no process-wide instance of it."""
    classes = project.flow.classes
    return next((ref for cls, ref in held if instance_of in classes.mro(cls) or cls in classes.mro(instance_of)), None)


def _process_wide_instances(project: Project, fid: FunctionId) -> list[tuple[str, str]]:
    """Instances of project classes that live as long as the process, which `fid` or what it
    reaches works on: a module-level instance it names (`_uow`, handed on or called), an
    attribute of one (`bus.uow`), one a dependency it takes returns (or a lambda given to
    `Depends()` names), and what a module-level
    instance it calls a method of keeps in its attributes (`bus.handle()` on `self.uow`).
    (class, reference) pairs, in the order found."""
    flow = project.flow
    refs: list[str] = []

    def dependencies(current: FunctionId) -> list[FunctionId]:
        found = []
        for param in project.functions[current][1].params:
            depends = project.param_dependency(param)
            target = project.resolve(depends) if depends else None
            if target is not None and target.kind == "function" and target.module is not None and target.function:
                found.append((target.module.name, target.function.key))
        return found

    found: list[tuple[str, str]] = []
    for current in _breadth(project, fid, dependencies):
        _, function = project.functions[current]
        found.extend(_bound_instance(project, current))
        found.extend(_cached_instances(project, current))
        refs.extend(a.ref for call in function.calls for a in call.args if a.ref)
        refs.extend(call.callee for call in function.calls if call.callee)
        refs.extend(b.expr for b in function.bindings)
        # `store.alice`: a property, `__getattr__` or descriptor it runs works on that instance
        refs.extend(receiver for _, receiver, _ in function.receiver_reads)
        refs.extend((*function.returned, *function.yielded))
        for param in function.params:
            refs.extend(param.opaque_refs)  # `Depends(lambda: _uow)`: what the lambda names
        found.extend(_state_instances(project, current))
        found.extend(_provided_instances(project, current))
    for ref in dict.fromkeys(refs):
        if not ref or ref.startswith("$") or "(" in ref or ref == "super()":
            continue
        parts = ref.split(".")
        for end in range(len(parts), 0, -1):
            target = project.resolve(".".join(parts[:end]))
            if target is None or target.kind == "function":
                continue
            if target.kind != "value" or target.module is None:
                break
            for stop in range(end, len(parts) + 1):
                prefix = ".".join(parts[:stop])
                if stop > end and _computed(project, ".".join(parts[: stop - 1]), parts[stop - 1]) and not (
                    _kept_once(project, ".".join(parts[: stop - 1]), parts[stop - 1])
                ):
                    break  # a property or method: what it hands out may be new on each use
                for made in flow.ref(prefix):
                    if made.kind != INSTANCE or not isinstance(made.target, str):
                        continue
                    found.append((made.target, prefix))
                    for cls in flow.classes.mro(made.target):
                        for held_cls, attribute in flow.classes.assigned:
                            if held_cls != cls or (
                                _computed(project, prefix, attribute) and not _kept_once(project, prefix, attribute)
                            ):
                                continue
                            for kept in flow.ref(f"{prefix}.{attribute}"):
                                if kept.kind == INSTANCE and isinstance(kept.target, str):
                                    found.append((kept.target, f"{prefix}.{attribute}"))
            break
    return list(dict.fromkeys(found))


def _bound_instance(project: Project, fid: FunctionId) -> list[tuple[str, str]]:
    """The one instance a handler that is a bound method runs on (`add_api_route("/x", h.count)`,
    `router.get("/x")(h.count)`, `Depends(h.count)`, `self.count` added to an instance's own
    router): its class and its reference (the registered `h`, else a module-level instance of the
    class, else `Class(...)`); empty for any other function. The instance is made once, when the
    route is registered, so whatever it keeps in `self` every request gets."""
    handler = project.handlers_by_id.get(fid)
    if handler is None or not shared_self(project, handler):
        return []
    flow = project.flow
    owner = flow.classes.owner(fid)
    if owner is None:
        return []
    for registration in handler.registrations:
        base = (registration.endpoint or "").rpartition(".")[0] if registration.decorator is None else ""
        target = project.resolve(base) if base else None
        if target is not None and target.kind == "value" and any(
            made.kind == INSTANCE and made.target == owner for made in flow.ref(base)
        ):
            return [(owner, base)]
    return [(owner, _module_instance(project, owner) or f"{flow.classes.short(owner)}(...)")]


def _cached_instances(project: Project, fid: FunctionId) -> list[tuple[str, str]]:
    """Instances of project classes that `fid`, under `@lru_cache` / `@cache`, returns: the cache
    keeps the first one it built (one per argument key) and hands it to every caller, a route's
    `Depends(get_bus)` or `get_uow()` as much as a module global; with what each keeps in its
    attributes (`self.uow`). (class, `module.function().attribute` reference) pairs."""
    module, function = project.functions[fid]
    if not function.returned or not any(project.canonical(d.callee) in CACHES for d in function.decorators):
        return []
    reference = f"{module.name}.{function.qualname}()"
    found: list[tuple[str, str]] = []
    for expression in function.returned:
        found.extend(_instances_kept(project, fid, expression, reference))
    return found


def _instances_kept(project: Project, fid: FunctionId, expression: str, reference: str) -> list[tuple[str, str]]:
    """The project instance `expression` (read in `fid`) is, named `reference`, and the instances
    it keeps in its attributes (`reference.uow`): (class, reference) pairs."""
    flow = project.flow
    found: list[tuple[str, str]] = []
    for made in flow.evaluate(fid, expression):
        if made.kind != INSTANCE or not isinstance(made.target, str):
            continue
        found.append((made.target, reference))
        for cls in flow.classes.mro(made.target):
            for held_cls, attribute in flow.classes.assigned:
                if held_cls != cls:
                    continue
                for kept in flow.evaluate(fid, f"{expression}.{attribute}"):
                    if kept.kind == INSTANCE and isinstance(kept.target, str):
                        found.append((kept.target, f"{reference}.{attribute}"))
    return found


def _cached_builder(project: Project, ref: str) -> tuple[str, str] | None:
    """The cache decorator on the project function `ref` and where the function is, or None."""
    target = project.resolve(ref)
    if target is None or target.kind != "function" or target.function is None or target.module is None:
        return None
    cache = next((project.canonical(d.callee) for d in target.function.decorators if project.canonical(d.callee) in CACHES), None)
    if cache is None:
        return None
    return cache.rpartition(".")[2], f"{target.module.path}:{target.function.line}"


def _state_instances(project: Project, fid: FunctionId) -> list[tuple[str, str]]:
    """Instances of project classes the application's state keeps, which `fid` works on:
    `request.app.state.bus.handle(cmd)`, or `bus = request.app.state.bus` (or `bus=Depends(get_bus)`
    returning it) then `bus.uow`, with `app.state.bus = bootstrap()` in the lifespan. One object
    for every request, as a module-level instance is: the instance, each instance along the path,
    and what the kept instance holds in its attributes (`self.uow`). (class, `app.state.…`
    reference) pairs."""
    flow = project.flow
    _, function = project.functions[fid]
    expressions = [
        *(b.expr for b in function.bindings if not b.entered),
        *(c.func or c.callee or "" for c in function.calls),
        *(a.expr for c in function.calls for a in c.args if a.expr),
    ]
    if not any(".state." in e for e in expressions) and not any(p.depends for p in function.params):
        return []
    named: dict[str, tuple[str, ...] | None] = {}
    paths: list[tuple[str, ...]] = []
    for expression in expressions:
        if not expression.startswith("$"):
            continue
        head, steps = split(expression)
        if steps[:2] == (".app", ".state"):
            steps = steps[2:]
        else:
            if head[1:] not in named:
                named[head[1:]] = app_state_name(flow, fid, head[1:])
            found_path = named[head[1:]]
            if found_path is None:
                continue
            steps = (*(f".{a}" for a in found_path), *steps)
        attributes = []
        for step in steps:
            if not step.startswith(".") or step == "()":
                break
            attributes.append(step[1:])
        if attributes:
            paths.append(tuple(attributes))
    found: list[tuple[str, str]] = []
    for path in dict.fromkeys(paths):
        for holder, written, assigned, _line in flow.state_assignments().get(path[0], []):
            if flow._state_owner(holder, written) != "app" or assigned == facts.UNSPELLED:
                continue
            for end in range(1, len(path) + 1):
                rest = "".join(f".{a}" for a in path[1:end])
                found.extend(_instances_kept(project, holder, assigned + rest, "app.state." + ".".join(path[:end])))
    return found


def _cached_session(project: Project, fid: FunctionId, head: str, steps: tuple[str, ...]) -> str | None:
    """The Session a cached function hands out, as the receiver `head` + `steps` reaches it:
    `shared_session()`, a local bound to that call, a parameter FastAPI fills by calling it."""
    if steps == ("()",):
        return _cached_function(project, head)
    if steps or not head.startswith("$") or head == "$self":
        return None
    _, function = project.functions[fid]
    name = head[1:]
    bound = [b for b in function.bindings if b.name == name]
    if bound:
        found = [_cached_function(project, b.expr[:-2]) if b.expr.endswith("()") and not b.entered else None for b in bound]
        return found[0] if all(found) else None
    param = next((p for p in function.params if p.name == name), None)
    depends = project.param_dependency(param) if param is not None else None
    if param is None or depends is None or param.opaque_depends:
        return None
    described = _cached_function(project, depends)
    if described is None and (holder := dependency_handing_out(project, depends)) is not None:
        described = f"which `{depends.rpartition('.')[2]}()` hands out: {holder}"
    return f"`{name}`, {described}" if described is not None else None


def dependency_handing_out(project: Project, ref: str) -> str | None:
    """What holds the Session a dependency returns or yields, when that is a process-wide Session
    (`def get_db(): return db` on a module-level `db = SessionLocal()`), or None. FastAPI hands
    every request that one Session, so the route taking it shares it as if it named the global."""
    hands = dependency_hands(project, ref)
    if hands is None or not hands[3]:
        return None
    dependency, _, _, handed = hands
    holders = []
    for expression in handed:
        if any(v.kind == REGISTRY for v in project.flow.evaluate(dependency, expression)):
            # `return db_session`: the registry, whose calls reach the calling thread's Session
            # (its own harm, AM132), not one Session for the process
            return None
        found = _process_wide(project, dependency, expression)
        if found is None or not found[1]:
            return None  # one path hands out a Session of its own: not the process's one for sure
        holders.append(found[0])
    return holders[0]


def _cached_function(project: Project, ref: str) -> str | None:
    cached = _cached_builder(project, ref)
    if cached is None:
        return None
    cache, where = cached
    target = project.resolve(ref)
    assert target is not None and target.function is not None
    return (
        f"the Session `{target.function.name}()` ({where}) returns, which its `@{cache}` "
        "keeps and hands to every caller"
    )


def _class_held(project: Project, cls: str, attribute: str, receiver: str) -> tuple[str, bool] | None:
    """A Session a class holds as a class attribute (`db = SessionLocal()` in its body, or set on
    it at module level): one object for the class and every instance of it."""
    flow = project.flow
    module, declared = flow.classes.by_ref[cls]
    where = f"{module.path}:{declared.line}"
    if any(attribute in flow.classes.methods.get(c, {}) for c in flow.classes.mro(cls)):
        return (
            f"`{project.written(receiver)}`, which a method of the class `{declared.qualname}` ({where}) "
            "hands out", False,
        )
    if not any(_session_built(project, c, attribute) for c in flow.classes.mro(cls)):
        return None
    if not any(flow.classes.built(c, attribute) for c in flow.classes.mro(cls)):
        # `Repo.session = SessionLocal()` (or `setattr(...)`) in a start-up function
        return (
            f"`{project.written(receiver)}`, a class attribute of `{declared.qualname}` ({where}) a function "
            "sets to a Session for every request after it", True,
        )
    return (
        f"`{project.written(receiver)}`, a class attribute of `{declared.qualname}` ({where}), created once "
        "at import time", True,
    )


def _session_built(project: Project, cls: str, attribute: str) -> bool:
    """Whether the class stores a Session object itself under `attribute` (`db = SessionLocal()`),
    not a dependency's default (`db: Session = Depends(get_db)` in a class-based view, given per
    request) nor a factory."""
    flow = project.flow
    if attribute in flow.classes.by_ref[cls][1].depends:
        return False
    built = flow.classes.built(cls, attribute)
    # bound by a function (`Repo.session = SessionLocal()` in a start-up function): made once as well
    callees = (built,) if built is not None else project._rebound.get(f"{cls}.{attribute}", ())
    for callee in callees:
        kinds = {v.kind for v in flow.evaluate(None, f"{callee}()")}  # type: ignore[arg-type]
        if SESSION in kinds and FACTORY not in kinds:
            return True
    return False


def _kept_once(project: Project, value: str, attribute: str) -> str | None:
    """The class whose `@cached_property` `attribute` is, on the instance `value` names: what it
    returns first is kept on that instance and read back on every later access; or None."""
    flow = project.flow
    for made in flow.ref(value):
        if made.kind != INSTANCE or not isinstance(made.target, str):
            continue
        for cls in flow.classes.mro(made.target):
            method = flow.classes.methods.get(cls, {}).get(attribute)
            if method is not None:
                decorators = project.functions[method][1].decorators
                if any(project.canonical(d.callee) in CACHED_PROPERTIES for d in decorators):
                    return cls
                break
    return None


def _provided_instances(project: Project, fid: FunctionId) -> list[tuple[str, str]]:
    """Instances of project classes a provider hands every caller, which `fid` is injected
    (`Provide[Container.uow]`) or calls for (`container.uow()`): a dependency-injector singleton
    provider, or a project provider keeping on itself what it built on first call
    (`Singleton.__call__` returning `self._instance`). (class, reference) pairs, the reference
    ending `()` where called."""
    _, function = project.functions[fid]
    refs = [(param.provide, param.provide) for param in function.params if param.provide and param.provide != "?"]
    refs.extend((call.callee, f"{call.callee}()") for call in function.calls if call.callee and "$" not in call.callee)
    found: list[tuple[str, str]] = []
    for ref, written in dict.fromkeys(refs):
        provided = _provided_once(project, ref)
        if provided is not None:
            found.extend((cls, written) for cls in provided[0])
    return found


def _provided_once(project: Project, ref: str) -> tuple[list[str], str, str] | None:
    """What the provider `ref` names hands every caller, when it builds one object for the whole
    process: (the project classes it builds, how it keeps the one it built, what to do instead);
    or None."""
    known: dict[str, tuple[list[str], str, str] | None] = project.derived.setdefault(  # type: ignore[assignment]
        "provided_once", {}
    )
    if ref not in known:
        known[ref] = _read_provider(project, ref)
    return known[ref]


def _read_provider(project: Project, ref: str) -> tuple[list[str], str, str] | None:
    flow = project.flow
    classes = flow.classes
    owner, _, attribute = ref.rpartition(".")
    if not owner:
        return None
    holders = [v.target for v in flow.ref(owner) if v.kind in (INSTANCE, CLASS) and isinstance(v.target, str)]
    for holder in holders:
        for cls in classes.mro(holder):
            entry = classes.by_ref.get(cls)
            if entry is None:
                continue
            declared = entry[1]
            built = declared.built.get(attribute)
            if built is None:
                continue
            provider = project.canonical(built) or built
            provided = classes.resolve(declared.provides.get(attribute) or None)
            if provider in SINGLE_INSTANCE_PROVIDERS and provided is not None:
                kind = provider.rpartition(".")[2]
                written = f"{classes.short(cls)}.{attribute}"
                return [provided], (
                    f"which the dependency-injector provider `{written} = providers.{kind}(...)` builds once and "
                    "hands to every request"
                ), f"make `{written}` a `providers.Factory`, which builds one per injection"
            break
    for wrapper in sorted({v.target for v in flow.ref(ref) if v.kind == INSTANCE and isinstance(v.target, str)}):
        kept = _memoizing_call(project, wrapper)
        if kept is None:
            continue
        wrapped = _wrapped_classes(project, owner, attribute, wrapper)
        if wrapped:
            short = classes.short(wrapper)
            return wrapped, (
                f"which `{short}.__call__` builds on first call and keeps in `self.{kept}` for every request"
            ), f"have `{short}.__call__` build one on each call instead of keeping `self.{kept}`"
    return None


def _memoizing_call(project: Project, cls: str) -> str | None:
    """The attribute a class's `__call__` keeps what it built in and returns (a lazy singleton
    provider: `if self._instance is None: self._instance = self._factory(...)`), or None."""
    classes = project.flow.classes
    methods, _ = classes.method(cls, "__call__")
    if len(methods) != 1:
        return None
    _, function = project.functions[methods[0]]
    for returned in function.returned:
        head, steps = split(returned)
        if head != "$self" or len(steps) != 1 or not steps[0].startswith("."):
            continue
        attribute = steps[0][1:]
        if any(
            assigning == methods[0]
            for ancestor in classes.mro(cls)
            for assigning, _ in classes.assigned.get((ancestor, attribute), ())
        ):
            return attribute
    return None


def _wrapped_classes(project: Project, owner: str, attribute: str, wrapper: str) -> list[str]:
    """The project classes each construction of the provider `wrapper` kept as `owner.attribute`
    is handed to build (`self.uow = Singleton(UnitOfWork, SessionLocal)`, at module level
    `uow = Singleton(UnitOfWork, ...)`, or through a lambda `Singleton(lambda: UnitOfWork(...))`)."""
    flow = project.flow
    classes = flow.classes
    found: list[str] = []
    target = project.resolve(f"{owner}.{attribute}")
    if target is not None and target.kind == "value" and target.value is not None and target.value.kind == "call":
        first = next((a for a in target.value.args if a.keyword is None), None)
        made = classes.resolve(first.ref) if first is not None else None
        if made is not None:
            found.append(made)
    stores = [
        assigning
        for holder in {v.target for v in flow.ref(owner) if v.kind == INSTANCE and isinstance(v.target, str)}
        for ancestor in classes.mro(holder)
        for assigning, _ in classes.assigned.get((ancestor, attribute), ())
    ]
    for assigning in dict.fromkeys(stores):
        calls = project.functions[assigning][1].calls
        for call in calls:
            if classes.resolve(call.callee) != wrapper:
                continue
            given = next((a for a in call.args if a.position == 0), None)
            made = classes.resolve(given.ref) if given is not None else None
            if made is not None:
                found.append(made)
                continue
            for inner in calls:  # `Singleton(lambda: UnitOfWork(SessionLocal))`
                built = classes.resolve(inner.callee) if inner.argument_of == call.index else None
                if built is not None:
                    found.append(built)
    return list(dict.fromkeys(found))


def _sharing_shape(project: Project, instance: str) -> tuple[str, str] | None:
    """How the instance `instance` names is kept for every request, when a provider or a cached
    property keeps it: (the words for the reason, what to do instead); or None."""
    provided = _provided_once(project, instance.removesuffix("()"))
    if provided is not None:
        return provided[1], provided[2]
    owner, _, attribute = instance.rpartition(".")
    if "(" in instance or not owner:
        return None
    cls = _kept_once(project, owner, attribute)
    if cls is None:
        return None
    written = f"{project.flow.classes.short(cls)}.{attribute}"
    return (
        f"which the `@cached_property` `{written}` builds on first access and keeps on the module-level "
        f"`{owner.rpartition('.')[2]}` for every request"
    ), f"make `{written}` a plain method or property building one per call"


def _computed(project: Project, value: str, attribute: str) -> bool:
    """Whether `value.attribute` runs code of the value's class (a property or a method) rather
    than reading what was stored once."""
    flow = project.flow
    for made in flow.ref(value):
        if made.kind == INSTANCE:
            for cls in flow.classes.mro(made.target):  # type: ignore[arg-type]
                if attribute in flow.classes.methods.get(cls, {}):
                    return True
    return False


def _module_instance(project: Project, cls: str) -> str | None:
    """A module-level instance of `cls` (or of a subclass): `repo = Repo()`."""
    flow = project.flow
    for module in project.modules.values():
        for name, value in module.values.items():
            if value.kind != "call" or value.ref is None:
                continue
            for made in flow.ref(f"{module.name}.{name}"):
                if made.kind == INSTANCE and cls in flow.classes.mro(made.target):  # type: ignore[arg-type]
                    return f"{module.name}.{name}"
    return None


def _instance_given_session(project: Project, fid: FunctionId, cls: str) -> str | None:
    """A module-level instance of `cls` (or of a subclass) created with a Session opened right there:
    `repo = Repo(SessionLocal())`, `Repo(db=Session(engine))` (not a `scoped_session` registry)."""
    flow = project.flow
    for module in project.modules.values():
        for name, value in module.values.items():
            if value.kind != "call" or value.ref is None:
                continue
            made = flow.ref(f"{module.name}.{name}")
            if not any(m.kind == INSTANCE and cls in flow.classes.mro(m.target) for m in made):  # type: ignore[arg-type]
                continue
            for opener in _called_arguments(module, value):
                kinds = {v.kind for v in flow.evaluate(fid, f"{opener}()")}
                if SESSION in kinds and FACTORY not in kinds:
                    return f"{module.name}.{name}"
    return None


def _set_on_instance(project: Project, fid: FunctionId, cls: str, attribute: str) -> str | None:
    """Where a module's top sets `attribute` of a module-level instance of `cls` (or of a subclass,
    or a base) to a Session opened right there (`repo.session = SessionLocal()`, `setattr(repo,
    "session", SessionLocal())`), said as the rest of a reason, or None."""
    flow = project.flow
    related = {*flow.classes.mro(cls), *flow.classes.subclasses(cls)}
    for module, owner, callee, line in flow.classes.set_on_values(attribute):
        if not any(m.kind == INSTANCE and m.target in related for m in flow.ref(owner)):
            continue
        kinds = {v.kind for v in flow.evaluate(fid, f"{callee}()")}
        if SESSION in kinds and FACTORY not in kinds:
            return f"set on the module-level instance `{project.written(owner)}` at import ({module.path}:{line})"
    return None


def _kept_construction(project: Project, cls: str) -> str | None:
    """Where code that runs once and keeps what it returns builds an instance of `cls` (or of a
    subclass) with a Session opened right there: `@cached_property def repo(self): return
    Repo(SessionLocal())` on a class the project instantiates at module level, or an
    `@lru_cache` / `@cache` function doing the same. Said as the rest of a reason, or None."""
    flow = project.flow
    for made in sorted({cls, *flow.classes.subclasses(cls)}):
        inits, _ = flow.classes.method(made, "__init__")
        for init in inits:
            for edge in project.all_calls_to.get(init, ()):
                module, function = project.functions[edge.caller]
                opened = any(
                    call.argument_of == edge.call.index and call.callee is not None
                    and SESSION in (kinds := {v.kind for v in flow.evaluate(edge.caller, f"{call.callee}()")})
                    and FACTORY not in kinds
                    for call in function.calls
                )
                if not opened:
                    continue
                where = f"{module.path}:{edge.call.line}"
                cache = next(
                    (project.canonical(d.callee) for d in function.decorators if project.canonical(d.callee) in CACHES), None
                )
                if cache is not None:
                    return (f"gets from `{function.qualname}()`, which builds it with a Session of its own ({where}) "
                            f"and whose `@{cache.rpartition('.')[2]}` hands it to every caller")
                owner = flow.classes.owner(edge.caller)
                cached_property = any((d.callee or "").rsplit(".", 1)[-1] == "cached_property" for d in function.decorators)
                instance = _module_instance(project, owner) if owner is not None and cached_property else None
                if instance is not None:
                    return (f"gets from `{function.qualname}`, a `@cached_property` of the module-level `{instance}` "
                            f"that builds it once with a Session of its own ({where})")
    return None


def _called_arguments(module: facts.Module, value: facts.Value) -> list[str]:
    """The references the arguments of a module-level call call: `SessionLocal()` -> `db.SessionLocal`."""
    found = [value.inner.ref] if value.inner is not None and value.inner.kind == "call" and value.inner.ref else []
    for arg in value.args:
        written = arg.text[:-2] if arg.text.endswith("()") else ""
        head, _, rest = written.partition(".")
        if not head.isidentifier() or (rest and not all(part.isidentifier() for part in rest.split("."))):
            continue
        base = module.imports.get(head) or (f"{module.name}.{head}" if head in module.values else None)
        if base is not None:
            found.append(f"{base}.{rest}" if rest else base)
    return found


def _thread_local_registries(project: Project) -> dict[str, tuple[str, str]]:
    """Module-level `X = scoped_session(...)` scoped to the thread (no `scopefunc=`, or one naming
    the thread's identity) or to the asyncio task: reference -> (scope, `path:line`)."""
    found: dict[str, tuple[str, str]] | None = project.derived.get("thread_local_registries")  # type: ignore[assignment]
    if found is None:
        found = {}
        for module in project.modules.values():
            for name, value in module.values.items():
                if value.kind != "call" or project.canonical(value.ref) not in SCOPED_SESSION_MAKERS:
                    continue
                scope = registry_scope_of(project, value.args, module)
                if scope in (THREAD, TASK, PROCESS, REPEATED):
                    found[f"{module.name}.{name}"] = (scope, f"{module.path}:{value.line}")
        project.derived["thread_local_registries"] = found
    return found


def _scope_words(scope: str, where: str) -> str:
    if scope == TASK:
        return f"whose scope is the asyncio task ({where})"
    if scope == PROCESS:
        return (
            f"keyed on a context variable nothing in the project sets in the request's own context ({where}): "
            "every request reads its default and gets the same Session"
        )
    if scope == REPEATED:
        return (
            f"keyed on a context variable the project may set to the same value for several requests ({where}: "
            "a value that is no `uuid4()`, `object()` or `id(request)` made for the request, such as a constant "
            "or a header the client sends): those requests get the same Session"
        )
    return f"whose scope is the thread ({where})"


def _registries_possible(project: Project) -> bool:
    """Whether any module of the project may name `scoped_session` (`facts.Module.scoped`): in
    one where none does, no value the flow reads is a registry or its `query_property()`, and
    asking each call's receiver (most of the thread-scoped walk) finds nothing."""
    found: bool | None = project.derived.get("registries_possible")  # type: ignore[assignment]
    if found is None:
        found = project.derived["registries_possible"] = any(m.scoped for m in project.modules.values())
    return found


def own_scoped_uses(project: Project, fid: FunctionId) -> list[SharedUse]:
    """The calls of `fid`'s own body on a thread-local (task-, one-key) `scoped_session`, its
    `remove()`, `commit()` and `close()` among them, each with the registry's `path:line`."""
    cache: dict[tuple[FunctionId, Spans], list[SharedUse]] = project.derived.setdefault(  # type: ignore[assignment]
        "thread_scoped_uses", {}
    )
    at = (fid, NO_SPANS)
    if at not in cache:
        cache[at] = _own_scoped_uses(project, *at)
    return cache[at]


def _own_scoped_uses(project: Project, fid: FunctionId, dead: Spans = NO_SPANS) -> list[SharedUse]:
    """`dead`: the line spans of branches that cannot run where `fid` is called from
    (`handed_constants`): no use there, and no value bound there."""
    if not _registries_possible(project):
        return []
    registries = _thread_local_registries(project)
    module, function = project.functions[fid]
    uses: list[SharedUse] = []
    # the uses that are the call of a `with` item itself (`with self.Session() as sess:`)
    entering: list[SharedUse] = []
    for call in function.calls:
        if dead and within(dead, call.line):
            continue
        found = len(uses)
        if call.callee is not None:
            # Without a module-level registry no prefix of the callee names one.
            parts = call.callee.split(".") if registries else []
            for end in range(len(parts), 0, -1):
                registry = project.canonical(".".join(parts[:end]))
                if registry in registries:
                    short = registry.rsplit(".", 1)[-1]
                    written = ".".join([short, *parts[end:]])
                    holder = f"`{short}`, a `scoped_session` {_scope_words(*registries[registry])}"
                    scope = registries[registry][0]
                    uses.append(SharedUse(
                        module.path, call.line, f"{written}()", holder, task=scope == TASK,
                        one_key=scope in (PROCESS, REPEATED), registry=registries[registry][1],
                    ))
                    break
            else:
                use = _reached_registry(project, fid, call.callee, call.line, dead)
                if use is not None:
                    uses.append(use)
        elif call.func is not None:
            use = _reached_registry(project, fid, call.func, call.line, dead)
            if use is not None:
                uses.append(use)
        if len(uses) > found and function.with_calls and (
            project.flow.entered(fid, call) is False or call.index in function.entered_alone
        ):
            entering.extend(uses[found:])
    # A plain generator's block is left later, on whichever thread runs it then: meanwhile its
    # thread's registry hands the same Session to the next request there (a dependency yielding it)
    if not entering or (function.is_generator and not _context_manager(project, fid)):
        return uses
    return _closed_by_with(function, uses, entering)


def _closed_by_with(function: facts.Function, uses: list[SharedUse], entering: list[SharedUse]) -> list[SharedUse]:
    """`uses` (of `function`'s own body), those in the block of a `with` whose item is the call of
    a thread-local registry itself or of its `begin()` (`entering`: `with self.Session() as sess:`,
    `with db_session():`, `with self.Session.begin() as sess:`) marked `closed`, when they are on
    that registry: `Session.__exit__` closes the thread's Session, the transaction's commits or
    rolls back, so neither a transaction nor a connection outlives the block. Task-keyed and one-key
    registries are left as they are (a worker thread cannot have the first's Session, and the
    second's is every request's, which the block would close under the others)."""
    blocks: list[tuple[str, int, int]] = []
    for use in entering:
        if use.task or use.one_key or use.handed or not use.certain or not use.registry:
            continue
        method = use.call.removesuffix("()").rpartition(".")[2]
        if method in _IO_OR_REMOVE and method != "begin":
            continue  # a method of the registry's Session, not the registry called nor its `begin()`
        blocks.extend((use.registry, start, end) for line, start, end in function.with_calls if line == use.line)
    if not blocks:
        return uses
    return [
        replace(use, closed=True) if any(
            use.registry == registry and start <= use.line <= end for registry, start, end in blocks
        ) else use
        for use in uses
    ]


_IO_OR_REMOVE = SESSION_IO_METHODS | {"remove"}


def _reached_registry(
    project: Project, fid: FunctionId, expression: str, line: int, dead: Spans = NO_SPANS
) -> SharedUse | None:
    """A call on (or of) a `scoped_session` the value flow finds under another name than a
    module-level one: an attribute of a module-level instance (`db.session.get(...)`, set in
    `__init__`, in the class body or handed out by a property), `self.session` in its methods.
    A registry scoped to the request is no use; one whose scope the analysis cannot read is,
    said so."""
    module, _ = project.functions[fid]
    receiver, dot, method = expression.rpartition(".")
    flow = project.flow
    candidates = [expression] if not dot or method not in _IO_OR_REMOVE else [receiver, expression]
    read = flow.query_read(fid, expression)
    if read is not None:
        candidates = [read[0]]  # `User.query...`: a Query on the registry's Session
    for candidate in candidates:
        for value in in_order(flow.evaluate(fid, candidate, dead)):
            kept = state_registry(project, value.origin) if value.kind == SESSION and value.origin else None
            if kept is not None:
                scope, where, path, at = kept
                holder = (
                    f"`{project.written(candidate)}`, the Session {path}:{at} keeps on `{value.origin}` from a "
                    f"`scoped_session` {_any_scope_words(scope, where)}: the same Session for every request "
                    "that code serves on one thread (every request, from an `async def` middleware)"
                )
                call = project.written(expression)
                remedy = (
                    f"have the code at {path}:{at} keep a Session of its own there (`{value.origin} = "
                    "SessionLocal()`, closed after the response)"
                )
                return SharedUse(module.path, line, f"{call}()", holder, scope is not None, remedy=remedy, handed=True)
            if value.kind not in (REGISTRY, QUERY):
                continue
            scope, where = cast("tuple[str | None, str]", value.target)
            if scope == REQUEST:
                continue
            written = project.written(candidate)
            call = project.written(expression)
            what = "a `query_property()` of a `scoped_session`" if value.kind == QUERY else "a `scoped_session`"
            if scope is None:
                holder = f"`{written}`, {what} ({where}) whose scope the analysis cannot read: {unread_scope(project, where)}"
                return SharedUse(module.path, line, f"{call}()", holder, certain=False)
            holder = f"`{written}`, {what} {_scope_words(scope, where)}"
            return SharedUse(
                module.path, line, f"{call}()", holder, task=scope == TASK, one_key=scope in (PROCESS, REPEATED),
                registry=where,
            )
    return None


# What `Session.close()` does on the caller's thread: a Session still in a transaction (it read and
# did not commit) hands its connection back to the pool, which rolls it back. Building a Session,
# or closing one that holds no connection, does no I/O.
_ROLLED_BACK = (
    ", and a Session still in a transaction (one that read and did not commit) hands its connection back to "
    "the pool, which rolls it back: a round trip to the database on the loop"
)


def registry_teardown_fix(project: Project, handler: Handler, blocking: list[Blocking]) -> str | None:
    """For a middleware whose only blocking Session work is on a `scoped_session` registry (the
    `db_session.remove()` of a teardown): what the call does on the loop and the one fix that
    holds for the registry's scope; None for any other work, which the general advice covers."""
    fid, function = handler.id, handler.function
    thread = {use.line: use for use in thread_registry_uses(project, fid) if use.path == handler.module.path}
    # only a registry keyed on the request: offloaded, a thread's (or one whose scope the analysis
    # cannot read) would close the worker thread's Session, not the one the request used
    registries = {
        call.line for call in function.calls
        if (call.func or call.callee or "").endswith(".remove") and (held := project.flow.holds(
            fid, (call.func or call.callee or "").rpartition(".")[0], REGISTRY
        )) is not None and isinstance(held.target, tuple) and held.target[0] == REQUEST
    }
    removes = [b for b in blocking if b.call.endswith(".remove()")]
    if all(b.line in thread for b in blocking):
        use = thread[blocking[0].line]
        name = use.call.removesuffix("()").rpartition(".")[0] or use.call.removesuffix("()")
        closes = (
            f"`{removes[0].call}` closes the Session the registry keeps for the event loop thread (the one "
            f"`async def` code there used){_ROLLED_BACK} (none when nothing on the loop used that Session); "
            if removes else ""
        )
        return (
            f"{closes}fix: not in `run_in_threadpool`: {use.holder}: in a worker thread it reaches that thread's "
            "Session, not the event loop thread's, which would stay open; scope the registry to the request "
            f"(`scopefunc=` a context variable this middleware sets), after which `await run_in_threadpool({name}."
            f"remove)` closes the request's Session off the loop; or keep the call on the loop and silence this "
            "with a pragma naming why"
        )
    if removes and len(removes) == len(blocking) and all(b.line in registries for b in removes):
        return (
            f"`{removes[0].call}` closes the request's Session (the one its routes used, a `def` route's in the "
            f"threadpool){_ROLLED_BACK}; fix: `await run_in_threadpool({removes[0].call.removesuffix('()')})`: run "
            "in a copy of the request's context, it closes the same Session off the loop"
        )
    return None


def past_constructions(project: Project, handler: Handler, blocking: list[Blocking]) -> list[Blocking]:
    """`blocking` without the lines where a hook only builds a Session or takes the registry's
    (`request.state.db = db_session()`, `session = SessionLocal()`): building one does no I/O,
    the work done with it does (its first I/O is named on the same entry, `-> session.commit()`)."""
    fid, function = handler.id, handler.function
    flow = project.flow
    lines = {o.line for o in project.opens_directly(fid)}
    lines |= {
        line for line, _, _, assigned in function.state_assigns
        if assigned.endswith("()") and flow.holds(fid, assigned) is not None
    }
    lines |= {
        b.line for b in function.bindings
        if b.expr.endswith("()") and any(v.kind == SESSION for v in flow.evaluate(fid, b.expr))
    }
    return [
        b for b in blocking
        if b.line not in lines or " -> " in b.call or b.call.startswith("uses the Session")
    ]
