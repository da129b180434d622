"""Session work a function's project decorators run on the event loop around it.

A decorator that returns an `async def` wrapper (`@require_role("admin")` reading the user,
`@audit` writing a log row after the call) runs that wrapper on the event loop for every call
of the `async def` it decorates: its synchronous Session work there blocks the loop though the
function's own body shows none. And a decorator whose `async def` wrapper calls the function
it wraps without awaiting it (`return func(*args)`, an `ensure_async`) runs a plain `def` on
the event loop: FastAPI sees a coroutine function and never sends it to the threadpool.

The plain wrapper a decorator gives a plain function does Session work on the Session that
function is handed (`@transactional` committing `session` after `fn(*args, session=session)`):
`plain_wrapper_io`. Such a function does I/O though its own body only adds; handed an AsyncSession
as a plain `def`, the wrapper's commit is a coroutine nothing awaits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.vocabulary.python import METHOD_DECORATORS
from async_migrate.codemods.vocabulary.sqlalchemy import AWAITED_METHODS, SESSION_IO_METHODS

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


# Decorators that hand the function on as it is, with no wrapper around its calls.
_NO_WRAPPER = frozenset({"abc.abstractmethod", "typing.override", "typing_extensions.override", "functools.singledispatch"})
_IO = AWAITED_METHODS | SESSION_IO_METHODS
# How deep helpers handed the Session by a wrapper are read (`finish(session)` calling `_commit(s)`).
_DEPTH = 4


@dataclass(frozen=True, slots=True)
class WrapperIO:
    """Session work a decorator's plain wrapper does on a Session its function is handed, or may
    do: `where` is ``path:line``; `call` what it calls as written (`session.commit()`,
    `finish(session)`), None where the wrapper cannot be read; `certain` False where it cannot be
    read, or takes the value it calls that on from its arguments without saying which."""

    decorator: facts.Decorator
    where: str
    call: str | None
    certain: bool
    method: str | None = None  # the Session method the call is; None for a function handed it
    # an `async def` wrapper awaits it (`await db.commit()`, `await finish(db)`): whatever the
    # function handed the Session does, the wrapper runs what it gives back
    awaited: bool = False

    def shown(self) -> str:
        name = f"@{self.decorator.text.lstrip('@')}"
        if self.call is None:
            return f"{name}'s wrapper ({self.where}) cannot be read: what it does with the Session is not known"
        if self.certain:
            return f"{name}'s plain wrapper calls `{self.call}` on the Session it is handed ({self.where})"
        return (f"{name}'s plain wrapper calls `{self.call}` ({self.where}) on a value it takes from its arguments, "
                "which may be the Session")


def plain_wrapper_io(project: Project, fid: FunctionId, names: Iterable[str] | None = None) -> list[WrapperIO]:
    """The Session I/O the plain wrappers of a plain function's decorators do around each call on
    the Sessions it is handed in `names` (its Session parameters by default), and where it cannot be
    told that they do none: a decorator whose plain wrapper the analysis does not read (a library's,
    a class whose instance is the wrapper), or a Session method called on a value the wrapper takes
    from its arguments without saying which."""
    module, function = project.functions[fid]
    params = set(names) if names is not None else set(project.session_params.get(fid, {}))
    if function.is_async or not params or not function.decorators:
        return []
    found: list[WrapperIO] = []
    pairs = project.decorator_functions_of(fid)
    read = {id(decorator): target for decorator, target in pairs}
    # its own, and those its class's decorator applies to its methods (`@sessioned_methods`)
    applied = [*function.decorators, *(d for d, _ in pairs if all(d is not own for own in function.decorators))]
    for decorator in applied:
        canonical = project.canonical(decorator.callee) or ""
        if (decorator.callee in METHOD_DECORATORS and not decorator.is_call) or canonical in _NO_WRAPPER or (
            project.is_registration(decorator)
        ):
            continue
        target = read.get(id(decorator))
        if target is None:
            shape, where = project.decorator_shape(decorator)
            if shape == "passthrough" and where != "configuration":
                continue
            found.append(WrapperIO(decorator, where, None, False))
            continue
        found.extend(wrapper_io(project, fid, decorator, target, params))
    return found


def loop_wrapper_io(project: Project, fid: FunctionId, names: Iterable[str] | None = None) -> list[WrapperIO]:
    """The Session I/O the `async def` wrappers of a function's project decorators (those FastAPI
    calls, below a route decorator) do around each call of it as a coroutine function, on the
    Sessions it is handed in `names` (its Session parameters by default): `await db.commit()`
    after `await fn(*args, db=db, **kwargs)`, what runs once the function has returned. A wrapper
    that was not read is not listed (phase two blocks a route under a decorator it cannot show
    awaits it, `handler_decorators`)."""
    _, function = project.functions[fid]
    params = set(names) if names is not None else set(project.session_params.get(fid, {}))
    if not params or not function.decorators:
        return []
    found: list[WrapperIO] = []
    for decorator in _applied(project, function):
        target = project.decorator_function(decorator.callee)
        if target is None:
            continue
        target_fid = (target[0].name, target[1].key)
        uses = target[1].loop_wrapper_uses
        if uses is not None:
            found.extend(wrapper_io(project, fid, decorator, target_fid, params, uses))
    return found


def wrapper_io(
    project: Project, fid: FunctionId, decorator: facts.Decorator, target: FunctionId, params: set[str],
    uses: tuple[facts.WrapperUse, ...] | None = None,
) -> list[WrapperIO]:
    """`plain_wrapper_io` for the decorator `decorator` of `fid`, whose function is `target`;
    with `uses`, of those (its `async def` wrapper's) instead of its plain wrapper's."""
    target_module, wrapper = project.functions[target]
    if wrapper.wraps == "passthrough":
        return []  # no wrapper: the function itself is what gets called
    where = f"{target_module.path}:{wrapper.line}"
    uses = uses if uses is not None else wrapper.plain_wrapper
    if uses is None:
        return [WrapperIO(decorator, where, None, False)]
    _, function = project.functions[fid]
    positional = [p.name for p in function.params if p.positional]
    named = {p.name for p in function.params if not p.variadic}
    found = []
    for use in uses:
        if use.keyword is not None:
            param = use.keyword if use.keyword in named else None
            if param is None:
                continue
        elif use.position is not None:
            param = positional[use.position] if use.position < len(positional) else None
            if param is None:
                continue
        else:
            param = None  # the wrapper does not say which argument: any of the Sessions
        if param is not None and param not in params:
            continue
        if use.method is not None or _handed_io(project, use):
            where = f"{target_module.path}:{use.line}"
            found.append(WrapperIO(decorator, where, use.text, param is not None, use.method, use.awaited))
    return found


def unawaited_loop_work(project: Project, fid: FunctionId, names: Iterable[str] | None = None) -> list[WrapperIO]:
    """The Session work the `async def` wrappers of a function's decorators do without `await` on
    the Sessions it is handed in `names` (its Session parameters by default): `kwargs["db"].commit()`
    after `await fn(*args, **kwargs)`, `commit(db)` with a plain `def commit(session)`. Handed the
    AsyncSession, each is a coroutine nothing awaits (nothing committed, the route answering 200),
    or a method it does not have; a call on a value the wrapper takes from its arguments without
    saying which is listed too (`certain` False)."""
    return [io for io in loop_wrapper_io(project, fid, names) if io.call is not None and not io.awaited]


def _handed_io(project: Project, use: facts.WrapperUse) -> bool:
    """Whether the project function a wrapper hands the Session to does Session I/O on it."""
    target = project.function(use.callee) if use.callee is not None else None
    if target is None:
        return False
    callee = (target[0].name, target[1].key)
    given = _parameter(target[1], use.handed_position, use.handed_keyword)
    return given is not None and _io_on(project, callee, given, frozenset())


def _parameter(function: facts.Function, position: int | None, keyword: str | None) -> str | None:
    if keyword is not None:
        return keyword if any(p.name == keyword and not p.variadic for p in function.params) else None
    positional = [p.name for p in function.params if p.positional]
    return positional[position] if position is not None and position < len(positional) else None


def _io_on(project: Project, fid: FunctionId, param: str, seen: frozenset[FunctionId]) -> bool:
    """Whether a project function does Session I/O on its parameter `param`: its own calls, or
    those of the functions it hands it to (a few levels deep); a coroutine function, whatever it
    awaits."""
    _, function = project.functions[fid]
    if fid in seen or len(seen) >= _DEPTH:
        return False
    if function.is_async:
        return True  # a coroutine function handed the Session: what it awaits is not run here either
    for call in function.calls:
        if call.receiver == param and call.method in _IO:
            return True
        target = project.function(call.callee) if call.callee is not None else None
        if target is None:
            continue
        for arg in call.args:
            if arg.name == param:
                given = _parameter(target[1], arg.position, arg.keyword)
                if given is not None and _io_on(project, (target[0].name, target[1].key), given, seen | {fid}):
                    return True
    return False
