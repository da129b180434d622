"""AM321 unverified-resolver: a GraphQL resolver reads the context, which the analysis does not follow

The Session usually reaches a resolver through the GraphQL context (`info.context["db"]`,
`info.context.db`), built by the router's context getter. The analysis does not follow values
through it: a resolver reading the context whose Session work it cannot see otherwise (a
Session method called on the context's value, an object from it read) may block the event
loop, on which graphql-core runs every resolver, `def` or not. Not an all-clear; acknowledge
with `# async-migrate: ignore[AM321] reason` once checked.

Before:

    @strawberry.field
    def author(self, info: Info) -> AuthorType:
        return AuthorType.from_model(info.context["repo"].author_of(self.id))

After:

    @strawberry.field
    async def author(self, info: Info) -> AuthorType:
        repo = info.context["repo"]
        return AuthorType.from_model(await run_in_threadpool(repo.author_of, self.id))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM321",
    name="unverified-resolver",
    summary="a GraphQL resolver reads the context, through which the analysis does not follow the Session",
    fix=(
        "check what it does with the context's values on the event loop; offload Session work with "
        "`await run_in_threadpool(...)`, then acknowledge with `# async-migrate: ignore[AM321] reason`"
    ),
    doc=__doc__,
)
