"""AM129 lazy-load-on-loop: an `async def` handler lazy-loads a relationship of an object a dependency loaded on a synchronous Session

The handler itself does no Session work, yet reading a relationship that is not loaded
yet (`user.posts`, in its code or while FastAPI serialises its response model) runs a
query on the dependency's synchronous Session: blocking I/O on the event loop. Phase one
converts the handler to `def` when it awaits nothing (FastAPI then runs it, and the
serialisation, in the threadpool); otherwise it stays `async def` with this reason, and
`check` reports it (AM307). Also for any attribute of an object the dependency committed its
Session after loading and did not refresh: every attribute is expired, and reading one
refreshes it on that Session.

Before:

    @router.get("/me/posts")
    async def my_posts(user: User = Depends(get_current_user)):
        return [post.title for post in user.posts]

After:

    @router.get("/me/posts")
    def my_posts(user: User = Depends(get_current_user)):
        return [post.title for post in user.posts]
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM129",
    name="lazy-load-on-loop",
    summary=(
        "an `async def` handler lazy-loads a relationship of an object a dependency loaded on a "
        "synchronous Session: blocking I/O on the event loop"
    ),
    fix=(
        "phase one converts it to `def` when it awaits nothing; otherwise eager-load the relationship "
        "in the dependency's query (`selectinload(...)`) or move the reads to a `def` helper run in the threadpool"
    ),
    doc=__doc__,
)
