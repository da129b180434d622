"""Tests swapping the sessionmaker the application keeps on its state.

A session dependency opening `request.app.state.sessionmaker()` is pointed at the tests' database
by a fixture assigning `app.state.sessionmaker = testing_maker`, not by a dependency override. The
migrated routes open their AsyncSession through the async dependency instead (a hand-written one
opening `request.app.state.async_sessionmaker()`), which that assignment does not change: under
those tests they would use the application's own database. Each such assignment is a gap, as an
override of the synchronous dependency alone is (`override_notes`), unless the same fixture (or
module-level code) also swaps the async dependency's state attribute or overrides the async
dependency.

A swap is any of: the assignment in a fixture or at module level in a test module,
`monkeypatch.setattr(app.state, "sessionmaker", maker)` (or `setattr`, `patch.object`), and
`monkeypatch.setattr("app.main.app.state.sessionmaker", maker)` (or `patch("...")`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import stack_extras
from async_migrate.codemods.phase2.stack_extras import Texts, first_line
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.sources import is_test_path


def notes(
    project: Project, texts: Texts, modules: Iterable[facts.Module], providers: Iterable[FunctionId],
    async_function: FunctionId | None, async_dependency: str, async_ref: str | None,
    async_stack: Iterable[str] = (),
) -> list[str]:
    """One gap per test assignment to the state attribute a synchronous session dependency opens
    its Session from, in a scope swapping neither the async one's nor overriding it, nor
    redirecting the module-level async sessionmaker or engine (`async_stack`, canonical
    references) the async dependency opens from (`reports.AsyncSessionLocal = testing_maker`)."""
    swapped = {attribute for fid in providers if (attribute := _state_attribute(project, texts, fid))}
    if not swapped:
        return []
    modules = list(modules)
    covered = {
        (o.path, o.scope)
        for o in stack_extras.overrides(project, texts, modules, {async_ref} if async_ref else set())
    }
    covered |= {(r.path, r.scope) for r in stack_extras.redirects(project, texts, modules, set(async_stack))}
    async_attribute = _state_attribute(project, texts, async_function) if async_function is not None else None
    if async_attribute is not None:
        covered |= {(path, scope) for path, scope, _, _ in _test_assignments(project, texts, modules, async_attribute)}
    found = []
    for attribute in sorted(swapped):
        for path, scope, line, said in _test_assignments(project, texts, modules, attribute):
            if _covered(covered, path, scope):
                continue
            covered.add((path, scope))  # one gap per fixture: its restoring assignment says nothing new
            found.append(
                f"{path}:{line}: `{said}` points the sessionmaker the "
                f"synchronous session dependency opens at the tests' database; the migrated routes open their "
                f"AsyncSession through `{async_dependency}` instead, which this does not change, so they would use "
                f"the application's own database: swap what `{async_dependency}` opens in the same place, or "
                f"override `{async_dependency}` there"
            )
    return found


def _covered(covered: set[tuple[str, str]], path: str, scope: str) -> bool:
    """A swap in `scope` of `path` is matched by one in the same scope, or by one at module level
    in any test module: pytest imports every test module before running a test, so what one
    does at its top holds for every test."""
    return (path, scope) in covered or any(not other for _, other in covered)


def _state_attribute(project: Project, texts: Texts, fid: FunctionId) -> str | None:
    """`sessionmaker` for a dependency opening `request.app.state.sessionmaker()`; else None."""
    module, function = project.functions[fid]
    opened = stack_extras.app_state_maker(project, texts, module, function)
    return opened.rpartition(".")[2] if opened else None


def _test_assignments(
    project: Project, texts: Texts, modules: Iterable[facts.Module], attribute: str
) -> list[tuple[str, str, int, str]]:
    """(path, enclosing function's qualified name or "" at module level, line, the swap as written)
    of each swap of `x.state.<attribute>` in test code on an application's state: the assignments
    in the project's functions the value flow reads, and every form in the test modules' text."""
    flow = project.flow
    found = []
    for fid, head, expression, line in flow.state_assignments().get(attribute, []):
        module, function = project.functions[fid]
        if not is_test_path(module.path) or flow._state_owner(fid, head) != "app":
            continue
        found.append((module.path, function.qualname, line, f"app.state.{attribute} = {project.written(expression)}"))
    seen = {(path, line) for path, _, line, _ in found}
    paths = {module.path for module in modules if is_test_path(module.path)}
    for path in sorted(paths):
        for scope, line, said in _written_swaps(texts, path, attribute):
            if (path, line) not in seen:
                seen.add((path, line))
                found.append((path, scope, line, said))
    return found


# Names a handler's or middleware's request goes by: `request.state` is no application's.
_REQUESTS = frozenset({"request", "req", "websocket", "ws", "scope", "conn", "connection"})
# Calls setting an attribute of an object named by the first argument: `monkeypatch.setattr(obj,
# "name", value)`, `setattr(...)`, `patch.object(...)`; given a dotted string alone, the target
# it names (`monkeypatch.setattr("app.main.app.state.name", value)`, `patch("...")`).
_SETTERS = frozenset({"setattr", "object"})
_PATCHERS = frozenset({"setattr", "patch"})


def _written_swaps(texts: Texts, path: str, attribute: str) -> list[tuple[str, int, str]]:
    """(scope, line, the swap as written) of each swap of an application's `state.<attribute>`
    in the module's text."""
    from async_migrate.codemods.phase2.stack_extras import function_scopes

    read = texts.get(path, attribute)
    if read is None:
        return []
    text, tree = read
    scopes = function_scopes(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not any(isinstance(t, ast.Attribute) and t.attr == attribute and _app_state(t.value) for t in targets):
                continue
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            first = node.args[0] if node.args else None
            second = node.args[1] if len(node.args) > 1 else None
            on_object = (
                name in _SETTERS and first is not None and _app_state(first)
                and isinstance(second, ast.Constant) and second.value == attribute
            )
            if not on_object and not (name in _PATCHERS and isinstance(first, ast.Constant) and _state_path(first.value, attribute)):
                continue
        else:
            continue
        found.append((scopes.get(id(node), ""), node.lineno, first_line(text, node)))
    return found


def _app_state(node: ast.expr) -> bool:
    """`app.state`, `client.app.state`, `main.app.state`: an application's state, not a request's."""
    if not isinstance(node, ast.Attribute) or node.attr != "state":
        return False
    owner = node.value
    last = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
    return last not in _REQUESTS


def _state_path(value: object, attribute: str) -> bool:
    """`"app.main.app.state.sessionmaker"`: a dotted path to an application's state attribute."""
    if not isinstance(value, str):
        return False
    parts = value.split(".")
    return len(parts) >= 3 and parts[-2:] == ["state", attribute] and parts[-3] not in _REQUESTS
