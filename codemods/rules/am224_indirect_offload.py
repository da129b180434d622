"""AM224 indirect-offload: a function phase two moves runs in a worker thread in a shape it cannot write as `await call`

Phase two drops the thread around a call it moves: `await run_in_threadpool(helper, s)`,
`await asyncio.to_thread(helper, s)`, `await loop.run_in_executor(None, helper, s)`,
`functools.partial(helper, s)` handed to one of them, and a parameterless lambda whose whole
body is the call (`await run_in_threadpool(lambda: repo.get(id))`) all become `await
helper(s)`. Other shapes would hand the thread a coroutine it never awaits (nothing written,
a 200), so the route stays on the synchronous path: a nested `def` run in the thread, a lambda
doing more than the one call, an offload not awaited in place, anyio's own keywords
(`limiter=`), an AsyncSession method in the lambda, a function the analysis cannot name.

Before:

    def remove():
        repo.delete(repo.get(item_id))

    await run_in_threadpool(remove)

After:

    await repo.delete(await repo.get(item_id))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM224",
    name="indirect-offload",
    summary="a function phase two moves runs in a worker thread in a shape it cannot write as `await call`",
    fix="write `await` and the call in the function itself by hand",
    doc=__doc__,
)
