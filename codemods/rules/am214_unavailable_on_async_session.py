"""AM214 unavailable-on-async-session: the function calls a Session method that `AsyncSession` does not have, where phase two cannot run it through `run_sync`

The legacy bulk methods (`bulk_save_objects`, `bulk_insert_mappings`,
`bulk_update_mappings`) exist only on the synchronous Session. Phase two runs a direct call
on the synchronous Session behind the AsyncSession,
`await session.run_sync(lambda sync_session: sync_session.bulk_save_objects(books))`; a call
inside a nested function, a lambda or a generator expression, where no `await` can stand,
blocks the route. A method no `run_sync` makes work alike blocks the route wherever it is called:
`enable_relationship_loading(obj)` sets up lazy loads, which AsyncSession cannot run on the event
loop, and `prepare()` needs the two-phase commit the async stack does not ask for.

Before:

    list(map(lambda book: session.bulk_save_objects([book]), books))

After:

    await session.run_sync(lambda sync_session: sync_session.bulk_save_objects(books))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM214",
    name="unavailable-on-async-session",
    summary="the function calls a Session method that `AsyncSession` does not have, where phase two cannot "
    "run it through `run_sync`",
    fix="call it where an `await` can stand, then rerun phase two (it runs it through "
    "`await session.run_sync(...)`), or use `insert()`/`update()` statements",
    doc=__doc__,
)
