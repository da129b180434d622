"""Functions handed as values to code that runs them during the call: Session work the call graph
cannot show.

`await retry(svc.count)` runs `svc.count` on the event loop, but the call's arguments are not the
handed function's, so it is no edge; `Project._own_unverified` makes it unverified (AM304) instead.
The function a builtin takes to call in place (`sorted(ids, key=ranker.rank)`: `in_place_argument`)
is an edge (`Project.in_place_edges`).
What is handed: `handed_functions`; what runs it: `handed_work` and `_runs_argument`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.flow import SESSION
from async_migrate.codemods.vocabulary.python import CALL_IN_PLACE, CALLS_IN_PLACE, PARTIALS
from async_migrate.codemods.vocabulary.sqlalchemy import SESSION_IO_METHODS

if TYPE_CHECKING:
    from async_migrate.codemods.project import Edge, FunctionId, Project

# How deep a parameter is followed through project functions handing it on (`retry(fn)` calling
# `_attempt(fn)` calling `fn()`).
_DEPTH = 4


def handed_work(project: Project, fid: FunctionId, call: facts.Call, targeted: list[Edge]) -> str | None:
    """Why `call` (in `fid`) may run synchronous Session work through a function it hands over:
    a builtin that calls it in place, or a project callee (`targeted`, the call's edges) calling the
    parameter it lands in; None where it hands no such function or nothing runs it there."""
    if not call.args:
        return None  # hands nothing over (asked of most calls)
    _, function = project.functions[fid]
    in_place = (project.canonical(call.callee) or call.callee) in CALL_IN_PLACE if call.callee else False
    if not in_place and not targeted:
        return None
    # the function a builtin takes to call in place is an edge of the call graph (`Project.in_place_edges`)
    called = in_place_argument(project, call) if in_place else None
    for arg in call.args:
        if arg is called:
            continue
        for handed, given, binding in handed_functions(project, fid, function, call, arg):
            chain = project.work_chains.get(handed)
            if chain is None:
                # `retry(count_orders, ctx)`: the function works on what its parameters hold, and the
                # call hands on a value carrying the caller's Session for the callee to pass it
                work = _parameter_work(project, handed)
                if work is not None:
                    carrier = _carrier(project, fid, given, binding)
                    if carrier:
                        chain = [f"{work} on what `{carrier}` hands it"]
            work = "Session"
            if chain is None:
                # `grpc_call(registry.list_views, q)`: a synchronous engine's connection blocks the loop
                # as a Session does
                from async_migrate.codemods.engine_work import engine_inside

                engine = engine_inside(project, handed, {fid})
                chain, work = (engine[:1], "engine") if engine else (None, work)
            if chain is None:
                continue
            name = project.functions[handed][1].qualname
            if in_place:
                return (
                    f"hands {name} to `{(call.callee or '').rpartition('.')[2]}()`, which calls it here (a call the "
                    f"call graph does not follow), and it does synchronous {work} work: {' -> '.join(chain)}"
                )
            for edge in targeted:
                where = _runs_argument(project, edge.callee, arg, set(), 0)
                if where is not None:
                    return (
                        f"hands {name} to `{edge.via or project.written(call.func or call.callee or '')}()`, which "
                        f"calls it ({where}; a call the call graph does not follow), and it does synchronous {work} "
                        f"work: {' -> '.join(chain)}"
                    )
    return None


def in_place_argument(project: Project, call: facts.Call) -> facts.Arg | None:
    """The argument `call` takes as the function it calls in place (`key=` of `sorted()`, the first
    of `map()`, `key=` of `rows.sort()` with no positional argument), if it is one of those."""
    slot = CALLS_IN_PLACE.get(project.canonical(call.callee) or call.callee) if call.callee is not None else None
    if slot is None and call.method == "sort" and not any(a.position is not None for a in call.args):
        slot = (None, "key")  # `list.sort`
    if slot is None:
        return None
    position, keyword = slot
    return next(
        (a for a in call.args if (a.keyword is not None and a.keyword == keyword) or (
            a.keyword is None and position is not None and a.position == position
        )), None,
    )


def handed_functions(
    project: Project, fid: FunctionId, function: facts.Function, call: facts.Call, arg: facts.Arg
) -> list[tuple[FunctionId, facts.Call, facts.Arg]]:
    """The project functions an argument of `call` hands over as a value: a function by reference,
    a bound method or a local bound to one (through the value flow), or a `functools.partial` of
    one built right in the argument; each with the call whose other arguments go to it with it
    (`call`, or the partial) and the argument naming it there."""
    if arg.ref is not None:
        found = project.function(arg.ref)
        if found is not None:
            return [((found[0].name, found[1].key), call, arg)]
        # `grpc_call(handler.List, req)`: a bound method, of a module-level instance or of what a
        # router factory's parameter holds (`grpc_handler.List` in the routes it builds), named by
        # a dotted reference rather than a local, is handed as a function is; the methods a
        # call of it would run, a guess by name among them (`Flow.targets`)
        spelled = facts.Call(call.line, arg.ref, index=-1, nested=call.nested, offloaded=call.offloaded)
        bound, _ = project.flow.targets(fid, spelled)
        project.flow.by_name.pop(id(spelled), None)  # no call of the function: its guess is no one's
        method = arg.ref.rpartition(".")[2]
        bound = [b for b in bound if project.functions[b][1].name == method]
        if bound:
            return [(handed, call, arg) for handed in bound]
    expression = arg.expr or (f"${arg.name}" if arg.name else None) or arg.returned_attribute
    if expression is not None:
        return [(handed, call, arg) for handed in project.flow.functions(fid, expression)[0]]
    at = arg.position if arg.keyword is None else arg.keyword
    for inner in function.calls:
        if inner.argument_of != call.index or inner.argument_at != at or not inner.args:
            continue
        if (project.canonical(inner.callee) or inner.callee) in PARTIALS:
            return handed_functions(project, fid, function, inner, inner.args[0])
    return []


def _runs_argument(project: Project, callee: FunctionId, arg: facts.Arg, seen: set[FunctionId], depth: int) -> str | None:
    """Where `callee` runs what `arg` hands it (`path:line`): a call of the parameter it lands in,
    not offloaded to a worker thread, or the same found in a project function it hands that
    parameter on to; None where it does neither."""
    if callee in seen or depth > _DEPTH:
        return None
    seen.add(callee)
    module, function = project.functions[callee]
    name = facts.parameter_of(function, arg)
    if name is None:
        return None
    held = f"${name}"
    edges: dict[int, list[FunctionId]] = {}
    for edge in project.all_calls_from[callee]:
        edges.setdefault(edge.call.index, []).append(edge.callee)
    for inner in function.calls:
        if inner.offloaded:
            continue
        if inner.func == held and inner.receiver is None:
            return f"{module.path}:{inner.line}"
        for given in inner.args:
            if given.name != name or given.expr not in (None, held):
                continue
            if (project.canonical(inner.callee) or inner.callee) in CALL_IN_PLACE if inner.callee else False:
                return f"{module.path}:{inner.line}"
            for onward in edges.get(inner.index, ()):
                where = _runs_argument(project, onward, given, seen, depth + 1)
                if where is not None:
                    return where
    return None


def _parameter_work(project: Project, fid: FunctionId) -> str | None:
    """A Session method `fid` calls on what one of its parameters holds (`ctx.db.scalar()`,
    `db.execute()`), as written; None where it calls none. Its callers' arguments are what types
    those parameters, and the call handing it over is not one."""
    _, function = project.functions[fid]
    params = {p.name for p in function.params if p.name not in ("self", "cls")}
    for inner in function.calls:
        head, dot, method = (inner.func or "").removeprefix("$").rpartition(".")
        if dot and method in SESSION_IO_METHODS and head.partition(".")[0] in params:
            return f"{head}.{method}()"
    return None


def _carrier(project: Project, fid: FunctionId, call: facts.Call, handed: facts.Arg) -> str:
    """The other argument of `call` carrying a synchronous Session (the Session itself, or a
    context value whose fields hold one), as written; "" where none does."""
    flow = project.flow
    for arg in call.args:
        if arg is handed:
            continue
        expression = arg.expr or (f"${arg.name}" if arg.name else None)
        if expression is None:
            continue
        values = flow.evaluate(fid, expression)
        if any(v.kind == SESSION for v in values) or any(v.kind == SESSION for v in flow.elements(values)):
            return project.written(expression)
    return ""
