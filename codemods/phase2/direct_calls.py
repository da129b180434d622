"""Code calling a route function itself, handing it its own object where FastAPI injects one.

A unit test calling `get_customer(7, svc=FakeService())` relies on what the route does with `svc`.
Migrated, the route awaits the async form of what it calls on an injected parameter (an async twin
or parallel class of the service, an AsyncSession), so the caller's object (a synchronous fake, a
Session) breaks it: the route is blocked naming each such call (AM265). Phase one keeps such a
route for the same reason (AM130). Callers migrating with the route hand it what they are
injected themselves, rewritten with them, and are left out.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from async_migrate.codemods import facts
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules import Reason
from async_migrate.codemods.rules.am265_route_called_directly import RULE as AM265


def handed_injected(project: Project, route: FunctionId, moving: AbstractSet[FunctionId]) -> list[Reason]:
    """One reason per call of `route` outside `moving` that hands a parameter FastAPI injects
    (a `Depends(...)`, the Session) a value of its own, or may (`**kwargs`)."""
    _, function = project.functions[route]
    injected: dict[str, str] = {}
    for param in function.params:
        ref = project.param_dependency(param)
        if ref is not None:
            injected[param.name] = f"`Depends({ref.rsplit('.', 1)[-1]})`"
        elif project.declared_session(param) is not None:
            injected[param.name] = "the session dependency"
    if not injected:
        return []
    # One reason per caller: each line it calls the route on, what those calls hand
    calls: dict[FunctionId, tuple[list[int], list[str]]] = {}
    for edge in project.all_calls_to.get(route, ()):
        if edge.caller in moving:
            continue
        handed = _handed(function, edge.call, injected)
        if handed:
            lines, names = calls.setdefault(edge.caller, ([], []))
            lines.append(edge.call.line)
            names.extend(n for n in handed if n not in names)
    found: list[Reason] = []
    for caller_id, (lines, handed) in sorted(calls.items()):
        module, caller = project.functions[caller_id]
        what = ", ".join(f"`{name}` (filled by {injected[name]})" for name in handed if name != "**")
        if "**" in handed:
            unpacked = "arguments unpacked with `*` or `**`, which may fill " + ", ".join(f"`{n}`" for n in injected)
            what = f"{what} and {unpacked}" if what else unpacked
        found.append(AM265.reason(
            f"{module.path}:{', '.join(map(str, sorted(set(lines))))}: {module.name}.{caller.qualname} calls the "
            f"route function {function.qualname} itself, handing {what} an object of its own: migrated, the route "
            "awaits the async form of what it calls on that parameter (an async twin of the service, an "
            "AsyncSession), which an object built for the synchronous route is not (TypeError on `await`); "
            "call the route through the application (TestClient), or hand it the async form, then run phase "
            "two again"
        ))
    return found


def _handed(function: facts.Function, call: facts.Call, injected: dict[str, str]) -> list[str]:
    if call.splatted or call.forwarded:
        return ["**"]  # `**kwargs` or `*args`: which parameters it fills is not known
    found: list[str] = []
    for arg in call.args:
        name = facts.parameter_of(function, arg)
        if name in injected:
            found.append(name)
    return found
