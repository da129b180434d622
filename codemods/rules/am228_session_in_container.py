"""AM228 session-in-container: the Session is handed on inside a tuple, list, set or dict display

`threading.Thread(target=crud.bump, args=(db, pid))`, `executor.submit(*[db])` and the like
give the Session to code the analysis does not follow through the container. Once the route
moves, that code receives an AsyncSession and calls it synchronously: its queries are
coroutines nobody awaits and nothing is written. The route stays on the synchronous path.

Before:

    threading.Thread(target=crud.bump_views, args=(db, product_id)).start()

After:

    await crud.bump_views(db, product_id)   # or a thread that opens its own Session
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM228",
    name="session-in-container",
    summary="the Session is handed on inside a tuple, list, set or dict display",
    fix="pass the Session as an argument of its own, or let the code that runs later open its own Session",
    doc=__doc__,
)
