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

check's lazy-load reading of the same objects (`check._loader_classes`) resolves a parameter's
dependency (`param_provider`) and a loader's declared classes (`declared_classes`) here too.
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
    source = param_provider(project, own) if own is not None else None
    if source is None:
        return found
    for param in function.params:
        if param.name == session or param.name in found or param_provider(project, param) is None:
            continue
        held = _dependency_object(project, param, source, 0)
        if held is not False:
            found[param.name] = (function.line, held)
    return found


def param_provider(project: Project, param: facts.Param) -> FunctionId | None:
    """The one project function FastAPI runs to fill `param`: `Depends(f)` (through an
    `Annotated` alias or a module-level default too), or the `__call__` of a callable-class
    instance (`Depends(RoleChecker("write"))`)."""
    callables = project.dependency_callables(project.param_dependency(param))
    return callables[0] if len(callables) == 1 else None


def _dependency_object(project: Project, param: facts.Param, source: FunctionId, depth: int) -> Held:
    """Whether the object the dependency of `param` gives is held by the Session `source` (the
    route's Session dependency) gives: False where the dependency takes none from it."""
    given = param_provider(project, param)
    if given is None or depth > _DEPTH:
        return False
    _, dependency = project.functions[given]
    sessions = {p.name for p in dependency.params if param_provider(project, p) == source}
    chained = {p.name: p for p in dependency.params if p.name not in sessions and param_provider(project, p) is not None}
    if not dependency.results:
        return None if sessions else False
    found: set[Held] = set()
    for term in dependency.results:
        if term[0] == "name" and term[1] in chained:  # `return current_user`, itself a dependency's
            found.add(_dependency_object(project, chained[term[1]], source, depth + 1))
        elif sessions:
            found.add(_returned(project, given, dependency, term, sessions) or None)
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
    return declared_classes(project, fid, callee, call.index)[1]


def declared_classes(project: Project, fid: FunctionId, loader: facts.Function, index: int) -> tuple[list[str], Held]:
    """The mapped classes what the call `index` of `fid` to the coroutine `loader` gives is declared
    as: by its return annotation (`-> Item`, `-> Optional[Item]`), and a generic object's TypeVar as
    the object's class binds it (`-> Optional[ModelType]` on a `CRUDBase[Tag]`: `call_models`). With
    whether that declares a mapped object: True where every class the annotation names is mapped,
    or the TypeVar binds mapped classes only; None where the TypeVar cannot be bound; else False."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.generic_models import call_models

    classes = project_classes(project)
    refs = [r for r in loader.returns if r.rpartition(".")[2] not in _WRAPPERS]
    mapped = [o for r in refs if (o := classes.resolve(r)) is not None and classes.is_mapped(o)]
    models = call_models(project, classes, fid, index)
    owners = [*dict.fromkeys(mapped), *(c for c in models.classes if classes.is_mapped(c) and c not in mapped)]
    if refs and len(mapped) == len(refs):
        return owners, True
    if models.classes and all(classes.is_mapped(m) for m in models.classes):
        return owners, True
    return owners, None if models.why else False
