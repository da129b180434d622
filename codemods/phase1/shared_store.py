"""The request's Session stored on an object every request shares (AM143), by a handler or a plain
helper it calls in place.

`REGISTRY["Order"].session = db`, `repo.session = db` on a module-level `repo`, `setattr(REPO,
"session", db)`, `Repo.session = db` on the class: the next line's `REGISTRY["Order"].get(1)`
reads the Session back from that one object. In an `async def` with no await between the store
and the use, no other request runs in between; as `def`, FastAPI runs it in the threadpool, where
concurrent requests overwrite each other's store and one request's queries run on another's
Session (from two threads at once, which SQLAlchemy does not support). Made async on an
AsyncSession, the awaits phase two adds between the store and the use let other requests in.

The object is shared when the receiver starts from a module-level name (a module global, a class,
a module, what a router factory's closure holds), or from a local bound to an item or attribute of
one (`repo = REGISTRY["Order"]`, `repo = REGISTRY.get("Order")`, `repo = REPO`), or from the
application's state (`request.app.state.services.repo.session = db`). A method run on an instance
every request shares (`services.bind(db)` on a module-level `services`, `services.repo.use(db)`
on what it holds, `self.repo.use(db)` from a method of such an instance: AM140's reading of a
shared receiver) stores on a shared object when it stores on `self` (`self.session = db`,
`self.repo.session = db`), as a classmethod does on `cls`. So does a method of what the project
keeps on the application's state (`request.app.state.services.bind(db)`, also through `state =
request.app.state`): the call graph has no edge for that call, so the walk adds it, carrying which
of the method's parameters the call hands the Session (the value flow does not follow it either).
A module-level `threading.local()` is each thread's own (AM141), not shared; `request.state` is
the request's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.flow import SESSION, app_state_methods, split
from async_migrate.codemods.phase1.helper_reach import first_reached
from async_migrate.codemods.phase1.shared_updates import (
    constructs,
    receiver_shared,
    shared_through,
)
from async_migrate.codemods.phase1.thread_local import thread_local_objects
from async_migrate.codemods.project import Edge, FunctionId, Project

# A function, whether it runs on an instance every request shares, and its parameters handed the
# request's Session by a call the value flow does not follow.
Key = tuple[FunctionId, bool, frozenset[str]]

# Calls reading an item of a container without building anything (`REGISTRY.get("Order")`).
_ITEM_READS = (".get()", ".setdefault()", ".__getitem__()")


@dataclass(frozen=True, slots=True)
class SharedStore:
    """One store of a Session on a shared object: the store as written, the shared object, where;
    and the helpers a handler calls to reach it (empty for its own body), with the line of the call."""

    written: str
    shared: str
    line: int
    path: str
    helpers: tuple[FunctionId, ...] = ()
    call_line: int = 0


def own_stores(
    project: Project, fid: FunctionId, self_shared: bool = False, given: frozenset[str] = frozenset()
) -> list[SharedStore]:
    """The function's own stores of a Session on an object every request shares, in line order.
    `self_shared`: the method runs on an instance every request shares (`services.bind(db)` on a
    module-level `services`), so its stores on `self` (`self.session = db`, `self.repo.session =
    db`) are too; a classmethod's on `cls` always are. `given`: its parameters handed the Session
    by a call the value flow does not follow (`_app_state_edges`)."""
    module, function = project.functions[fid]
    first = _shared_first(project, fid, self_shared)
    if not function.attribute_stores and first is None:
        return []
    found = []
    for line, receiver, attribute, value, root in function.attribute_stores:
        shared = first if first is not None and root == f"${first}" else _shared_root(project, function, root)
        if shared is None and root.startswith("$") and receiver.startswith("$"):
            # `request.app.state.services.repo.session = db`: the application's state, also through
            # a local bound to it (AM140's reading)
            through = shared_through(project, function, receiver[1:])
            shared = through.rpartition(".app.state.")[0] + ".app.state" if through and ".app.state." in through \
                else through
        if shared is None or not _session(project, fid, value, given):
            continue
        found.append(SharedStore(_written(project, receiver, root, attribute, value), shared, line, module.path))
    if first is not None:
        lines = function.assign_lines or (function.line,) * len(function.assigns)
        for (attribute, value), line in zip(function.assigns, lines, strict=True):
            if _session(project, fid, value, given):
                shown = project.written(value).lstrip("$")
                found.append(SharedStore(f"{first}.{attribute} = {shown}", first, line, module.path))
    return sorted(found, key=lambda store: store.line)


def _session(project: Project, fid: FunctionId, value: str, given: frozenset[str] = frozenset()) -> bool:
    return value[1:] in given or any(v.kind == SESSION for v in project.flow.evaluate(fid, value))


def _shared_first(project: Project, fid: FunctionId, self_shared: bool) -> str | None:
    """The name of the method's first parameter where it is an object every request shares."""
    function = project.functions[fid][1]
    first = function.params[0] if function.params and function.params[0].positional else None
    if first is None or project_classes(project).owner(fid) is None or facts.is_staticmethod(function.decorators):
        return None
    return first.name if self_shared or facts.is_classmethod(function.decorators) else None


