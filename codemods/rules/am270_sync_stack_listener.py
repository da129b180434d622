"""AM270 sync-stack-listener: an event listener on the synchronous engine or sessionmaker would not reach the async stack

`event.listen(engine, "connect", ...)` runs on the connections of that one Engine; a listener
on a `sessionmaker` instance runs for the Sessions that factory makes: SQLAlchemy registers it on
the Session subclass the factory made, `SessionLocal.class_` (where some code registers it
directly), as it does one on a `scoped_session` around it. The async engine phase two generates
is another Engine, and an async_sessionmaker runs plain Sessions unless told otherwise: the
listener never runs for a migrated route. A helper registering on its parameter (`def install(maker):
event.listen(maker, ...)`) registers on what each call passes (`install(SessionLocal)`), or on
its default: the call is named. A `PRAGMA foreign_keys=ON` on connect goes missing and orphan rows
are written; a `before_flush` that normalises values stops normalising. Phase two blocks the
stack. Listeners on the `Session` class itself, on `Engine`, and on mapped classes
(`before_insert`) do reach the async stack and are left alone, and so do those on a project
Session subclass given as the sessionmaker's `class_=`: the generated async_sessionmaker keeps
it as `sync_session_class=`, the Session each AsyncSession runs. A generated async_sessionmaker
beside a sessionmaker that has listeners runs the class that sessionmaker makes,
`sync_session_class=SessionLocal.class_` (a subclass of its `class_=`), so those stay too; one
written by hand does when it says so.

A listener on the sessionmakers of a dict the session dependency picks from (`for _maker in
SESSIONMAKERS.values(): event.listen(_maker, "before_flush", stamp)`, `SESSIONMAKERS["acme"]`,
the decorator form) is on each Session class they make: it blocks unless the async
sessionmakers the async dependency picks from run those classes
(`sync_session_class=SESSIONMAKERS[t].class_`); a loop over a display (`for m in (SessionLocal,)`)
is a listener on each element. A listener registered on an expression phase two does not follow
(`event.listen(get_maker(), "before_flush", stamp)`, each element of `for m in get_makers()`,
`ENGINES["main"]`) may be on either, and blocks as unverified unless its event is a mapper's, an
attribute's or a table's.

The fix is an async stack written by hand, which phase two then reuses.

Before:

    engine = create_engine(DATABASE_URL)

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, record):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

After:

    async_engine = create_async_engine(DATABASE_URL.replace("sqlite://", "sqlite+aiosqlite://"))
    event.listen(async_engine.sync_engine, "connect", _foreign_keys)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM270",
    name="sync-stack-listener",
    summary="an event listener on the synchronous engine or sessionmaker would not run for the async stack",
    fix="write the async engine by hand and register the listener on `async_engine.sync_engine` as well "
    "(for a sessionmaker's listener: give the async_sessionmaker `sync_session_class=SessionLocal.class_`, "
    "the class that sessionmaker makes, or register the listener on the `Session` class), then run phase "
    "two again: it reuses that stack",
    doc=__doc__,
)
