"""A parameter FastAPI fills with an instance of a class holding the Session, or with the Session
itself, through a dependency phase two cannot point at the async counterpart.

Phase two renames the class in a migrated route's annotation (`NoteService` to
`NoteServiceAsync`, or the class moved in place) and moves or twins the dependency that builds it
(`Depends(provide_note_service)`, `Depends(NoteService)`). A dependency it cannot follow
(`Depends(PROVIDERS["notes"])`, `Depends(Provide["notes"])` on a project container,
`Depends(make_provider("notes"))`, a dependency-injector `Provide[Container.notes]` marker)
stays as written: at run time it still builds the synchronous class on the synchronous
Session, and the migrated route awaits its plain methods (`TypeError: object int can't be used
in 'await' expression`). So does a class-based view's class attribute holding such a class
(`notes: NoteService = Depends(provide_notes)` on the class). Such a route is blocked, naming the
parameter or attribute (AM239). A parameter receiving the Session itself from such an expression
(`Depends(lambda: next(get_db()))`) blocks as well (AM296): the expression would still hand over the
synchronous Session the migrated body awaits. So does a project dependency function building such a
class and returning or yielding it that gets no async twin (it neither receives the route's Session
nor is a unit-of-work shape phase two twins, `return UnitOfWork()` or `with UnitOfWork() as uow:
yield uow` taking no parameters): the routes it fills are blocked naming it (AM239).
"""

from __future__ import annotations

from collections.abc import Iterable

from async_migrate.codemods import facts
from async_migrate.codemods.flow import INSTANCE
from async_migrate.codemods.phase2 import holders
from async_migrate.codemods.project import FunctionId, Handler, Project
from async_migrate.codemods.rules import Reason
from async_migrate.codemods.rules.am239_unfollowed_holder_dependency import RULE as AM239
from async_migrate.codemods.rules.am296_unfollowed_session_dependency import RULE as AM296
from async_migrate.codemods.vocabulary.python import PARTIALS


def _unfollowed(project: Project, param: facts.Param) -> str | None:
    """The dependency filling `param` as written, when phase two cannot rewrite it; else None."""
    if param.provide:
        return f"`{param.provide_text}`"
    if param.opaque_depends:
        return f"`Depends({param.opaque_depends})`"
    return None


def reasons(project: Project, fids: Iterable[FunctionId]) -> list[Reason]:
    """AM239 for each parameter of the route or of a dependency moving with it (`fids`) that
    FastAPI fills with a class holding the Session through a dependency phase two leaves as it is;
    AM296 for each one it fills with the Session so."""
    fids = list(fids)
    found = _sessions(project, fids)
    found.extend(_holders(project, fids))
    if fids:
        found.extend(_unread_dependencies(project, fids[0]))
    return found


def _unread_dependencies(project: Project, route: FunctionId) -> list[Reason]:
    """AM296 for a route whose dependencies include one phase two cannot point at an async twin:
    a copy of a dependency receiving the Session (`Security(verify_prod)`, `verify_prod =
    copy_func(verify)`), or one the analysis cannot resolve at all. Migrated, the route would run
    on the AsyncSession while that dependency still receives the synchronous Session."""
    from async_migrate.codemods.phase2.dependencies import (
        included_session_dependencies,
        session_dependencies_in_tree,
    )
    from async_migrate.codemods.unresolved_dependencies import unresolved_dependencies

    # Looked up by id, not searched: scan's preview asks for every route of every subsystem.
    handler = project.handlers_by_id.get(route)
    if handler is None or handler.kind not in ("route", "websocket"):
        return []
    module, function = project.functions[route]
    where = f"{module.path}:{function.line}: {module.name}.{function.qualname}"
    followed = {
        s.dependency for s in (*session_dependencies_in_tree(project, handler), *included_session_dependencies(project, handler))
    }
    found = [
        AM296.reason(
            f"{where} reaches {project.functions[s.dependency][0].name}.{project.functions[s.dependency][1].qualname}, "
            "which receives the synchronous Session, through a copy of it (a project helper's result): phase two "
            "cannot point that dependency at an async twin, so the migrated route would hold two Sessions a "
            "request; depend on the function itself"
        )
        for s in (
            *session_dependencies_in_tree(project, handler, copies=True),
            *included_session_dependencies(project, handler, copies=True),
        )
        if s.dependency not in followed
    ]
    found.extend(_partial_dependencies(project, handler, where))
    unresolved = unresolved_dependencies(project, handler)
    if unresolved:
        found.append(AM296.reason(
            f"{where} runs the dependency `{unresolved[0]}`, whose callable the analysis cannot resolve: it may "
            "receive the synchronous Session, which phase two cannot point at the async session dependency, so "
            "the migrated route may hold two Sessions a request; depend on a function or class by name"
        ))
    return found


