"""AM271 session-provider-does-more: the session dependency does more than open, yield and commit its session

The async session dependency phase two generates opens a session, yields it and commits (when
the synchronous one does), nothing else. Whatever else the synchronous dependency does per
request would be lost for every migrated route: `db.info["tenant"] = current_tenant.get()`
read by a `do_orm_execute` filter stops filtering, and tenants see each other's rows; a
parameter (`x_tenant: str = Header()`, `request: Request`) is no longer read. Phase two blocks
the stack and names each such statement and parameter.

The fix is an async stack written by hand, which phase two then reuses. It covers a statement by
repeating it at the same place: before the Session is handed to the route (or after the `yield`),
under the same conditions, loops and handlers. The tenant's schema mapped on the Session's
connection (`session.connection(execution_options={"schema_translate_map": ...})`) after the
`yield`, under `if tenant == "acme":` or in an `except` maps nothing for the route, which then
reads and writes the default schema; the reason names where each runs. A sessionmaker chosen
per request from a module-level dict of them (`maker = SessionLocals.get(x_tenant)`, then
`db = maker()`) is that kind of work: the choice is named, the session it opens is not, and a
hand-written dependency choosing the same way from a dict of async_sessionmakers covers it.
So is a session opened with arguments (`SessionLocal(bind=engine.execution_options(
schema_translate_map={"tenant": current_tenant.get()}))`, `SessionLocal(info=...)`): the
generated dependency opens one without them; a hand-written one passing the same arguments to
its async_sessionmaker (its async engine for the engine) covers it, whether either opens it in a
`with` or assigns it (`db = SessionLocal(bind=...)`, closed in a `finally`). A session opened on the
tenant's engine from a dict of engines (`Session(bind=ENGINES[tenant])`) is covered by one opened
the same way from a dict of async engines (`AsyncSession(bind=ASYNC_ENGINES[tenant])`); which
database each reaches is taken on the configuration's word (`async-dependency`, AM243), but the
`execution_options=` each dict's engines are built with (the schema a tenant maps to) must read
the same. The tenant's engine derived from one engine, schema per tenant, through a function
(`SessionLocal(bind=tenant_engine(tenant))`, `def tenant_engine(t): return
engine.execution_options(schema_translate_map={"tenant": schema_for(t)})`) or a dict of them
(`{t: engine.execution_options(...) for t in TENANTS}`) is covered by an async function or dict
defined the same way on the async engine (the same key, the same options), whose database AM243
compares with the engine's. A bind chosen otherwise (one tenant's schema pinned, another function)
could write a tenant's rows into another's schema: the reason names both binds and what each reads.
A dependency receiving the Session another one opens and setting it up for the request
(`def get_tenant_db(db: Session = Depends(get_db), tenant: str = Depends(get_tenant))`, setting
`db.info["tenant"]` and returning `db`) is read as the opening plus that work, and the work of the
dependency opening it counts too: a hand-written async dependency opening its session and doing
both covers it. A session opened from the sessionmaker an application factory keeps on the
application's state (`db = request.app.state.sessionmaker()` on the `Request` parameter) is the
opening too, covered by a hand-written async dependency the configuration names; which database
each reaches is the configuration's word (AM243). A dependency handing out a `scoped_session`
registry's Session (`session = db_session()`, `return db_session`) opens none of its own when
other code reaches that registry: a middleware committing it after the response, a model mixin's
`save()`, a `query_property()` read. The route's `session.add(obj)` was saved by that commit; on
a Session the async dependency opens beside it, nothing commits it and the write is dropped with
a 201. Phase two blocks the stack naming the registry and where it is reached (a `remove()` or
`close()` alone, which only ends it, does not count).

A dependency entering a `@contextmanager` opener (`with session_scope() as db: yield db`) does
no more than the opener does: one whose body is only the Session's lifecycle, opened from the
sessionmaker (the openers phase two twins), is the opening, and the generated dependency commits
when the opener commits; so is one taking parameters entered with constants
(`create_session(scoped=False)`) when, for them, it only picks a plain sessionmaker (`if scoped:`
on the parameter, `getattr(settings, "NonScopedSession", None)`, a guard raising when that is
None) and runs the lifecycle. An opener doing more, reading a parameter elsewhere, entered with
an argument that is no constant, or picking a `scoped_session` registry is that work.

Before:

    def get_db() -> Iterator[Session]:
        with SessionLocal() as db:
            db.info["tenant"] = current_tenant.get()
            yield db
            db.commit()

After:

    async def get_async_db_session() -> AsyncIterator[AsyncSession]:
        async with async_database_sessionmaker() as session:
            session.info["tenant"] = current_tenant.get()
            yield session
            await session.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM271",
    name="session-provider-does-more",
    summary="the synchronous session dependency does more per request than the generated async one would",
    fix="write the async session dependency by hand with the same statements and parameters (an "
    "`async def` generator yielding an AsyncSession), then run phase two again: it reuses it (beside "
    "another async dependency, name it as `async-dependency`, and its alias as `async-alias`, in a "
    "`--config` for that subsystem); or move that work out of the session dependency",
    doc=__doc__,
)
