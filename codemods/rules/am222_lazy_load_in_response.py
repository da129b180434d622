"""AM222 lazy-load-in-response: a response model field reads a relationship the route's queries do not eager-load

Serializing the response reads the attribute after the route returns, outside any
await: FastAPI reads every field of the response model from the returned ORM objects (it
validates with `from_attributes=True`, whatever the model's own configuration) outside
SQLAlchemy's greenlet context.

For a root that is a route, its response model (`response_model=` of its route decorators; else
its return annotation; `response_model=None` means none) is resolved to project classes, and the
annotated fields of those classes (inherited fields included) are read, recursing into every
project class named in a field's annotation (`list[...]`, `Optional[...]`, `X | None` alike), with
a cycle guard on the path. A field whose name is a lazy relationship name that nothing in the
route's closure eager-loads (what counts as lazy and as eager-loaded: AM220) is reported with its
path (`BookDetailsPayload.book.author`). Where the route's returned objects come from project
functions annotated with mapped classes (`-> list[Warehouse]`), a field name is judged on those
classes only, and a nested one on the classes their relationships lead to, so a fix never names
another class's option.

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
