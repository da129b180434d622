"""Session work a function's project decorators run on the event loop around it.

A decorator that returns an `async def` wrapper (`@require_role("admin")` reading the user,
`@audit` writing a log row after the call) runs that wrapper on the event loop for every call
of the `async def` it decorates: its synchronous Session work there blocks the loop though the
function's own body shows none. And a decorator whose `async def` wrapper calls the function
it wraps without awaiting it (`return func(*args)`, an `ensure_async`) runs a plain `def` on
the event loop: FastAPI sees a coroutine function and never sends it to the threadpool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project


def wrapper_work(project: Project, decorator: FunctionId) -> list[tuple[int, str]]:
    """(line, text) of the synchronous Session work inside a decorator's `async def` wrapper.
    A Session the wrapper only opens and hands to the function it wraps is not listed: what
    the function does with it is the function's own work."""
    _, function = project.functions[decorator]
    span = function.loop_wrapper
    if span is None:
        return []
    start, end = span
    handed = {
        arg.name for call in function.calls if call.func == f"${function.wrapped}" for arg in call.args if arg.name
    }
    passed = {o.line for o in project.opens_directly(decorator) if o.name in handed}
    found: dict[int, str] = {}
    for line, text in project.own_work(decorator):
        if start <= line <= end and (line not in passed or "->" in text):
            found.setdefault(line, text)
    for edge in project.all_calls_from[decorator]:
        line = edge.call.line
        if not start <= line <= end or line in found or edge.call.offloaded:
            continue
        callee_module, callee = project.functions[edge.callee]
        if callee.is_async:
            continue
        if project.opens_directly(edge.callee) or project.opens_session(edge.callee) or (
            edge.callee in project.work_chains
        ):
            found[line] = f"{callee_module.name}.{callee.qualname}(...)"
    return sorted(found.items())


def decorators_on_loop(project: Project, fid: FunctionId) -> list[tuple[facts.Decorator, str]]:
    """The project decorators of an `async def` whose wrapper does synchronous Session work on the
    event loop, each with where: ``path:line (`text`)`` of the first such line."""
    _, function = project.functions[fid]
    if not function.is_async:
        return []
    found = []
    for decorator in _applied(project, function):
        target = project.decorator_function(decorator.callee)
        if target is None:
            continue
        module, _ = target
        work = wrapper_work(project, (module.name, target[1].key))
        if work:
            line, text = work[0]
            found.append((decorator, f"{module.path}:{line} (`{text}`)"))
    return found


def runs_on_loop(project: Project, fid: FunctionId) -> tuple[facts.Decorator, str] | None:
    """The decorator that runs a plain `def` on the event loop (an `async def` wrapper calling it
    without await), with where it is defined; None when there is none."""
    _, function = project.functions[fid]
    if function.is_async:
        return None
    for decorator in _applied(project, function):
        shape, where = project.decorator_shape(decorator)
        if shape == "loop":
            return decorator, where
    return None


def _applied(project: Project, function: facts.Function) -> list[facts.Decorator]:
    """The decorators that wrap what a route decorator registers: those below the topmost one (a
    decorator above it wraps only the module attribute); every one on a function no route
    decorator registers."""
    decorators = function.decorators
    registered = [i for i, d in enumerate(decorators) if project.is_registration(d)]
    below = decorators[registered[0] + 1 :] if registered else decorators
    return [d for d in below if not project.is_registration(d)]
