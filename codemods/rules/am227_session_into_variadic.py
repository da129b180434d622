"""AM227 session-into-variadic: the Session lands in a project function's `*args` or `**kwargs`

The analysis follows the Session into named parameters only. Passed into `*args` (a job
queue's `enqueue("task", db, ...)` that runs `fn(*args)` or starts a thread with them), it
reaches code phase two never rewrites: once the route moves, that code receives an
AsyncSession and calls it synchronously (a coroutine never awaited, or `TypeError`), so the
route stays on the synchronous path.

Before:

    worker.enqueue("log_search", db, q)   # def enqueue(name, *args): TASKS[name](*args)

After:

    worker.enqueue("log_search", q)       # the job opens its own Session
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM227",
    name="session-into-variadic",
    summary="the Session lands in a project function's *args or **kwargs, which the analysis does not follow",
    fix="pass the Session to a named parameter, or let the code that runs later open its own Session",
    doc=__doc__,
)
