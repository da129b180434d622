"""AM224 indirect-offload: a helper taking the Session runs through run_in_executor, anyio or functools.partial

Phase two unwraps `await run_in_threadpool(helper, session)` into `await helper(session)`;
the other ways of running a function in a thread hide the call's shape, so the route
stays on the synchronous path.

Before:

    await loop.run_in_executor(None, functools.partial(save, session, book))

After:

    await save(session, book)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM224",
    name="indirect-offload",
    summary="a helper taking the Session runs through run_in_executor, anyio or functools.partial",
    fix="rewrite the call as `await helper(...)` by hand",
    doc=__doc__,
)
