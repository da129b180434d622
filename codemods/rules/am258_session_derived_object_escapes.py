"""AM258 session-derived-object-escapes: a transaction or connection taken from the Session (`begin()`, `begin_nested()`, `connection()`) leaves the function, is used unbound, or has a method the async object lacks

On an AsyncSession, `db.begin_nested()` returns an AsyncSessionTransaction and
`db.connection()` an AsyncConnection, whose `commit()`, `rollback()` and `execute()` are
coroutines. Phase two awaits them where the object is bound to a local name, or called
straight on the Session's call (`await (await db.connection()).execute(...)`); handed to a
call, bound or straight from the Session (`count_rows(db.connection())`, `pd.read_sql(q,
db.connection())`: the callee would get the AsyncConnection where it expects a Connection), rebound,
returned (bound or straight: `def begin(self): return self.session.begin()`, whose callers'
`with repo.begin():` would get a started AsyncSessionTransaction, no synchronous context manager),
used unbound where no `await` can stand (a generator expression, a lambda), or used through
a method the async object does not have
(`SessionTransaction.close()`, `Connection.begin()`), the calls elsewhere would not be
awaited: a savepoint's rollback or a transaction's commit would silently never run. The
route stays on the synchronous path.

Before:

    @router.post("/savepoint")
    async def savepoint(db: Session = Depends(get_db)):
        sp = db.begin_nested()
        undo(sp)
        db.commit()

After:

    @router.post("/savepoint")
    async def savepoint(db: AsyncSession = Depends(get_async_db_session)):
        sp = await db.begin_nested()
        await sp.rollback()
        await db.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM258",
    name="session-derived-object-escapes",
    summary=(
        "a transaction or connection taken from the Session (`begin()`, `begin_nested()`, "
        "`connection()`) leaves the function, is used unbound, or has a method the async object lacks"
    ),
    fix="use the transaction or connection only in the function that took it, through its async "
    "methods (`await sp.rollback()`, `await conn.execute(...)`), then rerun phase two",
    doc=__doc__,
)
