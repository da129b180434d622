"""The tests' database override the migrated routes escape, read on the after side.

`phase2 --apply --allow-override-gap` writes routes onto the async session dependency while the
tests still override only the synchronous one (`app.dependency_overrides[get_db] = ...`): those
routes then run against the application's own database, and the tests pass there. A passing test
run proves nothing about them, so `verify` names each such override (the same follow-up phase
two gives) and fails unless the gap is acknowledged. Only an async session dependency that exists
and that a route of the application injects counts: before phase two there is no gap to report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from async_migrate.codemods.sources import is_test_path


def override_gaps(project: Any, root: Path, twin_suffix: str = "_async") -> list[str]:
    """One line per `dependency_overrides[<sync session dependency>]` that does not reach the
    routes injecting the async session dependency, with the override to add; and per override of a
    dependency whose async twin those routes depend on instead, where the tests override no session
    dependency (the twin's Session work ran on the application's database)."""
    from async_migrate.codemods.phase2 import async_stack, twin_overrides
    from async_migrate.codemods.phase2.dependencies import (
        dependency_function,
        route_dependencies,
    )

    if project is None:
        return []
    plan = async_stack.analyse(project, root)
    dependency = plan.async_dependency
    if dependency is None or not dependency.exists:
        return []

    def read(path: str) -> str:
        return (root / path).read_text(encoding="utf-8", errors="replace")

    twins = twin_overrides.after_gaps(project, read, twin_suffix, plan.session_overridden, plan.test_modules)
    if not plan.overrides:
        return twins
    target = project.canonical(f"{dependency.module}.{dependency.name}")
    seen: set[str] = set()
    for handler in project.handlers:
        if handler.kind == "dependency" or is_test_path(handler.module.path):
            continue
        queue = [project.param_dependency(p) for p in handler.function.params]
        queue += route_dependencies(project, handler)
        while queue:  # through the route's dependency tree: an async twin injecting it counts
            ref = project.canonical(queue.pop())
            if ref is None or ref in seen:
                continue
            if ref == target:
                return list(plan.overrides) + twins
            seen.add(ref)
            fid = dependency_function(project, ref)
            if fid is not None:
                queue += [project.param_dependency(p) for p in project.functions[fid][1].params]
    return twins
