"""A session dependency handing out the Session of a `scoped_session` registry (`db = db_session();
yield db`, `return db_session`) that other code reaches through the same registry.

Such a dependency opens no Session of its own: it hands the route the one the registry keeps for
the request (or the thread), which a middleware committing after the response
(`db_session.commit()`), a model mixin's `save()`, a `query_property()` read (`User.query`) or an
auth dependency's query share with the route. The async dependency phase two puts in its place
opens a second Session beside it: the route's writes are then on a Session nothing commits (a
`db.add(obj)` the middleware's commit used to save is dropped without an error), and objects the
other code loaded are not the route's. Where the project reaches the registry anywhere but in
the dependency itself (a `remove()` or `close()` aside: those only end it), the stack blocks
(AM271), naming the registry and where it is reached.
"""

from __future__ import annotations

from typing import cast

from async_migrate.codemods.flow import QUERY, REGISTRY, SESSION
from async_migrate.codemods.outcome import first_few
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.sources import is_test_path

_ENDS = frozenset({"remove", "close"})
_SHOWN = 3  # uses named in the reason


def handed_registry(project: Project, fid: FunctionId) -> tuple[str, str] | None:
    """(`where` of the registry, as the flow gives it: `path:line`; its name as written) when the
    dependency `fid` returns or yields the Session of a `scoped_session` registry, or the
    registry itself; None otherwise."""
    _, function = project.functions[fid]
    flow = project.flow
    for expression in (*function.returned, *function.yielded):
        for value in flow.evaluate(fid, expression):
            found = [value] if value.kind == REGISTRY else []
            if value.kind == SESSION and value.origin and value.origin.endswith("()"):
                # `db = db_session()`: the Session the registry's call hands out
                found = [v for v in flow.evaluate(fid, value.origin[:-2]) if v.kind == REGISTRY]
            for registry in found:
                where = cast("tuple[str | None, str]", registry.target)[1]
                return where, (registry.origin or value.origin or expression).removesuffix("()").rpartition(".")[2]
    return None


def registry_uses(project: Project, where: str, provider: FunctionId) -> list[tuple[str, int, str]]:
    """Where the application's code (tests aside) reaches the registry defined at `where` other
    than in `provider`: (path, line, call as written), one per line, in file order. A call of the
    registry, a method called on it (but `remove()` / `close()`), a `query_property()` read."""
    table: dict[str, list[tuple[str, int, str, FunctionId]]] | None = project.derived.get(  # type: ignore[assignment]
        "registry_provider.uses"
    )
    if table is None:
        table = project.derived["registry_provider.uses"] = _all_uses(project)
    return [(path, line, text) for path, line, text, fid in table.get(where, []) if fid != provider]


def _all_uses(project: Project) -> dict[str, list[tuple[str, int, str, FunctionId]]]:
    flow = project.flow
    table: dict[str, list[tuple[str, int, str, FunctionId]]] = {}
    seen: set[tuple[str, str, int]] = set()
    if not any(m.scoped for m in project.modules.values()):
        return table  # no module names `scoped_session`: no value is a registry
    for fid, module, function in project.iter_functions():
        if is_test_path(module.path):
            continue
        for call in function.calls:
            expression = call.callee if call.callee is not None else call.func
            if expression is None:
                continue
            receiver, dot, method = expression.rpartition(".")
            read = flow.query_read(fid, expression)
            if read is not None:
                candidates = [read[0]]  # `User.query.filter_by(...)`: a Query on the registry's Session
            elif dot and method in _ENDS:
                continue
            else:
                candidates = [expression, receiver] if dot else [expression]
            for candidate in candidates:
                registries = {
                    cast("tuple[str | None, str]", v.target)[1]
                    for v in flow.evaluate(fid, candidate) if v.kind in (REGISTRY, QUERY)
                }
                for where in sorted(registries):
                    if (where, module.path, call.line) in seen:
                        continue
                    seen.add((where, module.path, call.line))
                    table.setdefault(where, []).append((module.path, call.line, f"{project.written(expression)}()", fid))
                if registries:
                    break
    for uses in table.values():
        uses.sort(key=lambda u: (u[0], u[1]))
    return table


def registry_blocker(project: Project, fid: FunctionId, async_dependency: str) -> str | None:
    """AM271's reason for the session dependency `fid` handing out a registry's Session that
    other code reaches too; None when it hands out none, or nothing else reaches it."""
    handed = handed_registry(project, fid)
    if handed is None:
        return None
    where, name = handed
    uses = registry_uses(project, where, fid)
    if not uses:
        return None
    _, function = project.functions[fid]
    shown = first_few([f"{path}:{line} `{text}`" for path, line, text in uses], _SHOWN, counted=True)
    return (
        f"the session dependency `{function.qualname}` hands out the Session of the `scoped_session` `{name}` "
        f"({where}), not one it opens, and other code works on that same Session through the registry "
        f"({shown}): the async dependency `{async_dependency}` would open a second Session beside it, so "
        "a migrated route's writes would be on a Session that code no longer commits (a commit after the "
        "response, a model's `save()`), dropped without an error, and what that code loads would not be the "
        "route's: have that code take the request's Session from the dependency (or move it to an async "
        "registry by hand), then run phase two again, or give the routes a dependency that opens their Session"
    )
