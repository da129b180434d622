"""AM139 used-as-value: the handler is handed on or stored as a value, where what receives it may await it, iterate it or wrap it

An `async def` dependency or route named anywhere but in a call or in the places FastAPI
takes a function itself (`Depends(f)`, a registered endpoint or hook, a dependency
override) may be used as what it is: a coroutine function, or an async generator function.
`asynccontextmanager(get_session)` wraps an async generator, a task runner awaits what it is
handed, a table of callbacks is called and awaited elsewhere. As a plain `def` each of those
fails at run time (`'generator' object is not an async iterator`). The analysis cannot see
what the receiver does with it, so the handler stays async.

Before:

    async def get_session():
        with Session(engine) as session:
            yield session

    get_session_ctx = asynccontextmanager(get_session)

After:

    async def get_session():  # unchanged: asynccontextmanager needs an async generator
        with Session(engine) as session:
            yield session

    get_session_ctx = asynccontextmanager(get_session)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM139",
    name="used-as-value",
    summary=(
        "the handler is handed on or stored as a value, where what receives it may await it, iterate it or "
        "wrap it"
    ),
    fix=(
        "give the other code a plain function of its own (or wrap a `def` with contextmanager), then rerun "
        "phase one"
    ),
    doc=__doc__,
)