def reached_store(project: Project, fid: FunctionId, self_shared: bool = False) -> SharedStore | None:
    """The first such store a plain `def` helper the function calls in place makes (not nested,
    offloaded or awaited calls, no `async def` helper), followed through the call graph, with
    whether each method runs on an instance every request shares (AM140's reading of it)."""
    memo: dict[Key, SharedStore | None] = project.derived.setdefault(  # type: ignore[assignment]
        "phase1.shared_store", {}
    )
    classes = project_classes(project)

    def steps(key: Key) -> Iterable[tuple[Edge, Key]]:
        current, shared, given = key
        kept = _app_state_edges(project, current)
        graph = [*project.all_calls_from[current]]
        seen = {(e.call.index, e.callee) for e in graph}
        edges = graph + [e for e in kept if (e.call.index, e.callee) not in seen]
        on_state = {(e.call.index, e.callee) for e in kept}
        for edge in sorted(edges, key=lambda e: e.call.line):
            call = edge.call
            if not (call.nested or call.offloaded or call.awaited or project.functions[edge.callee][1].is_async):
                unseen = (call.index, edge.callee) in on_state
                # a class called builds a new instance: its `__init__`'s `self` is no one else's
                held = (unseen or _on_shared(project, edge, shared)) and not constructs(project, edge)
                # the value flow follows no call it has no edge for, nor on from a parameter only
                # such a call hands the Session: carried here
                handed = _handed(project, edge, given, unseen) if unseen or given else frozenset()
                yield edge, (edge.callee, classes.owner(edge.callee) is not None and held, handed)

    # each callee's own first store, asked again by every handler calling it
    firsts: dict[Key, SharedStore | None] = project.derived.setdefault(  # type: ignore[assignment]
        "phase1.shared_store.own", {}
    )

    def own(key: Key) -> SharedStore | None:
        if key not in firsts:
            firsts[key] = next(iter(own_stores(project, *key)), None)
        return firsts[key]

    return first_reached(
        (fid, self_shared, frozenset()), memo, steps, own,
        lambda found, callee, line: replace(found, helpers=(callee, *found.helpers), call_line=line),
    )


def _handed(project: Project, edge: Edge, given: frozenset[str], unseen: bool) -> frozenset[str]:
    """The callee's parameters handed the Session by the caller's `given` parameters, or (for a
    call the value flow does not follow, `unseen`) by any Session the caller holds."""

    def session(arg: facts.Arg) -> str | None:
        name = arg.name
        if name is None:
            return None
        return name if name in given or (unseen and _session(project, edge.caller, f"${name}")) else None

    return frozenset(project.params_given(edge.call, project.functions[edge.callee][1], session))


