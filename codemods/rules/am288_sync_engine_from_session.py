"""AM288 sync-engine-from-session: the function works on the synchronous Engine behind the Session (`get_bind()`, `.bind`), which an AsyncSession hands out only for `run_sync`

`session.get_bind()` (and `session.bind`) on an `AsyncSession` give the synchronous `Engine`
its `AsyncEngine` wraps: connecting with it, or handing it to code that does (`pandas.read_sql`,
`metadata.create_all`), on the event loop raises `MissingGreenlet`. Reading what it describes
(`session.get_bind().dialect.name`, `.url.database`) is fine and is not reported; what names its
driver (the `.url` whole or its `drivername`, `.driver`, `.dialect.driver`) reads the async
driver's there (`sqlite+aiosqlite`) and is. The route stays on the synchronous path until that
work goes through the AsyncSession or `run_sync`.

Before:

    with session.get_bind().connect() as conn:
        count = conn.execute(text("select count(*) from books")).scalar()

After:

    conn = await session.connection()
    count = (await conn.execute(text("select count(*) from books"))).scalar()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM288",
    name="sync-engine-from-session",
    summary=(
        "the function works on the synchronous Engine behind the Session (`get_bind()`, `.bind`), "
        "which an AsyncSession hands out only for `run_sync`"
    ),
    fix="go through `await session.connection()` or `await session.run_sync(...)`, then rerun phase two",
    doc=__doc__,
)
