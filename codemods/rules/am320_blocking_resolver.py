"""AM320 blocking-resolver: a GraphQL resolver does synchronous Session work on the event loop

graphql-core runs every resolver (Strawberry, Ariadne, Graphene; a DataLoader's load function
too) on the event loop: an `async def` one is awaited there, and a
plain `def` one is called in place (Strawberry, Ariadne and Graphene alike), never in the
threadpool. Its synchronous Session work (a helper taking the Session from `info.context`, a
lazy load on an ORM object the type holds) blocks every request meanwhile. Making it `def`
does not help. Silence with `# async-migrate: ignore[AM320] reason`.

Before:

    @strawberry.field
    def books(self, info: Info) -> list[BookType]:
        return crud.list_books(info.context["db"])

After:

    @strawberry.field
    async def books(self, info: Info) -> list[BookType]:
        return await run_in_threadpool(crud.list_books, info.context["db"])
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM320",
    name="blocking-resolver",
    summary="a GraphQL resolver (`def` or `async def`) does synchronous Session work on the event loop",
    fix=(
        "make it `async def` and `await run_in_threadpool(helper, ...)` for the Session work (with what it "
        "reads of the ORM objects), or use AsyncSession with `await` and eager loads"
    ),
    doc=__doc__,
)
