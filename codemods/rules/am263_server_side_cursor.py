"""AM263 server-side-cursor: a query streams rows from a server-side cursor

`execution_options(yield_per=N)` or `stream_results=True` (and `Query.yield_per(N)`) fetch rows
in batches from a server-side cursor. `AsyncSession.execute()` and `scalars()` refuse such a
statement (`AsyncMethodRequired`): under asyncio it runs only through `stream()` /
`stream_scalars()`, iterated with `async for`. The options count however they reach the query:
on the statement, given to `execute()` or `connection()` as `execution_options={...}`, or
unpacked from a module-level dict (`**STREAM`); options the analysis cannot read (a parameter,
an imported name) may stream, and block as unverified. A statement a project function
builds so (`session.scalars(build())`, also through the functions it calls) blocks the route
calling that function alike. The tool does not rewrite the loop; the
route is blocked. `yield_per(N)` on a Result the Session call already ran
(`session.scalars(stmt).yield_per(100).partitions()`) only chunks it, as AsyncSession's buffered
Result does: that migrates.

Before:

    for row in session.scalars(select(Row).execution_options(yield_per=100)):
        handle(row)

After:

    async for row in await session.stream_scalars(select(Row).execution_options(yield_per=100)):
        handle(row)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM263",
    name="server-side-cursor",
    summary="a query streams from a server-side cursor (yield_per, stream_results), which AsyncSession runs only "
    "through stream()",
    fix="iterate it with `async for row in await session.stream_scalars(stmt)` (or `stream()`) by hand",
    doc=__doc__,
)
