"""AM302 mixed-session: an `async def` handler on an AsyncSession calls a synchronous session helper

The design record's "mixed patterns": the route awaits its AsyncSession but the helper it
calls still does blocking work on a synchronous one. Also synchronous code handed the
AsyncSession itself, or the AsyncConnection taken from it (`count_rows(await
session.connection())` where `count_rows` runs `connection.execute(...)`), or a plain def
background task (`tasks.add_task(publish_outbox, db)`, `BackgroundTask(publish_outbox, db)`)
run after the response: there the queries are coroutines never awaited. An AsyncSession the
handler opens (`async with maker() as s`, `s = AsyncSession(engine)`) counts as one it is given,
and so does one its instance holds (a fastapi-utils `@cbv` view's `db: AsyncSession =
Depends(...)`, handed on as `self.db`, also through `run_in_threadpool(fetch, self.db, id)`).
The synchronous code may be a helper a `functools.partial` binds the AsyncSession to (`save =
partial(write_post, db)`, called later as `save("b")`), or a method called through an instance: a module-level CRUD object's
(`crud.item.get(db, id)`, whose `db.get(...)` is a coroutine, never None, so a missing row
reads as found), a dependency's (`repo.get(db)`), one a view holds (`self.repo.get(self.db)`),
or a synchronous member an object builds around an async repository (`c.user_service.exists(1)`,
a `ContainerAsync` whose `__init__` builds `UserService(self.users)` from a `UserRepoAsync`).
The same handoff in a project coroutine the handler awaits on its AsyncSession, however deep
(`async def get_multi_async(self, db: AsyncSession)` calling `self.get(db, id=0)`, a plain `def`
running `db.query(...)`), is reported at the handler's call leading there.

So does a method AsyncSession does not have (`db.query(User)`, `bulk_save_objects`) called on
one, in the handler or in an `async def` helper it hands the AsyncSession to: AttributeError when
it runs. An `async_sessionmaker(class_=...)` may make a subclass that has it: not reported there.
So does a plain `with` on an AsyncSession or on a transaction it begins (`with db.begin():`,
`with db.begin_nested():`, left from the synchronous code): neither has `__enter__`, so the
statement raises TypeError before its block runs; it takes `async with`. So does a plain `for`,
a comprehension or `list()` over what `await session.stream(q)` or `stream_scalars(q)` gives
(`for row in await db.stream(q):`, a name holding it, `result.scalars()`): an AsyncResult has
`__aiter__` only, so the iteration raises TypeError; it takes `async for`. So does a statement
streaming rows from a server-side cursor (`execution_options(yield_per=...)`, `stream_results`),
written in the call or held in a local name (`stmt = select(Post).execution_options(yield_per=100)`),
run through `execute()`, `scalars()` or `scalar()`: AsyncSession refuses it with
AsyncMethodRequired; it takes `stream()` / `stream_scalars()` and `async for`. So does a
connection opened on the Engine an AsyncSession's `get_bind()` gives (`db.get_bind().connect()`,
`.begin()`): that is the synchronous Engine its AsyncEngine wraps, which connects only inside
`run_sync`, so it raises MissingGreenlet on the event loop. So does `async with` entering a
synchronous context manager of an AsyncSession (`async with db.begin(), db.no_autoflush:`, from a
`with` that entered both): `no_autoflush` has no `__aenter__`, so the statement raises TypeError;
it takes a plain `with` inside the `async with`. So does an awaited call of a method AsyncSession
keeps synchronous (`await db.add(user)`, `await db.expire(obj)`, `await db.in_transaction()`): it
returns None (or a bool), so the `await` raises TypeError; it takes the call without `await`.

Before:

    @router.get("/books")
    async def read_books(session: AsyncSessionDep):
        return legacy_count(sync_session)

After:

    @router.get("/books")
    async def read_books(session: AsyncSessionDep):
        return await count(session)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM302",
    name="mixed-session",
    summary="an `async def` handler on an AsyncSession calls a synchronous session helper",
    fix=(
        "migrate the helper to AsyncSession (`async-migrate phase2`), or keep the route on "
        "the synchronous path"
    ),
    doc=__doc__,
)