def _partial_dependencies(project: Project, handler: Handler, where: str) -> list[Reason]:
    """AM296 for a dependency in the route's tree named through a module-level `functools.partial`
    (`require_admin = partial(require_role, "admin")`, `Depends(require_admin)`) whose function, or
    one below it, receives the synchronous Session: phase two twins functions, never a partial, so
    it could only point the route at the function's twin and drop the arguments the partial binds."""
    from async_migrate.codemods.phase2.dependencies import (
        dependency_function,
        handler_routers,
        receives_session_below,
        route_dependencies,
        router_dependency_refs,
    )

    _, function = project.functions[handler.id]
    queue = [
        *(project.param_dependency(p) for p in function.params),
        *route_dependencies(project, handler, router=False),
        *(ref for router in handler_routers(project, handler) for ref in router_dependency_refs(project, router)),
    ]
    seen: set[str] = set()
    found: list[Reason] = []
    while queue:
        ref = queue.pop(0)
        if ref is None or ref in seen:
            continue
        seen.add(ref)
        made = project._made_by(ref)
        if made is not None and project.canonical(made.ref) in PARTIALS and made.args and made.args[0].ref:
            inner = project.canonical(made.args[0].ref) or made.args[0].ref
            if receives_session_below(project, inner):
                found.append(AM296.reason(
                    f"{where} runs the dependency `{ref.rpartition('.')[2]}`, a `functools.partial` of `{inner}`, "
                    "which receives the synchronous Session: phase two makes async twins of functions, not of a "
                    "partial, and pointing the route at the function's twin would drop the arguments the partial "
                    "binds; write the dependency as a function calling it with those arguments "
                    f"(`def {ref.rpartition('.')[2]}(...): return {inner.rpartition('.')[2]}(...)`), then run phase "
                    "two again"
                ))
                continue
        fid = dependency_function(project, ref)
        if fid is not None:
            queue.extend(project.param_dependency(p) for p in project.functions[fid][1].params)
    return found


def _sessions(project: Project, fids: list[FunctionId]) -> list[Reason]:
    found: list[Reason] = []
    for fid in fids:
        module, function = project.functions[fid]
        carried = project.session_params.get(fid, {})
        for param in function.params:
            source = _unfollowed(project, param) if param.name in carried else None
            if source is None:
                continue
            found.append(AM296.reason(
                f"{module.path}:{param.line}: `{param.name}` of {module.name}.{function.qualname} receives the "
                f"Session from {source}: phase two cannot point that expression at the async session dependency, "
                f"so it would still hand over the synchronous Session the migrated code awaits; depend on the "
                f"session dependency itself (`Depends(get_db)`)"
            ))
    return found


