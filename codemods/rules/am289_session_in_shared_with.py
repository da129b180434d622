"""AM289 session-in-shared-with: a Session is opened in a `with` statement that enters other context managers too

Phase two enters a Session from the async sessionmaker with `async with`, and `async with`
is a property of the whole statement: `with lock, SessionLocal() as s:` would become
`async with lock, ...`, and a `threading.Lock` (any synchronous context manager) has no
`__aenter__` (TypeError on every request). Two Sessions in one statement
(`with SessionLocal() as s, SessionLocal.begin() as t:`) are read as one. The function
stays on the synchronous Session and the reason names the statement; give the Session a
`with` statement of its own and run phase two again. A transaction begun on the Session beside
another context manager (`with db.begin(), db.no_autoflush:`) blocks alike; beside another
transaction (`with db.begin(), db.begin_nested():`), or on the Session the statement opens
(`with Session(engine) as s, s.begin():`), `async with` enters it as well.

Before:

    @router.post("/items")
    async def create(name: str):
        with lock, SessionLocal() as s:
            s.add(Item(name=name))
            s.commit()

After:

    @router.post("/items")
    async def create(name: str):
        with lock:
            async with async_database_sessionmaker() as s:
                s.add(Item(name=name))
                await s.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM289",
    name="session-in-shared-with",
    summary="a Session is opened in a `with` statement that enters other context managers too",
    fix="give the Session a `with` statement of its own (nest the other context managers around it), then rerun "
    "phase two",
    doc=__doc__,
)
