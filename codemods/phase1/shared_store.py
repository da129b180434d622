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
one (`repo = REGISTRY["Order"]`, `repo = REGISTRY.get("Order")`, `repo = REPO`). A module-level
`threading.local()` is each thread's own (AM141), not shared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from async_migrate.codemods import facts
from async_migrate.codemods.flow import SESSION
from async_migrate.codemods.phase1.helper_reach import first_reached
from async_migrate.codemods.phase1.thread_local import thread_local_objects
from async_migrate.codemods.project import Edge, FunctionId, Project

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


def own_stores(project: Project, fid: FunctionId) -> list[SharedStore]:
    """The function's own stores of a Session on an object every request shares, in line order."""
    module, function = project.functions[fid]
    if not function.attribute_stores:
        return []
    found = []
    for line, receiver, attribute, value, root in function.attribute_stores:
        shared = _shared_root(project, function, root)
        if shared is None or not any(v.kind == SESSION for v in project.flow.evaluate(fid, value)):
            continue
        found.append(SharedStore(_written(project, receiver, root, attribute, value), shared, line, module.path))
    return sorted(found, key=lambda store: store.line)


def reached_store(project: Project, fid: FunctionId) -> SharedStore | None:
    """The first such store a plain `def` helper the function calls in place makes (not nested,
    offloaded or awaited calls, no `async def` helper), followed through the call graph."""
    memo: dict[FunctionId, SharedStore | None] = project.derived.setdefault(  # type: ignore[assignment]
        "phase1.shared_store", {}
    )

    def steps(current: FunctionId) -> Iterable[tuple[Edge, FunctionId]]:
        for edge in sorted(project.all_calls_from[current], key=lambda e: e.call.line):
            call = edge.call
            if not (call.nested or call.offloaded or call.awaited or project.functions[edge.callee][1].is_async):
                yield edge, edge.callee

    return first_reached(
        fid, memo, steps, lambda callee: next(iter(own_stores(project, callee)), None),
        lambda found, callee, line: replace(found, helpers=(callee, *found.helpers), call_line=line),
    )


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
