"""AM166 recursive-response-model: a response model nests itself through a relationship, read to any depth while serialising

A schema whose field names the schema itself (`children: list[CategoryOut]`, or through another
schema: `NodeOut.links: list[LinkOut]`, `LinkOut.child: NodeOut`) is validated from
the ORM object level by level: serialising it reads the relationship on every object of every
level until one is empty. A `selectinload(...)` added to the query, or `lazy="selectin"`, loads
a fixed number of levels (one, or `join_depth`), so the level below raises MissingGreenlet
under AsyncSession where the synchronous Session loaded it lazily.

Before:

    class CategoryOut(BaseModel):
        children: list["CategoryOut"]

    @router.get("/categories/{id}", response_model=CategoryOut)
    def read(id: int, session: SessionDep):
        return session.get(Category, id)

After:

    @router.get("/categories/{id}", response_model=CategoryOut)
    async def read(id: int, session: AsyncSessionDep):
        stmt = select(Category).where(Category.id == id)
        return (await session.scalars(
            stmt.options(selectinload(Category.children, recursion_depth=-1))
        )).one_or_none()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM166",
    name="recursive-response-model",
    summary="a response model nests itself through a relationship, read to any depth while serialising",
    fix=(
        "load every level in the query: `selectinload(Model.children, recursion_depth=-1)` on a "
        "self-referential relationship (a tree through another class has no such option), or bound "
        "the schema's depth, then migrate the route by hand"
    ),
    doc=__doc__,
)
