"""AM245 lazy-load-outside-reach: a relationship is read on an object phase two cannot add an eager load to

The object comes from a dependency (`user: User = Depends(get_current_user)`), from a
parameter no analysed code passes, or from a query outside the functions that migrate:
the query that loads it is not one the tool rewrites, so it cannot add the loader
option, and the read would raise MissingGreenlet under AsyncSession. The reason names
where the object comes from; the fix is by hand, loading the relationship where the
object is loaded.

Before:

    @router.get("/me/posts")
    def my_posts(user: User = Depends(get_current_user), db: Session = Depends(get_db)):
        return [post.title for post in user.posts]

After:

    async def get_current_user(db: AsyncSession = Depends(get_async_db)) -> User:
        return await db.get(User, 1, options=[selectinload(User.posts)])
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM245",
    name="lazy-load-outside-reach",
    summary=(
        "a relationship is read on an object from a dependency, a parameter or a query the tool "
        "does not rewrite: no eager load can be added for it"
    ),
    fix=(
        "eager-load the relationship where the object is loaded (the dependency's query), or "
        "`await session.refresh(obj, attribute_names=[...])` before reading it"
    ),
    doc=__doc__,
)
