"""A class holding the Session built on a value the analysis cannot type.

`with request.app.state.sessionmaker() as db: AuthorRepository(db).get(1)`: the repository's
`__init__` declares a Session, so its methods move to AsyncSession (in place or as a parallel
class), and the route's call becomes `await AuthorRepositoryAsync(db).get(1)`. But `db` is not a
Session phase two gives the route: it comes from a sessionmaker the application keeps on its
state, or from anything else the analysis cannot type, and stays what it was, a synchronous
Session. The migrated methods then await its results (`TypeError` at run time) or reach another
database than the one the route opened. Such a construction blocks the function (AM272) until the
value is a Session phase two replaces: a Session parameter, or one opened from the sessionmaker
the async stack is built beside.
"""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.flow import SESSION
from async_migrate.codemods.phase2 import holders
from async_migrate.codemods.project import FunctionId, Project


def untyped_builds(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """(line, why) for each construction in `fid` of a class holding the Session whose Session
    argument is no Session the analysis can type."""
    inits = {h.init: h for h in holders.holder_classes(project).values() if h.init is not None}
    if not inits:
        return []
    _, function = project.functions[fid]
    own_params = project.session_params.get(fid, {})
    found: list[tuple[int, str]] = []
    seen: set[int] = set()
    for edge in project.all_calls_from.get(fid, []):
        holder = inits.get(edge.callee)
        if holder is None or edge.call.index in seen:
            continue
        init = project.functions[edge.callee][1]
        declared = project.session_params.get(edge.callee, {})
        for param, arg in _bound(init, edge.call):
            if param not in declared:
                continue
            if arg.name is not None and arg.expr is None and (
                arg.name in own_params or project.names_async_session(fid, arg.name)
            ):
                continue  # a Session phase two replaces, or an AsyncSession already
            expression = arg.expr or (f"${arg.name}" if arg.name is not None else None)
            if expression is None:
                continue  # a module-level reference: typed where it is defined
            values = project.flow.evaluate(fid, expression)
            if values and all(v.kind == SESSION for v in values):
                continue
            seen.add(edge.call.index)
            written = project.written(expression)
            source = _source(function, arg.name) if arg.expr is None else None
            origin = f", bound from `{project.written(source)}`" if source else ""
            found.append((
                edge.call.line,
                f"builds {_built(project, holder, edge.call)} on `{written}`{origin}, which the analysis cannot type as a "
                "Session phase two replaces: the migrated class would await the methods of what it is "
                "given; take the Session as a parameter (`db: SessionDep`) or open it from the "
                "sessionmaker the async stack is built beside",
            ))
            break
    return found


def _built(project: Project, holder: holders.HolderClass, call: facts.Call) -> str:
    """The class a construction names: the holder, or its subclass inheriting the `__init__`."""
    return call.callee.rsplit(".", 1)[-1] if call.callee else holder.name(project)


def _bound(init: facts.Function, call: facts.Call) -> list[tuple[str, facts.Arg]]:
    """The `__init__` parameters the call's arguments land on (`self` skipped)."""
    params = [p for p in init.params if p.positional and not p.variadic][1:]
    names = {p.name for p in init.params}
    found: list[tuple[str, facts.Arg]] = []
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword in names:
                found.append((arg.keyword, arg))
        elif arg.position is not None and arg.position < len(params):
            found.append((params[arg.position].name, arg))
    return found


def _source(function: facts.Function, name: str | None) -> str | None:
    """What a local name is bound from, when every binding of it spells one expression."""
    bound = {b.expr for b in function.bindings if b.name == name}
    if len(bound) != 1:
        return None
    (expression,) = bound
    return None if expression == facts.UNSPELLED else expression
