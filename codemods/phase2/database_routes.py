"""A subsystem whose routes reach the session dependencies of several databases (`get_db`
beside `get_analytics_db` in one router module).

One async stack stands for one synchronous sessionmaker, so the stack cannot be chosen for the
whole subsystem (AM231). It can for the routes of one database: those of the others, and a
route reaching two, stay synchronous with a reason naming what they reach (AM231 per route),
and the helpers they share with the moving routes are twinned as for any blocked route. Which
database moves: the one with the most routes whose stack is not blocked otherwise (a reused async
stack of another database is, AM243), the first route's on a tie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from async_migrate.codemods.phase2.stack_plan import Blocker, Found, StackPlan, maker_engine
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules.am231_several_sessionmakers import RULE as AM231
from async_migrate.codemods.sources import is_test_path

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.async_stack import _Analysis


Key = tuple[str, str, int]


def _key(found: Found) -> Key:
    return (found.module.path, found.name, found.line)


def _where(found: Found) -> str:
    return f"`{found.name}` ({found.module.path}:{found.line})"


def _names(fids: set[FunctionId]) -> str:
    return ", ".join(f"`{fid[1]}`" for fid in sorted(fids))


def split(
    project: Project, modules: frozenset[str], narrowed: Callable[[frozenset[FunctionId]], _Analysis],
    among: frozenset[FunctionId] | None = None,
) -> StackPlan | None:
    """The stack of one database's routes, carrying why each other route stays synchronous; None
    when no database's routes can move alone (a route reaching two is all there is). `among`:
    only these routes of the modules are shared out (the others stay synchronous already)."""
    routes = [
        h for h in project.handlers
        if h.kind != "dependency" and h.module.path in modules and not is_test_path(h.module.path)
        and (among is None or h.id in among)
    ]
    free: set[FunctionId] = set()  # no session dependency of any database: they go with any
    groups: dict[Key, list[FunctionId]] = {}
    makers: dict[Key, Found] = {}
    reaching: dict[FunctionId, tuple[set[FunctionId], list[Found]]] = {}
    for route in routes:
        reached, pool = narrowed(frozenset({route.id})).reached_databases()
        reaching[route.id] = (reached, pool)
        if not pool:
            free.add(route.id)
        elif len({_key(f) for f in pool}) == 1:
            groups.setdefault(_key(pool[0]), []).append(route.id)
            makers[_key(pool[0])] = pool[0]
    lines = {route.id: (route.module.path, route.function.line) for route in routes}
    for key in sorted(groups, key=lambda k: (-len(groups[k]), min(lines[r] for r in groups[k]))):
        plan = narrowed(frozenset(groups[key]) | free).run()
        if not plan.ok:
            continue
        chosen = makers[key]
        for route in routes:
            if route.id in free or route.id in groups[key]:
                continue
            reached, pool = reaching[route.id]
            first = pool[0]
            if len({_key(f) for f in pool}) > 1:
                why = (
                    f"the route reaches {_names(reached)}, which open Sessions of several databases "
                    f"({', '.join(_where(f) for f in pool)}): one async stack cannot stand for both; "
                    "keep the route on one database's session dependency, or leave it synchronous"
                )
            elif (engine := maker_engine(project, first)) is not None and engine == maker_engine(project, chosen):
                # bound to the one engine: the same database, through a sessionmaker of options of its own
                why = (
                    f"the route reaches {_names(reached)}, which opens its Sessions from {_where(first)}, "
                    f"another sessionmaker than {_where(chosen)}, which this run's async stack stands for, though "
                    f"on the same engine `{engine.rpartition('.')[2]}` (one database): phase two moves one "
                    "sessionmaker's routes per run, the stack carrying its options only; run it again on this "
                    "subsystem once these have moved, or open the Sessions from one sessionmaker"
                )
            else:
                why = (
                    f"the route reaches {_names(reached)}, which opens its Sessions from {_where(first)}, "
                    f"another database than {_where(chosen)}, which this run's async stack stands for: "
                    "phase two moves one database's routes per run; run it again on this subsystem once "
                    "these have moved (a configuration, `--config`, naming a second async stack builds one "
                    "for that database)"
                )
            plan.kept_routes[route.id] = Blocker(AM231.code, first.module.path, first.line, why)
        return plan
    return None
