"""Tests swapping the sessionmaker the application keeps on its state.

A session dependency opening `request.app.state.sessionmaker()` is pointed at the tests' database
by a fixture assigning `app.state.sessionmaker = testing_maker`, not by a dependency override. The
migrated routes open their AsyncSession through the async dependency instead (a hand-written one
opening `request.app.state.async_sessionmaker()`), which that assignment does not change: under
those tests they would use the application's own database. Each such assignment is a gap, as an
override of the synchronous dependency alone is (`override_notes`), unless the same fixture (or
module-level code) also swaps the async dependency's state attribute or overrides the async
dependency.
"""

from __future__ import annotations

from collections.abc import Iterable

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import stack_extras
from async_migrate.codemods.phase2.stack_extras import Texts
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.sources import is_test_path


def notes(
    project: Project, texts: Texts, modules: Iterable[facts.Module], providers: Iterable[FunctionId],
    async_function: FunctionId | None, async_dependency: str, async_ref: str | None,
) -> list[str]:
    """One gap per test assignment to the state attribute a synchronous session dependency opens
    its Session from, in a scope swapping neither the async one's nor overriding it."""
    swapped = {attribute for fid in providers if (attribute := _state_attribute(project, texts, fid))}
    if not swapped:
        return []
    covered = {
        (o.path, o.scope)
        for o in stack_extras.overrides(project, texts, list(modules), {async_ref} if async_ref else set())
    }
    async_attribute = _state_attribute(project, texts, async_function) if async_function is not None else None
    if async_attribute is not None:
        covered |= {(path, scope) for path, scope, _, _ in _test_assignments(project, async_attribute)}
    if any(scope == "" for _, scope in covered):
        return []
    found = []
    for attribute in sorted(swapped):
        for path, scope, line, expression in _test_assignments(project, attribute):
            if (path, scope) in covered:
                continue
            covered.add((path, scope))  # one gap per fixture: its restoring assignment says nothing new
            found.append(
                f"{path}:{line}: `app.state.{attribute} = {project.written(expression)}` points the sessionmaker the "
                f"synchronous session dependency opens at the tests' database; the migrated routes open their "
                f"AsyncSession through `{async_dependency}` instead, which this does not change, so they would use "
                f"the application's own database: swap what `{async_dependency}` opens in the same place, or "
                f"override `{async_dependency}` there"
            )
    return found


def _state_attribute(project: Project, texts: Texts, fid: FunctionId) -> str | None:
    """`sessionmaker` for a dependency opening `request.app.state.sessionmaker()`; else None."""
    module, function = project.functions[fid]
    opened = stack_extras.app_state_maker(project, texts, module, function)
    return opened.rpartition(".")[2] if opened else None


def _test_assignments(project: Project, attribute: str) -> list[tuple[str, str, int, str]]:
    """(path, enclosing function's qualified name, line, expression) of each `x.state.<attribute> =
    expression` in test code on an application's state."""
    flow = project.flow
    found = []
    for fid, head, expression, line in flow.state_assignments().get(attribute, []):
        module, function = project.functions[fid]
        if not is_test_path(module.path) or flow._state_owner(fid, head) != "app":
            continue
        found.append((module.path, function.qualname, line, expression))
    return found
