"""Updates of state every request shares, read from its own value (AM140), and the helpers reaching one.

On the event loop, the code between two awaits runs with no other request in between; in the
threadpool, concurrent requests interleave, and a read-modify-write of shared state
(`COUNTER += 1`, `self.hits[k] = self.hits.get(k, 0) + 1` on one instance) can lose an update.
State is shared when it is a module-level name or an attribute or item of one (a class, a
module-level instance, what a router factory's closure holds; the application's state,
`request.app.state.hits`, also through a local bound to it), an attribute of a class through
`cls`, or an attribute of `self` where `self` is one instance every request reaches: a route that
is a bound method of it (`router.add_api_route("/hit", h.hit)`), a callable instance dependency,
a method called on a module-level instance (`stats.bump(k)`), on `self` of such an instance, or
on what a dependency hands every request (`Depends(get_stats)` returning a module-level instance,
or under `@lru_cache`).
A class FastAPI builds per request (a class dependency, a fastapi-utils `@cbv` view) is not
shared. An update inside `with LOCK:` on a `threading.Lock` (a module-level one, or one
`__init__` sets on `self`) is safe, as is a call made inside such a block.

Over 500 lines: each kind of update (names, items, caches, generators, check-then-act) is judged
shared by the same reading of locks, instances and dependencies, and reached through one walk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.check_then_act import FRESH, UNSET_TEST
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.handlers import HandlerKind
from async_migrate.codemods.phase1.helper_reach import first_reached
from async_migrate.codemods.project import Edge, FunctionId, Handler, Project
from async_migrate.codemods.vocabulary.fastapi import CBV_DECORATORS
from async_migrate.codemods.vocabulary.python import (
    ASYNC_LOCKS,
    CACHE_CLASSES,
    CACHES,
    THREAD_LOCKS,
    UNLOCKED_CACHES,
)

_REFERENCE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


@dataclass(frozen=True, slots=True)
class SharedUpdate:
    """A read-modify-write of shared state: what (`COUNTER`, `self.hits`), where, and the helpers
    a handler calls to reach it (empty for its own body), each with the line of the call."""

    # "global" (`global n`), "free" (`COUNTS[k]`, `Stats.total`), "self" (`self.hits`, `cls.total`),
    # "generator" (`next(IDS)`, `IDS.send(x)` on a generator every request shares, as written),
    # "cache" (a cachetools decorator given no `lock=`, as written: `@cached(TTLCache(...))`; or a
    # write to a module-level cachetools cache: `CACHE`), "self-cache" (a write to a cachetools
    # cache a shared instance holds: `self.cache`)
    kind: str
    subject: str
    line: int
    path: str
    helpers: tuple[FunctionId, ...] = ()
    call_line: int = 0
    # of a check-then-act ("check"): the read and the change as written (`line` is the change's)
    read_line: int = 0
    read: str = ""
    write: str = ""


@dataclass(frozen=True, slots=True)
class CheckThenAct:
    """A read of a path (`key in SEEN`) and a later change of it (`SEEN.add(key)`) in one body."""

    kind: str  # "free", "bound" or "self", as `facts.Function.check_then_act` says
    path: str
    read_line: int
    read: str
    write_line: int
    write: str
    # the read or the change is a method call (`.get`, `.add`): a container's only if the object is
    # not an instance of a project class (`crud.task.get(db, id)`, `crud.task.update(...)`)
    by_method: bool = False


def shared_self(project: Project, handler: Handler) -> bool:
    """A handler that is a method of one instance every request shares: a dependency's `__call__`
    or bound method (`Depends(RateLimiter(5))`, `Depends(limiter.check)`), or a route registered
    as a bound method (`router.add_api_route("/hit", h.hit)`, `app.get("/x")(h.hit)`). Not a
    class FastAPI builds per request (`__init__`), nor a fastapi-utils `@cbv` view's method."""
    classes = project_classes(project)
    owner = classes.owner(handler.id)
    if owner is None or handler.function.name == "__init__" or facts.is_staticmethod(handler.function.decorators):
        return False
    if any(ref in CBV_DECORATORS for ref in classes.by_ref[owner][1].decorators):
        return False
    if handler.kind == "dependency":
        return True
    # a route decorator inside a class body registers the plain function, not a bound method
    return any(r.decorator is None for r in handler.registrations)


