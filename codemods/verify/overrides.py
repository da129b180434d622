"""The tests' database override the migrated routes escape, read on the after side.

`phase2 --apply --allow-override-gap` writes routes onto the async session dependency while the
tests still override only the synchronous one (`app.dependency_overrides[get_db] = ...`): those
routes then run against the application's own database, and the tests pass there. A passing test
run proves nothing about them, so `verify` names each such override (the same follow-up phase
two gives) and does not run the tests unless the gap is acknowledged: they would write to that
database. Only an async session dependency that exists and that a route of the application
injects counts: before phase two there is no gap to report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from async_migrate.codemods.sources import is_test_path


@dataclass
class Escapes:
    """The overrides the migrated routes escape, and where those routes' Session work goes instead."""

    gaps: list[str] = field(default_factory=list)
    dependency: str = ""  # the async session dependency's name, for the override to add
    # Some gap is an override of the synchronous session dependency (else only of dependencies
    # whose async twins the routes inject: the override to add is the twin's, each line says).
    session: bool = False
    # The application's own database, as far as the source shows it: the async dependency and
    # the engine it opens its sessions on (`get_async_db_session` (db.py:60) on `async_engine` ...).
    database: str = ""


def override_gaps(project: Any, root: Path, twin_suffix: str = "_async") -> list[str]:
    """The lines of `escapes`."""
    return escapes(project, root, twin_suffix).gaps


def escapes(project: Any, root: Path, twin_suffix: str = "_async") -> Escapes:
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
        return Escapes()
    plan = async_stack.analyse(project, root)
    dependency = plan.async_dependency
    if dependency is None or not dependency.exists:
        return Escapes()
    found = Escapes(dependency=dependency.name, database=_database(plan))

    def read(path: str) -> str:
        return (root / path).read_text(encoding="utf-8", errors="replace")

    twins = twin_overrides.after_gaps(project, read, twin_suffix, plan.session_overridden, plan.test_modules)
    if not plan.overrides:
        found.gaps = twins
        return found
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
                found.gaps, found.session = list(plan.overrides) + twins, True
                return found
            seen.add(ref)
            fid = dependency_function(project, ref)
            if fid is not None:
                queue += [project.param_dependency(p) for p in project.functions[fid][1].params]
    found.gaps = twins
    return found


def _database(plan: Any) -> str:
    """`get_async_db_session` (db.py:60) on `async_engine` (db.py:51), built from the engine at
    db.py:14: what the source names of the database the routes reach, never its URL (read at run
    time, from the environment often)."""
    dependency = plan.async_dependency
    text = f"`{dependency.name}` ({dependency.where})"
    engine = plan.async_engine
    if engine is not None and engine.exists:
        text += f" on `{engine.name}` ({engine.where})"
    if plan.build is not None and plan.build.line:
        text += f", built from the engine at {plan.build.path}:{plan.build.line}"
    return text
