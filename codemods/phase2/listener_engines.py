"""AM343: listeners the async sessions run that tell the database apart by the synchronous engine.

A listener on the `Session` class (or the class the async sessions run as `sync_session_class=`)
or on a mapped class runs for the migrated routes' AsyncSessions too. One that decides what to do
by comparing the Session's bind, or a mapper event's connection's engine, with the synchronous
engine (`if session.bind is orders_engine:`, `connection.engine == users_engine`,
`session.get_bind() in (a, b)`) gets another answer there: an AsyncSession's Session is bound to
the async engine's `.sync_engine`, an Engine of its own, so the comparison no longer holds and the
listener silently skips (or starts doing) its work for every migrated route. The tests of a
service rarely check such a side effect, and neither `check` nor the running code raises.

A comparison that names the async engine's `.sync_engine` as well is what the fix writes, and is
left alone.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.phase2 import stack_extras
from async_migrate.codemods.project import Project

_COMPARISONS = (ast.Is, ast.IsNot, ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def comparisons(
    project: Project, texts: stack_extras.Texts, modules: Iterable[facts.Module], stack: stack_extras.SyncStack,
    async_engine: str, in_tests: Callable[[str], bool],
) -> list[tuple[str, int, str]]:
    """(path, line, message) for each comparison with a synchronous engine of `stack` in the
    function of a listener the async sessions run (the selection `blocking_listeners` makes)."""
    by_path = {m.path: m for m in project.modules.values()}
    found: list[tuple[str, int, str]] = []
    seen: set[tuple[str, int]] = set()
    for listener in stack_extras.listeners(project, texts, modules):
        module = by_path.get(listener.path)
        if in_tests(listener.path) or module is None or listener.ref is None or listener.handler == "?":
            continue
        if stack.target(listener.ref) not in stack.carried and not stack_extras.model_target(project, listener.ref):
            continue
        handler = stack_extras.handler_function(project, module, listener)
        if handler is None:
            continue
        node = stack_extras.function_node(texts, *handler)
        if node is None:
            continue
        text, definition = node
        assert isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef))
        for compare, engine in _engine_comparisons(project, handler[0], definition, stack.engines):
            where = (handler[0].path, compare.lineno)
            if where in seen:
                continue
            seen.add(where)
            written = stack_extras.first_line(text, compare)
            found.append((handler[0].path, compare.lineno, (
                f"`{written}` in `{listener.handler}`, which `{listener.written}` registers and the async sessions "
                f"run too, compares with the synchronous engine `{engine}`; a migrated route's Session is bound to "
                f"`{async_engine}.sync_engine`, another Engine, so there the comparison gives the other answer and "
                "the listener would silently change what it does for every migrated route: write the async engine "
                f"by hand and compare with its `.sync_engine` as well (`... in ({engine}, {async_engine}"
                ".sync_engine)`), then run phase two again, which reuses that engine"
            )))
    return found


def _engine_comparisons(
    project: Project, module: facts.Module, definition: ast.FunctionDef | ast.AsyncFunctionDef, engines: set[str]
) -> list[tuple[ast.Compare, str]]:
    """The comparisons of `definition` one of whose operands (or an element of a display operand)
    names a synchronous engine, unless another names an async engine's `.sync_engine`."""
    local = _bound_names(definition)
    found = []
    for node in ast.walk(definition):
        if not isinstance(node, ast.Compare) or not any(isinstance(op, _COMPARISONS) for op in node.ops):
            continue
        named = [dotted(e) for operand in [node.left, *node.comparators] for e in _elements(operand)]
        if any(n is not None and n.endswith(".sync_engine") for n in named):
            continue
        engine = next((
            n for n in named
            if n is not None and n.partition(".")[0] not in local
            and (project.canonical(stack_extras.absolute(module, n)) or stack_extras.absolute(module, n)) in engines
        ), None)
        if engine is not None:
            found.append((node, engine))
    return found


def _elements(operand: ast.expr) -> list[ast.expr]:
    if isinstance(operand, (ast.Tuple, ast.List, ast.Set)):
        return list(operand.elts)
    return [operand]


def _bound_names(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names the function binds itself (parameters, assignments, loop and `with` targets): never
    the module's engine."""
    names = {a.arg for a in ast.walk(definition.args) if isinstance(a, ast.arg)}
    for node in ast.walk(definition):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names