def _is_lock(project: Project, fid: FunctionId, expression: str, locks: frozenset[str] = THREAD_LOCKS) -> bool:
    """`LOCK` bound to `threading.Lock()` at module level, or `self.lock` set to one on the class
    (or to one of `locks`)."""
    function = project.functions[fid][1]
    if expression.startswith("$"):
        first = function.params[0].name if function.params and function.params[0].positional else None
        head, _, attribute = expression[1:].partition(".")
        classes = project_classes(project)
        owner = classes.owner(fid)
        if head != first or not attribute or "." in attribute or owner is None:
            return False
        for ref in classes.mro(owner):
            found = classes.by_ref.get(ref)
            held = found[1].held.get(attribute) if found is not None else None
            if held is not None:
                return held.kind == "call" and held.ref in locks
            if found is not None and attribute in found[1].instance_built:
                return project.canonical(found[1].instance_built[attribute]) in locks
            if found is not None and attribute in found[1].built:
                # `_lock = threading.Lock()` in the class body: one lock for the class, through
                # `cls` in a classmethod or `self` in any instance
                return project.canonical(found[1].built[attribute]) in locks
        return False
    target = project.resolve(expression)
    return (
        target is not None
        and target.kind == "value"
        and target.value is not None
        and target.value.kind == "call"
        and target.value.ref in locks
    )


def _guarded(project: Project, fid: FunctionId, line: int) -> bool:
    function = project.functions[fid][1]
    return any(start <= line <= end and _is_lock(project, fid, e) for e, start, end in function.locked)


def check_then_acts(function: facts.Function) -> list[CheckThenAct]:
    """Each path's reads paired with the changes made after them on the same path through the body
    (a later statement, or one inside the `if` that read it), read first. Statements in separate
    branches (`if k in S: ... else: S.add(k)`) are paired too: the read ran before either. A lazy
    initialisation (`if _client is None: _client = build()`) is not: run twice, it builds two
    equal objects, one of them used by the requests that raced."""
    found = []
    accesses = function.check_then_act
    for kind, path, line, order, changes, text, method in accesses:
        if changes:
            continue
        for _, other, at, later, act, done, called in accesses:
            if not act or other != path or later <= order or (method == UNSET_TEST and called == FRESH):
                continue
            found.append(CheckThenAct(kind, path, line, text, at, done, method not in ("", UNSET_TEST) or called not in ("", FRESH)))
    return found


def _locked_together(project: Project, fid: FunctionId, first: int, last: int, asynchronous: bool = False) -> bool:
    """Both lines inside one `with LOCK:` on a `threading.Lock` (or, `asynchronous`, also inside one
    `async with LOCK:` on an `asyncio.Lock`): no other thread (or task) runs between them under it."""
    function = project.functions[fid][1]
    if any(start <= first and last <= end and _is_lock(project, fid, e) for e, start, end in function.locked):
        return True
    return asynchronous and any(
        start <= first and last <= end and _is_lock(project, fid, e, ASYNC_LOCKS) for e, start, end in function.async_locked
    )


def shared_check_then_acts(
    project: Project, fid: FunctionId, self_shared: bool, asynchronous: bool = False
) -> list[CheckThenAct]:
    """The function's check-then-acts on state every request shares (as `own_updates` judges it),
    each as the path every request shares, not made under one lock."""
    module, function = project.functions[fid]
    if not function.check_then_act:
        return []
    first = function.params[0] if function.params and function.params[0].positional else None
    self_ok = first is not None and not facts.is_staticmethod(function.decorators) and (
        self_shared or facts.is_classmethod(function.decorators)
    )
    found = []
    for pair in check_then_acts(function):
        if pair.kind == "self" and not self_ok:
            continue
        path = pair.path if pair.kind != "bound" else shared_through(project, function, pair.path)
        if path is None or _locked_together(project, fid, pair.read_line, pair.write_line, asynchronous):
            continue
        if pair.by_method and _project_instance(project, fid, pair.kind, path):
            continue
        found.append(replace(pair, path=path))
    return found


