"""A subsystem whose routes reach session dependencies that disagree on committing at the end of a
request (`get_db` beside `get_tx_session`, which opens `SessionLocal.begin()`).

One async dependency copies one of them (AM240), so the subsystem cannot move as a whole. The
routes reaching only dependencies that agree can: those reaching the other kind, or both, stay
synchronous with a reason naming the dependencies they reach (AM240 per route). Routes reaching
no session dependency go with either. Which kind moves: the one with the most routes whose stack
is not blocked otherwise, the first route's on a tie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from async_migrate.codemods.phase2.stack_plan import Blocker, StackPlan
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules.am240_commit_on_exit_differs import RULE as AM240
from async_migrate.codemods.sources import is_test_path

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.async_stack import _Analysis


def _described(project: Project, verdicts: dict[FunctionId, bool]) -> str:
    return ", ".join(
        f"`{project.functions[fid][1].qualname}` ({project.functions[fid][0].path}:{project.functions[fid][1].line}), "
        + ("which commits" if commits else "which does not commit")
        for fid, commits in sorted(verdicts.items())
    )


def split(
    project: Project, modules: frozenset[str], narrowed: Callable[[frozenset[FunctionId]], _Analysis]
) -> StackPlan | None:
    """The stack of the routes whose session dependencies agree with each other, carrying why
    each other route stays synchronous; None when no such group can move alone."""
    routes = [
        h for h in project.handlers
        if h.kind != "dependency" and h.module.path in modules and not is_test_path(h.module.path)
    ]
    free: set[FunctionId] = set()
    groups: dict[bool, list[FunctionId]] = {}
    reaching: dict[FunctionId, dict[FunctionId, bool]] = {}
    for route in routes:
        verdicts = narrowed(frozenset({route.id})).reached_commits()
        reaching[route.id] = verdicts
        if not verdicts:
            free.add(route.id)
        elif len(set(verdicts.values())) == 1:
            groups.setdefault(next(iter(verdicts.values())), []).append(route.id)
    lines = {route.id: (route.module.path, route.function.line) for route in routes}
    for commits in sorted(groups, key=lambda k: (-len(groups[k]), min(lines[r] for r in groups[k]))):
        plan = narrowed(frozenset(groups[commits]) | free).run()
        if not plan.ok:
            continue
        copied = {fid: c for route in groups[commits] for fid, c in reaching[route].items()}
        for route in routes:
            if route.id in free or route.id in groups[commits]:
                continue
            verdicts = reaching[route.id]
            other = [fid for fid, c in sorted(verdicts.items()) if c != commits]
            module, function = project.functions[other[0]]
            if len(set(verdicts.values())) > 1:
                why = (
                    f"the route reaches session dependencies that disagree on committing at the end of a "
                    f"request ({_described(project, verdicts)}): one async dependency cannot copy both; "
                    "make them agree, or leave the route synchronous"
                )
            else:
                why = (
                    f"the route reaches {_described(project, verdicts)} at the end of a request, while this "
                    f"run's async session dependency copies, for the subsystem's other routes, "
                    f"{_described(project, copied)}: one async dependency cannot copy both; make them agree "
                    "(then run phase two again), or leave the route synchronous"
                )
            plan.kept_routes[route.id] = Blocker(AM240.code, module.path, function.line, why)
        return plan
    return None
