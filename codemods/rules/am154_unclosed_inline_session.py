"""AM154 unclosed-inline-session: a Session opened by assignment and not closed on every path blocks phase two

`s = SessionLocal()` with no `s.close()` in the function, or one that an exception or an early
return can skip (after the work, in the `try` body, in an `except` only: anywhere but a
`finally`), works on the synchronous Session: once the request is over the garbage collector
takes the Session and its connection goes back to the pool. Moved as it is
(`s = async_sessionmaker()`), the AsyncSession's connection is not given back that way (the
collector cannot await its release), so after `pool_size + max_overflow` requests every new
one waits for a connection and times out. The
route is blocked until the Session is closed on every path (by hand; then phase two). Closed
by leaving `with s:`, it is blocked too: the `with` would stay synchronous on the AsyncSession.

Before:

    @app.get("/items/{item_id}")
    def read_item(item_id: int):
        s = SessionLocal()
        item = s.get(Item, item_id)
        s.close()  # skipped when get() raises
        return item

After:

    @app.get("/items/{item_id}")
    async def read_item(item_id: int):
        async with async_sessionmaker() as s:
            return await s.get(Item, item_id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM154",
    name="unclosed-inline-session",
    summary="a Session opened by assignment and not closed on every path blocks phase two",
    fix="open it with `with SessionLocal() as s:` (or close it in a `finally`), then rerun phase two",
    doc=__doc__,
)
