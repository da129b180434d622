"""Synchronous Session work the `async def` wrapper of a function's decorator does on the Session
it hands the function, which phase two moves to AsyncSession.

`@transactional` whose wrapper runs `result = await fn(*args, **kwargs)` and then
`kwargs["db"].commit()`: on the synchronous Session the commit runs (blocking the loop); once the
route is on AsyncSession the same line makes a coroutine nothing awaits, so nothing is committed
and the route answers 200. The same with the Session read into a name, a wrapper parameter
(`db: Session`), or handed to a plain `def commit(session)` helper. A route (or the helper it
calls) whose decorator does that blocks (AM217), naming the decorator, the wrapper's call and its
line.

Phase two does not rewrite the wrapper: the decorator wraps every function it decorates, and one
still on the synchronous Session, in this subsystem or another, or handed the wrapper some way
other than `@` (`transactional(fn)` as a value), would then await what a synchronous Session
returns (TypeError). An async twin of the decorator would need its helpers twinned too, and the
migrated routes re-pointed at it.
"""

from __future__ import annotations

from async_migrate.codemods import session_work
from async_migrate.codemods.decorator_work import WrapperIO, unawaited_loop_work
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.sqlalchemy import AWAITED_METHODS


def blockers(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """(line of the decorator, message) for each decorator whose `async def` wrapper would do
    unawaited Session work on the AsyncSession the function is handed once it moves. A plain
    helper that stays a plain `def` (`session_work.no_io_only`) gets the plain wrapper: not here."""
    _, function = project.functions[fid]
    if not function.decorators or (not function.is_async and session_work.no_io_only(project, fid)):
        return []
    found: dict[int, list[WrapperIO]] = {}
    for io in unawaited_loop_work(project, fid):
        found.setdefault(io.decorator.line, []).append(io)
    return [(line, _message(function.name, ios)) for line, ios in sorted(found.items())]


def _message(name: str, ios: list[WrapperIO]) -> str:
    decorator = f"@{ios[0].decorator.text.lstrip('@')}"
    calls = "; ".join(_call(io) for io in ios)
    return (
        f"`{name}` is wrapped by `{decorator}`, whose `async def` wrapper {calls}; phase two does not rewrite "
        f"the wrapper, which every function under `{decorator}` shares; fix: once every function it decorates "
        f"is on AsyncSession, await that work in the wrapper (`await {_awaited(ios[0])}`), or give the migrated "
        f"functions an async copy of `{decorator}` that awaits it, then rerun phase two"
    )


def _awaited(io: WrapperIO) -> str:
    return io.call if io.call is not None and (io.method is None or io.method in AWAITED_METHODS) else "..."


def _call(io: WrapperIO) -> str:
    on = "the Session it hands the function" if io.certain else (
        "a value it takes from its arguments, which may be the Session"
    )
    if io.method is None:
        return (f"hands {on} to `{io.call}` ({io.where}) without awaiting the Session work done there: on the "
                "AsyncSession that work is a coroutine nothing awaits, and never runs")
    if io.method == "commit":
        result = "a coroutine nothing awaits: nothing is committed, and the route still answers 200"
    elif io.method in AWAITED_METHODS:
        result = f"a coroutine nothing awaits: the `{io.method}` never runs"
    else:
        result = "a call AsyncSession does not support as written (a method it lacks, or one needing `async with`)"
    return f"calls `{io.call}` ({io.where}) on {on}, without `await`: on the AsyncSession that is {result}"
