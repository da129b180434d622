"""Commits an `async def` handler makes through project objects holding its AsyncSession.

`await repo.restock_all(10)` on a repository a dependency builds (`self.db.commit()` inside), or
leaving `async with uow:` whose `__aexit__` commits `self.session`, expires what the Session holds
as `await db.commit()` does; the handler names no Session there. Read by check's AM314
(`async_expired`), by the Session as the handler can spell it (`repo.db`).
"""

from __future__ import annotations

from typing import cast

from async_migrate.codemods.project import FunctionId, Project


def held_commits(project: Project, fid: FunctionId) -> dict[str, dict[int, str]]:
    """Commits of AsyncSessions a handler reaches only through project objects holding them, by
    the Session as the handler can spell it (`repo.db`, `uow.session`): the line each commits at
    and how. An awaited method of an instance (a dependency's, a parameter's, `self.repo`'s) whose
    class holds an AsyncSession in one attribute and commits it, itself or through its own methods
    (`await repo.restock_all(10)`), at the call; `async with uow:` whose `__aexit__` commits, at
    the block's last line."""
    _, function = project.functions[fid]
    ends = {(expression, start): end for expression, start, end in function.async_locked}
    found: dict[str, dict[int, str]] = {}
    for edge in project.all_calls_from.get(fid, ()):
        call, func = edge.call, edge.call.func or ""
        receiver, _, method = func[1:].rpartition(".")
        if call.nested or not func.startswith("$") or not receiver:
            continue
        attribute = _held_attribute(project, edge.callee)
        if attribute is None or not _commits_held(project, edge.callee, attribute, frozenset()):
            continue
        path = f"{receiver}.{attribute}"
        if call.index == -1 and method == "__aexit__" and (f"${receiver}", call.line) in ends:
            end = ends[(f"${receiver}", call.line)]
            found.setdefault(path, {})[end] = f"end of `async with {receiver}:` (line {call.line}), whose __aexit__ commits,"
        elif call.index != -1 and call.awaited:
            found.setdefault(path, {})[call.line] = f"`{receiver}.{method}()`, which commits `{path}`,"
    return found


def _held_attribute(project: Project, method: FunctionId) -> str | None:
    """The one attribute in which the class of `method` holds an AsyncSession (`self.db`)."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.held_session import ASYNC, held_kind

    classes = project_classes(project)
    cls = classes.owner(method)
    if cls is None:
        return None
    cache = cast("dict[str, str | None]", project.derived.setdefault("held_commits.attribute", {}))
    if cls not in cache:
        assigned = cast("dict[str, set[str]]", project.derived.get("held_commits.assigned"))
        if assigned is None:
            assigned = {}
            for ref, attribute in classes.assigned:
                assigned.setdefault(ref, set()).add(attribute)
            project.derived["held_commits.assigned"] = assigned
        names = {
            attribute for ancestor in classes.mro(cls) if ancestor in classes.by_ref
            for attribute in (*classes.by_ref[ancestor][1].annotations, *assigned.get(ancestor, ()))
        }
        held = [name for name in sorted(names) if held_kind(project, classes, cls, name) == ASYNC]
        cache[cls] = held[0] if len(held) == 1 else None
    return cache[cls]


def _commits_held(project: Project, method: FunctionId, attribute: str, seen: frozenset[FunctionId]) -> bool:
    """Whether a method commits the AsyncSession its instance holds as `attribute`, itself or
    through other methods called on `self`."""
    _, function = project.functions[method]
    if method in seen or len(seen) > 6 or not function.params:
        return False
    own = f"${function.params[0].name}."
    if any(c.func == f"{own}{attribute}.commit" and c.awaited for c in function.calls):
        return True
    return any(
        (e.call.func or "").startswith(own) and _commits_held(project, e.callee, attribute, seen | {method})
        for e in project.all_calls_from.get(method, ())
    )
