"""AM157 graphql-resolver: a GraphQL resolver runs on the event loop, `def` or `async def`

Strawberry, Ariadne and Graphene execute a schema through graphql-core, which awaits an
`async def` resolver on the event loop and calls a plain `def` one in place, on the loop too:
no resolver (nor a DataLoader's load function, nor a permission's `has_permission`) runs in
the threadpool. Phase one therefore
never converts one; it leaves every resolver as it is and says whether it blocks the loop
(`check` reports AM320, AM321). A GraphQL router's `context_getter` is a FastAPI dependency
and is judged as one.

Before:

    @strawberry.type
    class Query:
        @strawberry.field
        async def books(self, info: Info) -> list[BookType]:
            return crud.list_books(info.context["db"])

After:

    @strawberry.type
    class Query:
        @strawberry.field  # the Session work off the loop (or AsyncSession, awaited)
        async def books(self, info: Info) -> list[BookType]:
            return await run_in_threadpool(crud.list_books, info.context["db"])
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM157",
    name="graphql-resolver",
    summary="a GraphQL resolver runs on the event loop whether `def` or `async def`; phase one leaves it",
    fix=(
        "move its Session work into a plain def helper and `await run_in_threadpool(helper, ...)` from an "
        "`async def` resolver, or use AsyncSession with `await`"
    ),
    doc=__doc__,
)
