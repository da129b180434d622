"""AM250 lazy-load-in-model-code: model code the route runs reads a relationship no query of the route can load

A model `@property` (also `cached_property`, a `hybrid_property`'s python side, a pydantic
`computed_field`), a model method the route calls, or its `__str__` / `__repr__` in an
f-string reads a relationship of the object. When the object comes from a query phase two
rewrites, the tool adds the eager load there (AM246, naming the property): also a dependency's
query, which moves with the route into its async twin (below). When it comes from a dependency
that does not move (one already on an AsyncSession, one returning a cached object), a parameter
nothing analysed passes, or code the tool cannot trace, no option can be added: after phase two
the read would raise MissingGreenlet, so the route is blocked, naming the property and the
relationship. Response model fields named like a property count:
FastAPI reads them from the object when it serialises the response.

Before:

    class Comment(Base):
        author: Mapped[User] = relationship()

        @property
        def author_name(self) -> str:
            return self.author.name

    @router.get("/me/comment")
    def my_comment(comment: Comment = Depends(get_last_comment)):
        return {"by": comment.author_name}

After:

    async def get_last_comment(db: AsyncSession = Depends(get_async_db)) -> Comment:
        stmt = select(Comment).options(selectinload(Comment.author)).order_by(Comment.id.desc())
        return (await db.scalars(stmt)).first()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM250",
    name="lazy-load-in-model-code",
    summary=(
        "a model property, method or __str__ the route runs reads a relationship on an object "
        "phase two cannot add an eager load to"
    ),
    fix=(
        "eager-load the relationship where the object is loaded, or declare it `lazy=\"selectin\"`, "
        "or `await session.refresh(obj, attribute_names=[...])` before the property is read"
    ),
    doc=__doc__,
)