def _holders(project: Project, fids: list[FunctionId]) -> list[Reason]:
    # A class with problems of its own blocks its routes already (AM253 names a container's provider).
    family = {
        ref for holder in holders.holder_classes(project).values() if not holder.problems
        for ref in holder.family or (holder.ref,)
    }
    if not family:
        return []
    classes = project.flow.classes
    found: list[Reason] = []
    for fid in fids:
        found.extend(_view_attributes(project, fid, family))
        module, function = project.functions[fid]
        for param in function.params:
            held = next((c for r in param.annotation if (c := classes.resolve(r)) in family), None)
            source = _unfollowed(project, param) if held is not None else None
            if source is None:
                found.extend(_unmoved_provider(project, fid, param, family, set(fids)))
                continue
            cls = classes.short(held)
            found.append(AM239.reason(
                f"{module.path}:{param.line}: `{param.name}` of {module.name}.{function.qualname} is a {cls}, which "
                f"holds the Session, made by {source}: phase two cannot point that dependency at the async "
                f"counterpart, so the migrated code would still get a {cls} on the synchronous Session and await "
                f"its plain methods; inject it through a project dependency function that returns it, or through "
                f"the class itself (`Depends({cls})`)"
            ))
    return found


def _unmoved_provider(
    project: Project, fid: FunctionId, param: facts.Param, family: set[str], moving: set[FunctionId]
) -> list[Reason]:
    """AM239 for a parameter filled by a project dependency function that builds the class holding
    the Session and returns or yields it (`def get_uow(tenant: str = Header()): with UnitOfWork() as
    uow: yield uow`) but does not move with the route (`moving`): no twin of it exists, so FastAPI
    would still hand the migrated code, whose annotation names the async class, the synchronous one."""
    from async_migrate.codemods.phase2.dependencies import dependency_function, receives_session_below

    ref = project.param_dependency(param)
    dependency = dependency_function(project, ref)
    if dependency is None or dependency in moving or ref is None or receives_session_below(project, ref):
        return []  # one receiving the Session moves with the route or blocks it (AM226, AM219)
    dep_module, provider = project.functions[dependency]
    if provider.name == "__init__" or provider.yielded_from:
        return []  # a class FastAPI builds itself moves with its routes or blocks them (AM252, AM255, AM219)
    provided = sorted({
        str(v.target) for expression in (*provider.returned, *provider.yielded)
        for v in project.flow.evaluate(dependency, expression) if v.kind == INSTANCE and str(v.target) in family
    })
    if not provided:
        return []
    module, function = project.functions[fid]
    cls = project.flow.classes.short(provided[0])
    how = "yields" if provider.is_generator else "returns"
    return [AM239.reason(
        f"{module.path}:{param.line}: `{param.name}` of {module.name}.{function.qualname} is filled by "
        f"`{provider.qualname}` ({dep_module.path}:{provider.line}), which {how} a {cls}, a class holding the "
        f"Session, and gets no async twin: migrated, the code would name {cls}'s async counterpart while "
        f"`{provider.qualname}` still hands over the synchronous {cls} and the route awaits its plain methods; "
        f"phase two twins such a dependency when it takes no parameters and returns the instance "
        f"(`return {cls}()`, entered where it is used) or yields it (`with {cls}() as uow: yield uow`), or "
        f"when it receives the route's Session: write it so, or write its async twin by hand"
    )]


def _view_attributes(project: Project, fid: FunctionId, family: set[str]) -> list[Reason]:
    """AM239 for a class-based view's class attribute holding such a class (`notes: NoteService =
    Depends(provide_notes)` on the class, filled per request): phase two rewrites the dependencies
    of parameters, never of class attributes, so the view's routes would await the synchronous
    class's plain methods."""
    classes = project.flow.classes
    owner = classes.owner(fid)
    if owner is None:
        return []
    found = []
    for ref in classes.mro(owner):
        if ref not in classes.by_ref:
            continue
        module, view = classes.by_ref[ref]
        for name, refs in view.annotations.items():
            held = next((c for r in refs if (c := classes.resolve(r)) in family), None)
            if held is None or name not in view.depends:
                continue
            cls = classes.short(held)
            found.append(AM239.reason(
                f"{module.path}:{view.line}: `{name}` of the class-based view {view.qualname} is a {cls}, which holds "
                f"the Session, made by `Depends({project.written(view.depends[name])})` on the class: phase two "
                f"rewrites the dependencies of parameters, not of class attributes, so the migrated routes would "
                f"still get a {cls} on the synchronous Session and await its plain methods; take it as a parameter "
                f"of each route method instead (`{name}: {cls} = Depends(...)`)"
            ))
    return found
