"""Calls the call graph cannot follow, made with or on an object holding a synchronous Session.

A unit of work, service or repository holding the Session (`uow.session`, `svc.uow.session`)
handed to a callable taken out of a table (`self._factories[name](uow)`), or a method picked by
name at run time (`getattr(service, what)()`, `FACTORIES[kind](uow).product(1)`): what runs may
do Session work no edge shows, so the caller is unverified (AM304), never "no Session work".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.flow import INSTANCE, REGISTRY, SESSION, Abstract, Values, in_order

if TYPE_CHECKING:
    from async_migrate.codemods.flow import Flow
    from async_migrate.codemods.project import FunctionId, Project

_GETATTR = "getattr"
# how many objects deep a held Session is looked for (`svc.uow.session`: two)
_DEPTH = 3


def dynamic_holder_call(project: Project, fid: FunctionId, function: facts.Function, call: facts.Call) -> str | None:
    """The unverified text of `call` (which no edge resolves) when it hands an object holding a
    synchronous Session to a callable out of a table, or calls a method picked at run time, or
    one called on what such a call returns, on one; None otherwise."""
    if call.offloaded or call.callee is not None:
        return None
    if not (call.dispatch or call.chained or (call.func or "").endswith("()")):
        return None  # neither a table's callable nor a call's result: a literal's method (`"{}".format(x)`)
    shown = call.spelled or project.written(call.func or "") or "the call"
    made_on = [inner for inner in function.calls if inner.receiver_of == call.index]
    for inner in made_on:
        if project.canonical(inner.callee) == _GETATTR or inner.callee == _GETATTR:
            target = _argument_values(project, fid, function, inner, 0)
            found = holder(project.flow, target)
            if found is not None:
                return (
                    f"`getattr(...)()` at line {call.line} calls a method named at run time on an object holding a "
                    f"synchronous Session ({found}), which the analysis cannot follow: it may do synchronous Session work"
                )
        elif call.chained is not None:
            found = holder(project.flow, _result(project, fid, inner))
            if found is not None:
                return (
                    f"`.{call.chained}()` at line {call.line} is called on what `{inner.spelled or 'a call'}` returns, "
                    f"an object holding a synchronous Session ({found}) that the analysis cannot type: it may do "
                    "synchronous Session work"
                )
    for position in range(len(call.args)):
        found = holder(project.flow, _argument_values(project, fid, function, call, position))
        if found is not None:
            return (
                f"hands an object holding a synchronous Session ({found}) to `{shown}`, a callable the analysis "
                "cannot follow to a project class or function: it may do synchronous Session work"
            )
    return None


def holder(flow: Flow, values: Values, depth: int = 0) -> str | None:
    """`UnitOfWork.session` (or `Service.uow -> UnitOfWork.session`) for the first instance of a
    project class among `values` that holds a synchronous Session (or a `scoped_session`) in an
    attribute, directly or through instances it holds; None when none does."""
    classes = flow.classes
    for value in in_order(values):
        if value.kind != INSTANCE or not isinstance(value.target, str) or value.target not in classes.by_ref:
            continue
        names = _attributes(flow, value.target)
        # a Session of its own first (`UnitOfWork.session`), then one an object it holds keeps
        for name in names:
            if any(v.kind in (SESSION, REGISTRY) for v in flow.attribute(value.target, name)):
                return f"{classes.short(value.target)}.{name}"
        for name in names if depth + 1 < _DEPTH else ():
            inner = holder(flow, flow.attribute(value.target, name), depth + 1)
            if inner is not None:
                return f"{classes.short(value.target)}.{name} -> {inner}"
    return None


def _attributes(flow: Flow, cls: str) -> list[str]:
    """The attributes class `cls` and its project bases declare or assign, sorted."""
    table: dict[str, set[str]] | None = flow.project.derived.get("holder_attributes")  # type: ignore[assignment]
    classes = flow.classes
    if table is None:
        table = {}
        for owner, name in (*classes.assigned, *classes.declared):
            table.setdefault(owner, set()).add(name)
        flow.project.derived["holder_attributes"] = table
    names: set[str] = set()
    for ancestor in classes.mro(cls):
        names |= table.get(ancestor, set())
        names |= set(classes.by_ref[ancestor][1].annotations)
    return sorted(names)


def _argument_values(
    project: Project, fid: FunctionId, function: facts.Function, call: facts.Call, position: int
) -> Values:
    """What the argument at `position` of `call` may hold: a name or reference as the value flow
    evaluates it, or what a call written there returns."""
    if position >= len(call.args):
        return frozenset()
    arg = call.args[position]
    if arg.name is not None:
        return project.flow.evaluate(fid, f"${arg.name}")
    if arg.ref is not None:
        return project.flow.evaluate(fid, arg.ref)
    inner = next((c for c in function.calls if c.argument_of == call.index and c.argument_at == position), None)
    return _result(project, fid, inner) if inner is not None else frozenset()


def _result(project: Project, fid: FunctionId, call: facts.Call) -> Values:
    """What a call returns, by the project functions it resolves to: an instance of the class a
    constructor builds, or what a function returns."""
    values: set[Abstract] = set()
    for edge in project.all_calls_from[fid]:
        if edge.call is not call:
            continue
        module, callee = project.functions[edge.callee]
        owner, _, method = callee.qualname.rpartition(".")
        if method == "__init__" and owner:
            values.add(Abstract(INSTANCE, f"{module.name}.{owner}"))
        else:
            values |= project.flow.returns(edge.callee)
    return frozenset(values)