def _project_instance(project: Project, fid: FunctionId, kind: str, path: str) -> bool:
    """Whether `path` holds an instance of a project class (`task = CRUDTask(Task)` at module level,
    `self.repo = Repo()` in `__init__`), a project function or a module: its `.get`, `.update` are
    its own methods, not a container's. Unknown: no (a container, as far as the analysis sees)."""
    module = project.functions[fid][0]
    classes = project_classes(project)
    if kind == "self":
        attribute = path.partition(".")[2]
        owner = classes.owner(fid)
        if owner is None or "." in attribute:
            return False
        built = instance_built(project, owner, attribute)
        return built is not None and project.canonical(built) in classes.by_ref
    target = project.resolve(path if path.startswith(f"{module.name}.") else f"{module.name}.{path}")
    if target is None:
        return False
    if target.kind in ("function", "module"):
        return True
    value = target.value
    return target.kind == "value" and value is not None and value.kind == "call" and (
        project.canonical(value.ref) in classes.by_ref
    )


def own_updates(project: Project, fid: FunctionId, self_shared: bool) -> list[SharedUpdate]:
    """The function's own unguarded updates of shared state, in line order: a check-then-act
    ("check") after the other kinds on its line, at its change's line."""
    module, function = project.functions[fid]
    found = [("global", name, line) for name, line in function.global_updates]
    found.extend(("free", path, line) for path, line in function.free_updates)
    for path, line in function.bound_updates:
        shared = shared_through(project, function, path)
        if shared is not None:
            found.append(("free", shared, line))
    first = function.params[0] if function.params and function.params[0].positional else None
    static = facts.is_staticmethod(function.decorators)
    if first is not None and not static and (self_shared or facts.is_classmethod(function.decorators)):
        found.extend(("self", f"{first.name}.{attribute}", line) for attribute, line in function.self_updates)
    for decorator, cache in unlocked_caches(project, function):
        # `cachedmethod` keeps its cache on the instance: shared when the instance is
        if cache == "cachetools.cached" or (first is not None and not static and self_shared):
            found.append(("cache", f"@{decorator.text}", decorator.line))
    if first is not None and not static and self_shared:
        found.extend(("self-cache", f"{first.name}.{attribute}", line) for attribute, line in _cache_writes(project, fid))
    for path, line in function.free_writes:
        target = project.resolve(f"{module.name}.{path}")
        value = target.value if target is not None and target.kind == "value" else None
        if value is not None and value.kind == "call" and project.canonical(value.ref) in CACHE_CLASSES:
            found.append(("cache", path, line))
    found.extend(
        ("generator", subject, line)
        for subject, line in _advanced_generators(project, fid, first.name if first is not None and not static else None, self_shared)
    )
    updates = [
        SharedUpdate(kind, subject, line, module.path) for kind, subject, line in found if not _guarded(project, fid, line)
    ]
    updated = {(u.subject, u.line) for u in updates}
    for pair in shared_check_then_acts(project, fid, self_shared):
        if (pair.path, pair.write_line) not in updated:  # `COUNTS[k] = COUNTS.get(k, 0) + 1` is one update
            updates.append(
                SharedUpdate("check", pair.path, pair.write_line, module.path, read_line=pair.read_line,
                             read=pair.read, write=pair.write)
            )
    return sorted(updates, key=lambda update: update.line)


# Resuming a generator runs its frame up to the next `yield`; a second thread resuming it meanwhile
# gets `ValueError: generator already executing`, where on the event loop no other request runs
# until it yields.
_RESUMING = frozenset({"send", "throw", "__next__"})


