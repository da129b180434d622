"""A subsystem whose routes reach a session dependency handing out the Session a middleware
opens on the request's state (`return request.state.db`, AM264) beside routes opening their
own Session (`Depends(get_db)`).

An async dependency beside the middleware's Session would give each request reaching it two
Sessions, so those routes stay synchronous, a route reaching both too (AM264 per route, naming
the dependency and the middleware). The others move onto the stack of what they do reach: the
middleware's Session is no part of their requests' work, as it was not before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from async_migrate.codemods.phase2 import database_routes
from async_migrate.codemods.phase2.stack_plan import Blocker, StackPlan
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules.am231_several_sessionmakers import RULE as AM231
from async_migrate.codemods.rules.am264_session_from_request_state import RULE as AM264
from async_migrate.codemods.sources import is_test_path

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.async_stack import _Analysis


def split(
    project: Project, modules: frozenset[str], providers: dict[FunctionId, Blocker],
    narrowed: Callable[[frozenset[FunctionId]], _Analysis],
) -> StackPlan | None:
    """The stack of the subsystem's routes reaching none of `providers` (session dependency ->
    its AM264 blocker), carrying why each route reaching one stays synchronous; None when no
    route is left to move, or those left still reach the request's state."""
    routes = [
        h for h in project.handlers
        if h.kind != "dependency" and h.module.path in modules and not is_test_path(h.module.path)
    ]
    kept: dict[FunctionId, Blocker] = {}
    moving: set[FunctionId] = set()
    for route in routes:
        reached = sorted(narrowed(frozenset({route.id})).reached_dependencies() & set(providers))
        if reached:
            kept[route.id] = providers[reached[0]]
        else:
            moving.add(route.id)
    if not kept or not moving:
        return None
    plan = narrowed(frozenset(moving)).run()
    if any(b.code == AM231.code for b in plan.blockers):
        plan = database_routes.split(project, modules, narrowed, frozenset(moving)) or plan
    if any(b.code == AM264.code for b in plan.blockers):
        return None
    plan.kept_routes.update(kept)
    return plan
