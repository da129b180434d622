"""A refresh whose cascade resets relationships the response model reads below it (MissingGreenlet).

`refresh(order)` cascades along each relationship of the object's class whose `cascade` holds
`refresh-expire` (`cascade="all, delete-orphan"`): every `Line` in `order.lines` is refreshed
too, which leaves its lazy relationships (`Line.product`) unloaded, whatever loader options the
query gave (`selectinload(Order.lines).selectinload(Line.product)`). Synchronous code loads them
when the response model reads them (`OrderOut.lines[].product`); under AsyncSession FastAPI's
serialiser does that outside the greenlet and raises MissingGreenlet. No refresh phase two could
add reloads them (`attribute_names` reaches the object's own relationships only), so the route
is blocked: where it returns an object it refreshes whole, or that phase two refreshes, or that
a helper returns after refreshing it whole (`db.commit(); db.refresh(order); return order`).
Relationships are matched by name, as `expired_related` matches them.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import expired_lists, expired_related
from async_migrate.codemods.phase2.partial_refresh import is_partial
from async_migrate.codemods.rules.am291_refresh_cascade_read import RULE as AM291

if TYPE_CHECKING:
    from async_migrate.codemods.classes import Classes
    from async_migrate.codemods.phase2.expired_reads import ExpiredRead, Models, Refresh
    from async_migrate.codemods.project import FunctionId, Project


def reads(
    project: Project, models: Models, fid: FunctionId, refreshes: Sequence[Refresh] = (),
) -> list[ExpiredRead]:
    """The block of a route returning an object refreshed whole whose refresh cascades along a
    relationship its response model reads a lazy relationship below; [] when there is none."""
    from async_migrate.codemods.phase2.expired_reads import ExpiredRead

    module, function = project.functions[fid]
    classes = models.classes
    if not expired_related.response_models(classes, function):
        return []
    cascading_names = cascading(project)
    if not cascading_names:
        return []
    path = field_path(classes, function, cascading_names, expired_related.relationship_names(project),
                      expired_related.eager_names(project))
    if path is None:
        return []
    node = expired_lists.function_node(models.tree(module.path), function)
    if node is None:
        return []
    names = project.session_names(fid)
    planned = {r.name for r in refreshes if not r.attributes and not r.each}
    for statement in ast.walk(node):
        if not isinstance(statement, ast.Return) or statement.value is None:
            continue
        value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
        how = None
        if isinstance(value, ast.Name):
            how = _refreshed_here(project, fid, function, value.id, statement.lineno, names, planned)
        elif isinstance(value, ast.Call):
            how = _refreshed_by_helper(project, fid, value.lineno)
        if how is None:
            continue
        field, nested, written = path
        return [ExpiredRead(AM291, statement.lineno, (
            f"`{ast.unparse(value)}` is returned after {how}, and the response model reads {written}: the "
            f"refresh cascades along `{field}` (its cascade holds refresh-expire), which leaves `{nested}` "
            "unloaded on each of those objects whatever loader options loaded it, and serialising it "
            "raises MissingGreenlet under AsyncSession; no refresh phase two adds reloads it; fix: drop the "
            f"refresh and return what a query loading `{field}` and `{nested}` eagerly returns after the "
            f"last commit, or take refresh-expire out of the cascade of `{field}`"
        ))]
    return []


def _refreshed_here(
    project: Project, fid: FunctionId, function: facts.Function, name: str, line: int, names: frozenset[str] | set[str],
    planned: set[str],
) -> str | None:
    """How `name`, returned at `line`, was refreshed whole before: by the function, by phase two,
    or by the helper it was bound from."""
    if name in planned:
        return f"the refresh of `{name}` phase two adds"
    own = [
        c for c in function.calls
        if c.method == "refresh" and c.receiver in names and c.line < line and c.args and c.args[0].name == name
        and not is_partial(c)
    ]
    if own:
        return f"`{own[-1].receiver}.refresh({name})` (line {own[-1].line})"
    bound = [b for b in function.bindings if b.name == name and b.line < line]
    if len(bound) == 1:
        return _refreshed_by_helper(project, fid, bound[0].line)
    return None


def _refreshed_by_helper(project: Project, fid: FunctionId, line: int) -> str | None:
    """`helper(...)` at `line` when every helper it may run returns an object it refreshed whole."""
    edges = [e for e in project.all_calls_from.get(fid, []) if e.call.line == line and not e.call.nested]
    if not edges or not all(e.certain for e in edges):
        return None
    for edge in edges:
        _, helper = project.functions[edge.callee]
        sessions = project.session_names(edge.callee)
        returned = helper.returned[0][1:] if len(helper.returned) == 1 and helper.returned[0].startswith("$") else ""
        if not returned.isidentifier() or not any(
            c.method == "refresh" and c.receiver in sessions and c.args and c.args[0].name == returned
            and not is_partial(c) and not c.nested
            for c in helper.calls
        ):
            return None
    callee = edges[0].call.callee or edges[0].call.func or "?"
    return f"`{callee}(...)`, which refreshes it whole"


def field_path(
    classes: Classes, function: facts.Function, cascading: frozenset[str], relationships: frozenset[str],
    eager: frozenset[str],
) -> tuple[str, str, str] | None:
    """(the cascading relationship, the lazy one below it, the path as written) of the first field
    path of the response model crossing a relationship that cascades a refresh, then a lazy
    relationship of the objects it holds (`OrderOut.lines.product`)."""
    for model in expired_related.response_models(classes, function):
        for name, annotation in classes.fields(model):
            if name not in cascading:
                continue
            for nested in (n for n in (classes.resolve(r) for r in annotation) if n is not None):
                for inner, inner_annotation in classes.fields(nested):
                    held = [n for n in (classes.resolve(r) for r in inner_annotation) if n is not None and classes.fields(n)]
                    if inner in relationships and inner not in eager and held:
                        return name, inner, f"`{classes.short(model)}.{name}[].{inner}`"
    return None


def cascading(project: Project) -> frozenset[str]:
    """Relationship names whose `relationship(...)` call's cascade holds refresh-expire (`all`),
    or cannot be read (`facts.ClassFacts.cascading`)."""
    from async_migrate.codemods.classes import project_classes

    # kept with the project: scan's preview asks it for every route of every subsystem
    known = project.derived.get("cascading_relationship_names")
    if known is None:
        known = project.derived["cascading_relationship_names"] = frozenset(
            name for _, cls in project_classes(project).by_ref.values() for name in cls.cascading
        )
    return known  # type: ignore[return-value]