def _advanced_generators(
    project: Project, fid: FunctionId, first: str | None, self_shared: bool
) -> list[tuple[str, int]]:
    """The function's own resumptions (`next(IDS)`, `next(IDS, 0)`, `IDS.send(x)`, `IDS.__next__()`)
    of a generator every request shares, as written, with the line: a module-level name bound to a
    call of a project generator function (`IDS = _ids()`), or, on an instance every request shares,
    an attribute its class binds to one (`self._ids = _ids()`)."""
    function = project.functions[fid][1]
    found = []
    for call in function.calls:
        if call.nested:
            continue
        if call.callee == "next" and call.args and call.args[0].position == 0:
            argument = call.args[0]
            written = argument.ref or argument.expr
        elif call.method in _RESUMING and call.callee is not None and not call.callee.startswith("$"):
            written = call.callee.rpartition(".")[0]
        elif call.func is not None and call.func.rpartition(".")[2] in _RESUMING:
            written = call.func.rpartition(".")[0]
        else:
            continue
        subject = _shared_generator(project, fid, written, first if self_shared else None)
        if subject is not None:
            found.append((subject, call.line))
    return found


def _shared_generator(project: Project, fid: FunctionId, written: str | None, first: str | None) -> str | None:
    """`written` (a resolved module-level reference, or `$self.attr` on a shared instance) as the
    generator every request shares it names, as written, or None."""
    if not written:
        return None
    if written.startswith("$"):
        head, _, attribute = written[1:].partition(".")
        classes = project_classes(project)
        owner = classes.owner(fid)
        if first is None or head != first or not attribute or "." in attribute or owner is None:
            return None
        return f"{head}.{attribute}" if _generator_function(project, instance_built(project, owner, attribute)) else None
    target = project.resolve(written)
    value = target.value if target is not None and target.kind == "value" else None
    if value is None or value.kind != "call" or not _generator_function(project, value.ref):
        return None
    return written.rpartition(".")[2]


def _generator_function(project: Project, ref: str | None) -> bool:
    target = project.resolve(ref) if ref else None
    function = target.function if target is not None and target.kind == "function" else None
    return function is not None and function.is_generator and not function.is_async


def shared_through(project: Project, function: facts.Function, path: str) -> str | None:
    """`path` (an item or attribute of a parameter or local) as the state every request shares it
    stands for, as written (`request.app.state.hits_by_order` for `hits`), or None: the
    application's state (`request.app.state.hits`, the same for every request), or a local bound,
    once, to that or to a module-level object (`hits = request.app.state.hits_by_order`,
    `hits = HITS`)."""
    head, _, rest = path.partition(".")
    # `.app.state` is a Starlette connection's application (a request, a websocket, a helper's
    # parameter handed one), whatever the name's annotation says
    if rest.startswith("app.state."):
        return path
    bindings = [b for b in function.bindings if b.name == head]
    if len(bindings) != 1 or bindings[0].entered or any(p.name == head for p in function.params):
        return None
    expression = bindings[0].expr
    if expression.startswith("$"):
        held = expression[1:].partition(".")[2].startswith("app.state.")
    else:
        # a reference as written, to a module-level name or what a closure holds (no call, no item)
        held = _REFERENCE.fullmatch(expression) is not None and expression not in ("None", "True", "False")
    return project.written(expression) + path[len(head):] if held else None


def _cache_writes(project: Project, fid: FunctionId) -> list[tuple[str, int]]:
    """The method's writes to a cachetools cache its instance holds (`self.cache[k] = v` where a
    method of the class, or of a base, binds `self.cache = TTLCache(...)`), with the line."""
    function = project.functions[fid][1]
    if not function.self_writes:
        return []
    owner = project_classes(project).owner(fid)
    if owner is None:
        return []
    found = []
    for attribute, line in function.self_writes:
        built = instance_built(project, owner, attribute)
        if built is not None and project.canonical(built) in CACHE_CLASSES:
            found.append((attribute, line))
    return found


def instance_built(project: Project, owner: str, attribute: str) -> str | None:
    """What the nearest class of `owner`'s MRO binding `self.<attribute>` to a call in its methods
    calls (`facts.ClassFacts.instance_built`: "" where it also binds anything else), or None."""
    classes = project_classes(project)
    for ref in classes.mro(owner):
        found = classes.by_ref.get(ref)
        if found is not None and attribute in found[1].instance_built:
            return found[1].instance_built[attribute]
    return None


