"""AM305 unused-pragma: an `# async-migrate: ignore[...]` pragma that silences nothing any more

Like ruff's unused-noqa: the pragma was written for a finding the code no longer has
(phase two moved the route to AsyncSession, the blocking call was taken off the event
loop), or it stands on a function `check` does not judge (a `def` handler). A stale pragma would silence
the next real finding without anyone deciding so; delete it.

Before:

    # async-migrate: ignore[blocking-session] @timed awaits the handler
    @router.get("/similar")
    @timed
    async def similar(session: async_session_dependency):
        return await book_helper.get_similar_books(session)

After:

    @router.get("/similar")
    @timed
    async def similar(session: async_session_dependency):
        return await book_helper.get_similar_books(session)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM305",
    name="unused-pragma",
    summary="an `# async-migrate: ignore[...]` pragma silences no finding: it is stale",
    fix="delete the pragma (phase two drops it from the routes it migrates)",
    doc=__doc__,
)
