"""What a route's parameter holds when a dependency sharing the route's Session fills it, as far as a commit's expiry goes.

FastAPI caches a dependency per request, so `get_current_user(db = Depends(get_db))` and the
route's own `db = Depends(get_db)` work on one Session; phase two moves both to the async
dependency together (the dependency's async twin). The object such a dependency loads and
returns (`return db.get(User, uid)`) is then an instance of the Session the route commits:
`expired_reads` refreshes it after that commit as one the route loaded itself. Anything else
(a dependency on a Session of its own, `use_cache=False`, a value it does not show it loaded)
keeps blocking the route, and `unshown` says which of those it is.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import expired_helpers
from async_migrate.codemods.phase2.dependencies import dependency_function

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.expired_reads import Models
    from async_migrate.codemods.project import FunctionId, Project

_MAX_DEPTH = 4


def returned(
    project: Project, models: Models, route: FunctionId, param: facts.Param, session: str,
    twins: Collection[FunctionId],
) -> expired_helpers.Returned | str:
    """One object (`one`, or `maybe` when it may be None) of the Session `session` of `route`
    that the dependency filling `param` returns; or, when that is not shown, why (for a reason,
    completing "`user` is a parameter ...").

    Shown when the dependency shares the route's Session (`_sharing`) and returns what
    `expired_helpers` shows is one object it loaded there; or hands back a parameter of its own
    that such a dependency fills (`require_admin(user = Depends(get_current_user))` returning
    `user`)."""
    source = _route_source(project, route, session)
    if source is None:
        return "that FastAPI fills, while the Session that commits is no dependency of the route's own"
    return _filled(project, models, param, source, twins, 0)


def holding(
    project: Project, route: FunctionId, session: str, twins: Collection[FunctionId]
) -> frozenset[str]:
    """The route's parameters holding an instance of a class that keeps the route's Session
    `session` (`repo: UserRepo = Depends(get_repo)`, `get_repo` returning `UserRepo(db)` on the
    shared Session, or `Depends(UserRepo)` itself): what their methods return is judged as
    a repository's built here (`repo = UserRepo(db)`)."""
    from async_migrate.codemods.phase2.holders import holder_of

    source = _route_source(project, route, session)
    if source is None:
        return frozenset()
    found = set()
    for param in project.functions[route][1].params:
        shared = _sharing(project, param, source, twins)
        if isinstance(shared, str):
            continue
        fid, taken = shared
        _, dependency = project.functions[fid]
        if dependency.name == "__init__":
            held = holder_of(project, fid) is not None
        else:
            terms = dependency.returned_terms
            index = terms[0][1][1] if len(terms) == 1 and terms[0][1][:1] == ("call",) else None
            edges = [e for e in project.all_calls_from.get(fid, []) if e.call.index == index]
            held = bool(edges) and all(
                e.certain and project.functions[e.callee][1].name == "__init__"
                and holder_of(project, e.callee) is not None and set(e.session_args.values()) == {taken}
                for e in edges
            )
        if held:
            found.add(param.name)
    return frozenset(found)


def _route_source(project: Project, route: FunctionId, session: str) -> str | None:
    """The session dependency filling the route's parameter `session`, when FastAPI shares it."""
    own = next((p for p in project.functions[route][1].params if p.name == session), None)
    if own is None or _own_cache(project, own):
        return None
    return project.param_dependency(own)


def _sharing(
    project: Project, param: facts.Param, source: str, twins: Collection[FunctionId]
) -> tuple[FunctionId, str] | str:
    """The dependency filling `param` and its Session parameter, when it is one of the route's
    `twins` (moving with it) taking the synchronous Session from `source`, the session
    dependency of the route's committing parameter, neither asking `use_cache=` anything; else
    why not."""
    fid = dependency_function(project, project.param_dependency(param))
    if fid is None:
        return "that FastAPI fills from a dependency phase two does not follow"
    module, dependency = project.functions[fid]
    if _own_cache(project, param):
        return (
            f"filled by `{dependency.qualname}` ({module.path}:{dependency.line}) through a `Depends()` whose "
            "keywords (`use_cache=`, `scope=`, `scopes=`) may give it another Session than the route's"
        )
    named = f"`{dependency.qualname}` ({module.path}:{dependency.line})"
    taken = [p for p in dependency.params if project.declared_session(p) is not None]
    if fid not in twins or len(taken) != 1:
        return f"filled by {named}, which does not receive the route's Session"
    if project.param_dependency(taken[0]) != source or _own_cache(project, taken[0]):
        return (
            f"filled by {named}, whose Session (parameter `{taken[0].name}`) is not the route's "
            "(`use_cache=`, `scope=`, or another session dependency), where a refresh would not find the object"
        )
    return fid, taken[0].name


def _filled(
    project: Project, models: Models, param: facts.Param, source: str, twins: Collection[FunctionId], depth: int,
) -> expired_helpers.Returned | str:
    shared = _sharing(project, param, source, twins)
    handed_on = _handed_on(project, param, twins) if isinstance(shared, str) and not _own_cache(project, param) else None
    if handed_on is not None and depth < _MAX_DEPTH:
        return _filled(project, models, handed_on, source, twins, depth + 1)
    if isinstance(shared, str):
        return shared
    fid, taken = shared
    module, dependency = project.functions[fid]
    result = expired_helpers.function_result(project, models, fid, frozenset({taken}))
    if result is not None and result.shape == "arg" and depth < _MAX_DEPTH:
        handed = next((p for p in dependency.params if p.name == result.arg), None)
        if handed is not None:
            return _filled(project, models, handed, source, twins, depth + 1)
    if result is not None and result.shape in ("one", "maybe"):
        return result
    return (
        f"filled by `{dependency.qualname}` ({module.path}:{dependency.line}), which phase two cannot show "
        "returns one object its Session loaded"
    )


def _handed_on(project: Project, param: facts.Param, twins: Collection[FunctionId]) -> facts.Param | None:
    """The parameter of the dependency filling `param` that it returns as it is, when it takes
    no Session and moves with the route (`require_admin(user = Depends(get_current_user))`
    ending `return user`, after checks of its own)."""
    fid = dependency_function(project, project.param_dependency(param))
    if fid is None or fid not in twins:
        return None
    _, dependency = project.functions[fid]
    if dependency.is_async or dependency.is_generator or len(set(dependency.returned)) != 1:
        return None
    name = dependency.returned[0][1:]
    if not dependency.returned[0].startswith("$") or any(b.name == name for b in dependency.bindings):
        return None
    handed = next((p for p in dependency.params if p.name == name), None)
    return handed if handed is not None and project.declared_session(handed) is None else None


# `Depends()`/`Security()` keywords in FastAPI's per-request cache key, or switching the cache off.
_CACHE_KEYWORDS = ("use_cache", "scope", "scopes")


def _own_cache(project: Project, param: facts.Param) -> bool:
    """`Depends(get_db, use_cache=...)` (`scope=`, `Security(..., scopes=...)`) written on the
    parameter or in its alias: what FastAPI hands it may not be what it hands the rest of the
    request (older releases key a dependency below `Security(f, scopes=[...])` by those scopes)."""
    written = f"{param.default} {param.text}"
    if any(f"{keyword}=" in written for keyword in _CACHE_KEYWORDS):
        return True
    for ref in param.annotation:
        target = project.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        if value is not None and any(key in _CACHE_KEYWORDS for key, _ in value.depends_options):
            return True
    return False