def unlocked_caches(project: Project, function: facts.Function) -> list[tuple[facts.Decorator, str]]:
    """The function's cachetools decorators given no `lock=` (`@cached(TTLCache(...))`, also through
    a module-level alias `ttl = cached(TTLCache(...))`), each with the one it is. Every call reads
    and writes the cache: its bookkeeping (`currsize += ...`, the LRU order, expiry) is updated
    from its own value, which two threads can interleave, losing an update or evicting a key the
    other is reading (`KeyError`)."""
    found = []
    for decorator in function.decorators:
        name = project.canonical(decorator.callee)
        keywords = decorator.keywords
        if not decorator.is_call:
            target = project.resolve(decorator.callee)
            value = target.value if target is not None and target.kind == "value" else None
            if value is None or value.kind != "call":
                continue
            name = project.canonical(value.ref)
            keywords = tuple(arg.keyword for arg in value.args if arg.keyword)
        if name in UNLOCKED_CACHES and "lock" not in keywords:
            found.append((decorator, name))
    return found


def constructs(project: Project, edge: Edge) -> bool:
    """Whether the edge builds an instance (`ItemRepo(db)`, `self.make_repo(db)` holding the class):
    its `__init__` called other than as `super().__init__(...)` or `Base.__init__(self, ...)`,
    which run on the caller's own instance."""
    if project.functions[edge.callee][1].qualname.rpartition(".")[2] != "__init__":
        return False
    written = edge.call.func or edge.call.callee or ""
    return not written.endswith(".__init__")


def receiver_shared(project: Project, edge: Edge, self_shared: bool) -> bool:
    """Whether the instance a method edge runs on is shared: a module-level value
    (`stats.bump(k)`), or `self` (or what it holds) of a shared instance. A class called through
    one (`shared.make_thing()` holding `Thing`) builds a new instance: not shared."""
    if constructs(project, edge):
        return False
    call = edge.call
    if call.callee is not None and not call.callee.startswith("$"):
        owner = call.callee.rpartition(".")[0]
        target = project.resolve(owner) if owner else None
        return target is not None and target.kind == "value"
    caller = project.functions[edge.caller][1]
    first = caller.params[0].name if caller.params and caller.params[0].positional else None
    written = call.func or ""
    if self_shared and first is not None and written.startswith(f"${first}."):
        return True
    head = written[1:].partition(".")[0] if written.startswith("$") else ""
    param = next((p for p in caller.params if p.name == head), None)
    if param is None:
        return False
    # `s: StatsDep`, `StatsDep = Annotated[Stats, Depends(get_stats)]` too
    declared = project.param_dependency(param)
    return declared is not None and _hands_one_instance(project, declared)


def _hands_one_instance(project: Project, ref: str | None) -> bool:
    """A dependency handing every request the same object: one under `@lru_cache` / `@cache`, or
    one returning a module-level instance (`def get_stats(): return stats`)."""
    target = project.resolve(ref) if ref else None
    if target is None or target.kind != "function" or target.function is None:
        return False
    function = target.function
    if any(d.callee in CACHES for d in function.decorators):
        return True
    returned = [r for r in function.returned if r]
    return bool(returned) and all(
        not r.startswith("$") and "(" not in r and (found := project.resolve(r)) is not None and found.kind == "value"
        for r in returned
    )


