"""AM338 process-wide-async-session: an `async def` handler works on one AsyncSession the whole process shares

An AsyncSession runs one operation at a time and keeps one transaction. One made at import (`db
= SessionLocal()` at module level on an `async_sessionmaker`, `AsyncSession(engine)`), or kept by
an object built at import (`crud = CRUD(SessionLocal())` whose `__init__` stores it as
`self.db`, annotated or not), or opened by the first call of a cached function (`@lru_cache def
get_session(): return AsyncSession(engine)`, `@cache` returning `async_session_factory()`) that
hands every later call the same one (`db = get_session()`, `await get_session().get(...)`), is used
by every request: concurrent requests take turns on the
event loop at each `await`, so their work on it overlaps (InvalidRequestError "concurrent operations are not
permitted"), and one request's commit or rollback ends another's transaction, committing or
discarding its half-done work and expiring the objects it read. `check` reports the handler's
awaited calls on such a Session, and on such an object's methods that commit, roll back or
otherwise work on the Session it holds (at any depth of attributes: `crud.items.save()`).
Unverified where the object's class holds the AsyncSession in an attribute set outside its
`__init__` (`self.session = self.session_factory()` in `__aenter__`): a Session per use on one
shared object, which concurrent requests overwrite, or one for all; never passed.
Silence with `# async-migrate: ignore[AM338] reason`.

Before:

    db = SessionLocal()  # module level

    @router.post("/items")
    async def create(item: ItemIn):
        db.add(Item(**item.model_dump()))
        await db.commit()

After:

    @router.post("/items")
    async def create(item: ItemIn, db: AsyncSession = Depends(get_db)):  # one per request
        db.add(Item(**item.model_dump()))
        await db.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM338",
    name="process-wide-async-session",
    summary="an `async def` handler works on one AsyncSession the whole process shares (made at import, or kept by an object made at import)",
    fix="open an AsyncSession per request (a dependency yielding `async with SessionLocal() as db`) and hand it to what needs it",
    doc=__doc__,
)
