"""Objects a route holds that a loader on its AsyncSession gave it, for check's AM314 expiry.

`async_expired.expired_reads` judges reads after a commit on the objects the route's own queries
load. Two more are held by the same Session, and a commit expires them the same way (a read then
raises MissingGreenlet on an expiring sessionmaker):

- what an awaited project coroutine handed the AsyncSession returns, where its return annotation
  says it is a mapped object (`item = await crud.item.get_async(db, id=id)`, a generic CRUD
  object's `-> Optional[ModelType]`, or `-> Item`);
- a dependency's object (`current_user: User = Depends(get_current_user)`) whose dependency,
  however deep (`get_current_active_user` returning its own `Depends(get_current_user)`), takes
  the AsyncSession from the route's own Session dependency: FastAPI caches a dependency per
  request, so both are one Session. Where it loads the object through a query or a loader as
  above, it is held; where the analysis cannot trace what it returns, unverified. A dependency
  opening its own Session (or one of another dependency) gives an object the route's commit
  does not expire: not reported.
"""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.project import FunctionId, Project

# What a loader object's hold is: True where the Session holds it, None where it may (unverified).
Held = bool | None
_WRAPPERS = frozenset({"Optional", "Union", "None"})
_DEPTH = 6


def loader_objects(project: Project, fid: FunctionId, session: str) -> dict[str, tuple[int, Held]]:
    """Names of `fid` holding an object a loader on `session` gave (see the module): each with
    the line from which the Session holds it (a dependency's: the function's first line)."""
    _, function = project.functions[fid]
    found: dict[str, tuple[int, Held]] = {}
    bound: dict[str, list[int]] = {}
    for binding in function.bindings:
        bound.setdefault(binding.name, []).append(binding.line)
    for name, terms in function.holds.items():
        lines = bound.get(name, [])
        # bound once (`bindings` records the `with` targets among them)
        if len(lines) <= 1 and len(terms) == 1 and terms[0][0] == "call":
            call = next((c for c in function.calls if c.index == terms[0][1]), None)
            held = _returned(project, fid, function, terms[0], {session}) if call is not None else False
            if call is not None and held is not False:
                found[name] = (min([*lines, call.line]), held)
    params = {p.name: p for p in function.params}
    own = params.get(session)
    source = _provider(project, own) if own is not None else None
    if source is None:
        return found
    for param in function.params:
        if param.name == session or param.name in found or _provider(project, param) is None:
            continue
        held = _dependency_object(project, param, source, 0)
        if held is not False:
            found[param.name] = (function.line, held)
    return found


def _provider(project: Project, param: facts.Param) -> FunctionId | None:
    """The project function FastAPI runs to fill `param`: `Depends(f)`, or the `__call__` of a
    callable-class instance (`Depends(RoleChecker("write"))`)."""
    from async_migrate.codemods.phase1.expired_deps import _dependency

    found = _dependency(project, param)
    if found is not None:
        return found
    ref = project.param_dependency(param)
    callables = project.dependency_callables(ref) if ref is not None else []
    return callables[0] if len(callables) == 1 else None


def _dependency_object(project: Project, param: facts.Param, source: FunctionId, depth: int) -> Held:
    """Whether the object the dependency of `param` gives is held by the Session `source` (the
    route's Session dependency) gives: False where the dependency takes none from it."""
    provider = _provider(project, param)
    if provider is None or depth > _DEPTH:
        return False
    _, dependency = project.functions[provider]
    sessions = {p.name for p in dependency.params if _provider(project, p) == source}
    chained = {p.name: p for p in dependency.params if p.name not in sessions and _provider(project, p) is not None}
    if not dependency.results:
        return None if sessions else False
    found: set[Held] = set()
    for term in dependency.results:
        if term[0] == "name" and term[1] in chained:  # `return current_user`, itself a dependency's
            found.add(_dependency_object(project, chained[term[1]], source, depth + 1))
        elif sessions:
            found.add(_returned(project, provider, dependency, term, sessions) or None)
        else:
            found.add(False)
    if found == {False}:
        return False
    if found == {True}:
        return True
    # untraced: a mapped object only where an annotation says so (not `Depends(get_service)`)
    return None if _mapped(project, (*param.annotation, *dependency.returns)) else False


def _mapped(project: Project, refs: tuple[str, ...]) -> bool:
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    return any((model := classes.resolve(r)) is not None and classes.is_mapped(model) for r in refs)


def _returned(project: Project, fid: FunctionId, function: facts.Function, term: tuple, sessions: set[str]) -> Held:
    """Whether the object term is held by one of `sessions`: a query of theirs gives it, or an
    awaited project coroutine handed one returns it, declared a mapped object (None where the
    generic object's TypeVar cannot be bound); False where neither."""
    from async_migrate.codemods.check import _loaded_on

    if term[0] == "name":
        terms = function.holds.get(term[1], ())
        if len(terms) != 1:
            return False
        return _returned(project, fid, function, terms[0], sessions)
    if _loaded_on(project, fid, term, sessions):
        return True
    if term[0] != "call":
        return False
    call = next((c for c in function.calls if c.index == term[1]), None)
    if call is None or not call.awaited or call.nested or not any(a.name in sessions for a in call.args):
        return False
    callees = {e.callee for e in project.all_calls_from.get(fid, ()) if e.call.index == call.index}
    if len(callees) != 1:
        return False
    _, callee = project.functions[next(iter(callees))]
    if not callee.is_async:
        return False
    return _declared_object(project, fid, callee, call)


def _declared_object(project: Project, fid: FunctionId, callee: facts.Function, call: facts.Call) -> Held:
    """Whether the coroutine's return annotation declares one mapped object: a mapped class
    (`-> Item`, `-> Optional[Item]`), or a generic object's TypeVar bound to one."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.generic_models import call_models

    classes = project_classes(project)
    refs = [r for r in callee.returns if r.rpartition(".")[2] not in _WRAPPERS]
    if refs and all((model := classes.resolve(r)) is not None and classes.is_mapped(model) for r in refs):
        return True
    models = call_models(project, classes, fid, call.index)
    if models.classes and all(classes.is_mapped(m) for m in models.classes):
        return True
    return None if models.why else False