def reached_update(project: Project, fid: FunctionId, self_shared: bool) -> SharedUpdate | None:
    """The first update of shared state a plain `def` helper the function calls in place makes,
    followed through the call graph as the event-loop needs are (not nested, offloaded or awaited
    calls, no `async def` helper; not a call made holding a `threading.Lock`)."""
    memo: dict[tuple[FunctionId, bool], SharedUpdate | None] = project.derived.setdefault(  # type: ignore[assignment]
        "phase1.shared_updates", {}
    )
    classes = project_classes(project)

    def steps(key: tuple[FunctionId, bool]) -> Iterable[tuple[Edge, tuple[FunctionId, bool]]]:
        current, shared = key
        for edge in sorted(project.all_calls_from[current], key=lambda e: e.call.line):
            call = edge.call
            callee = project.functions[edge.callee][1]
            if call.nested or call.offloaded or call.awaited or callee.is_async or _guarded(project, current, call.line):
                continue
            yield edge, (edge.callee, classes.owner(edge.callee) is not None and receiver_shared(project, edge, shared))

    # each callee's own first update, asked again by every handler calling it
    firsts: dict[tuple[FunctionId, bool], SharedUpdate | None] = project.derived.setdefault(  # type: ignore[assignment]
        "phase1.shared_updates.own", {}
    )

    def own(key: tuple[FunctionId, bool]) -> SharedUpdate | None:
        if key not in firsts:
            firsts[key] = next((u for u in own_updates(project, *key) if not already_threaded(project, key[0], u)), None)
        return firsts[key]

    return first_reached(
        (fid, self_shared), memo, steps, own,
        lambda found, callee, line: replace(found, helpers=(callee, *found.helpers), call_line=line),
    )


def already_threaded(project: Project, fid: FunctionId, update: SharedUpdate) -> FunctionId | None:
    """The `def` route or dependency that already runs `fid`, which makes `update`, in FastAPI's
    threadpool on the requests it serves, or None. Its worker threads run the update while the event
    loop and other workers run it too, so on the loop it is not alone between the read and the
    change: the race a `def` would bring is there already, and keeping the route async does not
    avoid it. Only for state that is the same whoever calls `fid` (a module-level name or what it
    holds, the application's state), not state on `self`, which may be another instance there."""
    if update.kind not in ("global", "free", "check", "generator"):
        return None
    function = project.functions[fid][1]
    first = function.params[0].name if function.params and function.params[0].positional else None
    if update.kind in ("check", "generator") and first is not None and update.subject.partition(".")[0] == first:
        return None
    return threaded_functions(project).get(fid)


def threaded_functions(project: Project) -> dict[FunctionId, FunctionId]:
    """Each function a `def` route or dependency runs in place (itself, and the plain helpers it
    calls, not nested, awaited or `async def` ones), with the first such handler found: FastAPI runs
    those handlers in its threadpool, several requests at once, beside the event loop."""
    found: dict[FunctionId, FunctionId] | None = project.derived.get("phase1.threaded")  # type: ignore[assignment]
    if found is not None:
        return found
    found = {}
    for handler in project.handlers:
        if handler.kind not in (HandlerKind.ROUTE, HandlerKind.DEPENDENCY) or handler.function.is_async:
            continue
        if handler.id in found:
            continue
        found[handler.id] = handler.id
        frontier = [handler.id]
        while frontier:
            current = frontier.pop()
            for edge in project.all_calls_from.get(current, ()):
                call = edge.call
                if call.nested or call.awaited or edge.callee in found or project.functions[edge.callee][1].is_async:
                    continue
                found[edge.callee] = handler.id
                frontier.append(edge.callee)
    project.derived["phase1.threaded"] = found
    return found


def updating_calls(project: Project, handler: Handler) -> set[int]:
    """Indexes of the handler's calls of a plain helper that updates shared state (in its body or
    deeper): `--offload-mixed` must leave them on the loop, since in the threadpool the update
    would race exactly as it would in a `def`."""
    self_shared = shared_self(project, handler)
    classes = project_classes(project)
    found = set()
    for edge in project.all_calls_from[handler.id]:
        call = edge.call
        if call.nested or call.offloaded or call.awaited or project.functions[edge.callee][1].is_async:
            continue
        if _guarded(project, handler.id, call.line):
            continue
        shared = classes.owner(edge.callee) is not None and receiver_shared(project, edge, self_shared)
        if own_updates(project, edge.callee, shared) or reached_update(project, edge.callee, shared) is not None:
            found.add(call.index)
    return found