def _app_state_edges(project: Project, fid: FunctionId) -> list[Edge]:
    """Calls of a method on what the project keeps in the application's state
    (`request.app.state.services.bind(db)`, `app.state.services = Services()` in the lifespan or at
    import), also through a local bound to the state or to the kept object (`state =
    request.app.state`, `held = request.app.state.services`): the call graph has no edge for them,
    and the one kept instance serves every request, so a store on its `self` is shared."""
    function = project.functions[fid][1]
    flow = project.flow
    found: list[Edge] = []
    for call in function.calls:
        expression = call.func
        if expression is None or not expression.startswith("$") or "." not in expression:
            continue
        head, steps = split(expression)
        alias = flow._connection_alias(fid, head[1:]) if steps[:2] != (".app", ".state") else None
        if alias is not None:
            # `state = request.app.state` (or `app = request.app`), not `request.state`: per request
            inner, more = split(alias)
            head, steps = inner, more + steps
            if steps[:2] != (".app", ".state"):
                continue
            expression = head + "".join(steps)
        kept = app_state_methods(flow, fid, expression)
        if kept is None:
            continue
        found.extend(Edge(fid, method, call, {}, via=expression) for method in kept[1] if method in project.functions)
    return found


def _on_shared(project: Project, edge: Edge, self_shared: bool) -> bool:
    """Whether the method an edge calls runs on an instance every request shares: AM140's
    reading (`stats.bump(k)`, `self.x.f()` of a shared `self`, a dependency handing one instance),
    what a module-level instance holds (`services.repo.use(db)`), or a local bound to a shared
    object (`repo = REGISTRY["Order"]`, then `repo.use(db)`)."""
    if receiver_shared(project, edge, self_shared):
        return True
    call = edge.call
    if call.callee is not None and not call.callee.startswith("$"):
        owner = call.callee.rpartition(".")[0]
        while "." in owner:  # `services.repo.use`: an attribute of the module-level `services`
            owner = owner.rpartition(".")[0]
            target = project.resolve(owner)
            if target is not None:
                return target.kind == "value" and project.canonical(owner) not in thread_local_objects(project)
        return False
    written = call.func or ""
    if not written.startswith("$") or "(" in written:
        return False
    head = written.partition(".")[0]
    return head != written and _shared_root(project, project.functions[edge.caller][1], head) is not None


def _shared_root(project: Project, function: facts.Function, root: str) -> str | None:
    """The shared object a store's receiver starts from (as written), or None for one of the
    function's own (a parameter, an object it builds) or a thread's own."""
    if not root.startswith("$"):
        held = project.canonical(root) or root
        return None if held in thread_local_objects(project) else project.written(root)
    name = root[1:]
    if "." in name or "(" in name or any(p.name == name for p in function.params):
        return None
    bound = [b for b in function.bindings if b.name == name]
    container = function.items.get(name)
    if container is not None and not bound:
        # `repo = REGISTRY["Order"]`: an item of a module-level container
        return _shared_root(project, function, container) if not container.startswith("$") else None
    if not bound or any(b.entered for b in bound):
        return None
    shared = []
    for binding in bound:
        expr = binding.expr
        for read in _ITEM_READS:
            if expr.endswith(read):
                expr = expr[: -len(read)]
                break
        if expr.startswith("$") or "(" in expr or expr == facts.UNSPELLED:
            return None  # a local's, or what a call builds or returns
        held = project.canonical(expr) or expr
        if held in thread_local_objects(project):
            return None
        target = project.resolve(expr)
        if target is not None and target.kind == "function":
            return None
        shared.append(project.written(expr))
    return shared[0]


def _written(project: Project, receiver: str, root: str, attribute: str, value: str) -> str:
    """The store as the reason shows it: `repo.session = db`, `REGISTRY[...].session = db`."""
    shown = project.written(value).lstrip("$")
    if receiver == facts.UNSPELLED:
        target = f"{project.written(root).lstrip('$')}[...]"
    else:
        target = project.written(receiver).lstrip("$")
    if not attribute:
        return f"setattr({target}, <a name computed at run time>, {shown})"
    return f"{target}.{attribute} = {shown}"
