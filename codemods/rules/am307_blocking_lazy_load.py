"""AM307 blocking-lazy-load: an `async def` handler lazy-loads a relationship on a synchronous Session

The object comes from a dependency that loaded it on a synchronous Session; reading a
relationship that is not loaded yet (in the handler's code, its helpers, or while FastAPI
serialises its response model on the event loop) runs a blocking query there, as does the
first read of a deferred column (`mapped_column(deferred=True)`) no query undefers. The
handler does no Session work of its own, so AM301 does not see it. The same holds for any
attribute, columns included, of an object the dependency committed its Session after loading
(`expire_on_commit`): expired, the first read refreshes it; also when the commit is a holder's,
down the calls the dependency returns from (`return manager.user_for_token(token)`, the user
adapter behind it committing `self.session`), the fastapi-users chain.

Before:

    @router.get("/me/posts")
    async def my_posts(user: User = Depends(get_current_user)):
        await audit("posts")
        return [post.title for post in user.posts]

After:

    def get_current_user(db: Session = Depends(get_db)) -> User:
        return db.get(User, 1, options=[selectinload(User.posts)])
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM307",
    name="blocking-lazy-load",
    summary=(
        "an `async def` handler lazy-loads a relationship of an object a dependency loaded on a "
        "synchronous Session: blocking I/O on the event loop"
    ),
    fix=(
        "eager-load the relationship in the dependency's query, make the handler `def` (phase one does "
        "when it awaits nothing), or read the relationship in a `def` helper run in the threadpool"
    ),
    doc=__doc__,
)
