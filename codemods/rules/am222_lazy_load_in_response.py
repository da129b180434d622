"""AM222 lazy-load-in-response: a response model field reads a relationship the route's queries do not eager-load

Serializing the response reads the attribute after the route returns, outside any
await.

Before:

    @router.get("/books/{id}", response_model=BookDetail)  # BookDetail.author
    def read(id: int, session: SessionDep):
        return session.get(Book, id)

After:

    @router.get("/books/{id}", response_model=BookDetail)
    async def read(id: int, session: AsyncSessionDep):
        return await session.get(Book, id, options=[selectinload(Book.author)])
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM222",
    name="lazy-load-in-response",
    summary="a response model field reads a relationship the route's queries do not eager-load",
    fix=(
        "add `selectinload(...)` to the query that loads the returned objects, or declare it "
        "`lazy=\"selectin\"`"
    ),
    doc=__doc__,
)
