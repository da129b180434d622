"""A handler already on an AsyncSession whose dependency tree still receives the synchronous Session.

A service migrated by hand but for its dependencies: `async def rename_me(user: User =
Depends(get_current_user), db: AsyncSession = Depends(get_async_db))` with `get_current_user(db:
Session = Depends(get_db))`. Each request holds two Sessions (two connections, two transactions),
and the objects the dependency loads belong to the synchronous one: handed to the AsyncSession
(`db.add(user)`) they raise "already attached to session"; changed, the route's commit never
writes them. `check` reports it (AM319), phase one says it beside AM135, and phase two moves the
dependencies to async twins on the route's own AsyncSession (AM298).
"""

from __future__ import annotations

from dataclasses import dataclass

from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import Handler, Project


@dataclass(frozen=True, slots=True)
class TwoSessions:
    dependency: str  # `core.deps.get_current_user`, the nearest one receiving the synchronous Session
    via: str  # ` (through core.deps.require_admin)`, or ""
    param: str  # its parameter receiving the Session
    handed: tuple[Blocking, ...]  # calls on the AsyncSession given an object that dependency chain loaded


def two_sessions(project: Project, handler: Handler) -> list[TwoSessions]:
    """The dependencies of an `async def` route or websocket on an AsyncSession that receive a
    synchronous Session, nearest first; empty when there is none."""
    from async_migrate.codemods.phase1.async_session import async_session_of
    from async_migrate.codemods.phase2.dependencies import (
        SharedSession,
        dependency_function,
        included_session_dependencies,
        session_dependencies_in_tree,
    )

    if handler.kind not in ("route", "websocket") or not handler.function.is_async:
        return []
    # A parameter, a dependency in its tree (a repository on the AsyncSession), or one it opens.
    if async_session_of(project, handler) is None:
        return []
    sessions = set(project.declared_async_session_params(handler.id))
    function = handler.function
    found = []
    tree: list[SharedSession] = []
    for shared in session_dependencies_in_tree(project, handler, copies=True):
        # found once for each way in (the route's parameters, its router's list): named once here
        if shared.dependency not in {t.dependency for t in tree}:
            tree.append(shared)
    # `include_router(router, dependencies=[...])` runs its list for every route it includes too.
    tree += [
        s for s in included_session_dependencies(project, handler, copies=True)
        if s.dependency not in {t.dependency for t in tree}
    ]
    for shared in tree:
        names = [_name(project, fid) for fid in shared.chain]
        # The route's parameters the chain's first dependency fills hold what the synchronous Session loaded.
        objects = {
            p.name for p in function.params
            if dependency_function(project, project.param_dependency(p)) == shared.chain[0]
        }
        handed = tuple(
            Blocking(call.line, f"{call.receiver}.{call.method}({name})")
            for call in function.calls if call.receiver in sessions and call.method and not call.nested
            for name in [next((a.name for a in call.args if a.name in objects), None)] if name is not None
        )
        via = f" (through {' -> '.join(names[:-1])})" if len(names) > 1 else ""
        found.append(TwoSessions(names[-1], via, shared.param, handed))
    return found


def describe(project: Project, handler: Handler, found: list[TwoSessions]) -> str:
    """What the two Sessions do to the request, as `check` and phase one say it."""
    first = found[0]
    others = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    text = (
        f"its dependency {first.dependency}{first.via} receives the synchronous Session (parameter "
        f"`{first.param}`){others}: each request holds two Sessions, and what the dependency loads or adds "
        "belongs to the synchronous one, whose changes the route's commit never writes"
    )
    handed = [b for f in found for b in f.handed]
    if handed:
        text += (
            f"; line {handed[0].line} hands such an object to the AsyncSession ({handed[0].call}), which raises "
            "\"already attached to session\""
        )
    return text


def _name(project: Project, fid: tuple[str, str]) -> str:
    module, function = project.functions[fid]
    return f"{module.name}.{function.qualname.removesuffix('.__init__')}"
