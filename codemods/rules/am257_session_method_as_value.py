"""AM257 session-method-as-value: a route hands a Session method on as a value (not called), which on an AsyncSession would return a coroutine nobody awaits

`run_in_threadpool(session.execute, stmt)`, `tasks.add_task(session.commit)` or
`map(session.merge, rows)` call the method elsewhere, without `await`. On an `AsyncSession`
those methods are coroutine functions: the thread or callback would get a coroutine back
and the work would silently never run. So does a method kept under another name and called
there (`run = session.execute`, `{"run": session.execute}`), which the rewrite, awaiting calls
on the Session, never sees. The route stays on the synchronous path until the method is
called directly.

Before:

    @router.get("/count")
    async def count(session: SessionDep):
        result = await run_in_threadpool(session.execute, select(func.count(Book.id)))
        return result.scalar_one()

After:

    @router.get("/count")
    async def count(session: AsyncSessionDep):
        result = await session.execute(select(func.count(Book.id)))
        return result.scalar_one()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM257",
    name="session-method-as-value",
    summary=(
        "a route hands a Session method on as a value (not called), which on an AsyncSession would "
        "return a coroutine nobody awaits"
    ),
    fix="call the method directly (`await session.execute(...)` after phase two), then rerun phase two",
    doc=__doc__,
)
