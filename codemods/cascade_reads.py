"""A refresh whose cascade leaves unloaded what the response model reads below it, in a route already on an AsyncSession.

`await db.refresh(order)` on an `Order` whose `lines` relationship holds refresh-expire in its
cascade (`cascade="all, delete-orphan"`) refreshes each `Line` too, which may leave `Line.product`
unloaded whatever loader options loaded it; a route returning `order` under a response model
reading `OrderOut.lines[].product` then loads it while FastAPI serialises the response, outside
the greenlet: MissingGreenlet. Check's AM314 reads it where the route refreshes the object it
returns itself, or returns what a project function refreshed whole on the Session the route gave
it (`return await pay(db, order)`). Phase two blocks the same shape in code it migrates (AM291,
`phase2.refresh_cascade`), whose field paths and cascading relationships this reads.
"""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.helper_expiries import received
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.phase2 import expired_related, refresh_cascade
from async_migrate.codemods.phase2.partial_refresh import is_partial
from async_migrate.codemods.project import FunctionId, Project

# In the text of each such read (check words it apart).
CASCADED = "whose cascade of refresh-expire may leave unloaded"


def cascade_reads(project: Project, fid: FunctionId, sessions: list[str]) -> list[Blocking]:
    """Each return of an object refreshed whole whose refresh cascades along a relationship the
    response model reads a lazy relationship below."""
    _, function = project.functions[fid]
    classes = project_classes(project)
    if not sessions or not expired_related.response_models(classes, function):
        return []
    cascading = refresh_cascade.cascading(project)
    path = refresh_cascade.field_path(
        classes, function, cascading, expired_related.relationship_names(project), expired_related.eager_names(project),
    ) if cascading else None
    if path is None:
        return []
    field, nested, written = path
    found: list[Blocking] = []
    for line, name, _, _ in function.name_returns:
        refresh = _refreshed(function, name, line, set(sessions))
        if refresh is not None:
            found.append(Blocking(line, f"`{name}` returned after `{refresh.receiver}.refresh({name})` at line "
                                        f"{refresh.line}, {CASCADED} `{nested}` (along `{field}`) where the response model reads {written}"))
    calls = {c.index: c for c in function.calls}
    for _, term in function.returned_terms:
        call = calls.get(term[1]) if term[0] == "call" else None
        helper = _refreshing_helper(project, fid, call, sessions) if call is not None else None
        if call is not None and helper is not None:
            found.append(Blocking(call.line, f"what `{helper}(...)` returns after refreshing it whole, {CASCADED} "
                                             f"`{nested}` (along `{field}`) where the response model reads {written}"))
    return found


def _refreshed(function: facts.Function, name: str, line: int | None, sessions: set[str]) -> facts.Call | None:
    """The last awaited refresh of `name` whole on one of `sessions` (before `line`, if given)."""
    refreshes = [
        c for c in function.calls
        if c.receiver in sessions and c.method == "refresh" and c.awaited and not c.nested
        and (line is None or c.line < line) and c.args and c.args[0].name == name and not is_partial(c)
    ]
    return max(refreshes, key=lambda c: c.line) if refreshes else None


def _refreshing_helper(project: Project, fid: FunctionId, call: facts.Call, sessions: list[str]) -> str | None:
    """The helper's name where every project function `call` may run returns an object it
    refreshed whole on the Session the route handed it."""
    edges = [e for e in project.all_calls_from.get(fid, ()) if e.call.index == call.index and not e.call.nested]
    if not edges or not all(e.certain for e in edges):
        return None
    for edge in edges:
        _, helper = project.functions[edge.callee]
        params = {p for s in sessions if (p := received(helper, call, s)) is not None}
        returned = helper.returned[0][1:] if len(helper.returned) == 1 and helper.returned[0].startswith("$") else ""
        if not returned.isidentifier() or _refreshed(helper, returned, None, params) is None:
            return None
    return (call.callee or call.func or "?").lstrip("$").rpartition(".")[2]
