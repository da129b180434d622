"""AM326 reused-stack-other-autoflush: an existing async sessionmaker flushes otherwise than the sync one

Phase two reuses an async stack the project already has (a half-done hand migration: an
`async_sessionmaker` and `get_async_db` beside `SessionLocal` and `get_db`). The URL and the
engine options are not all that the migrated code runs on: `autoflush` decides whether a
query first flushes the objects the request added or changed. The FastAPI tutorial's
`sessionmaker(autoflush=False, ...)` is usually copied to the sync stack and not to the
hand-written async one, whose default autoflushes. Code written for the sync stack that adds
an object and then queries (the user's n-th order counted after `add()`) then reads the
pending object too, and commits another value with a 200; the other way round, a query misses
the pending rows it used to see. Phase two reads `autoflush` as written on both sessionmakers,
their `configure(...)` calls and the session dependencies' opening calls; it follows a
sessionmaker the application keeps on its state (`app.state.sessionmaker =
make_sessionmaker(engine)` in a lifespan, through the factory's `return sessionmaker(...)`), one a
project factory builds at module level, one a module-level instance holds, and a dict of them
picked per tenant. It blocks the routes when the two differ, naming both places. A side it cannot
read (`autoflush=settings.flag`, `**options`, a factory it cannot follow, a dependency opening
its sessions on nothing it reads) is unknown, never the same: that blocks too, naming both sides
and what could not be read.

Before:

    SessionLocal = sessionmaker(bind=engine, autoflush=False)
    AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)  # existing

After:

    SessionLocal = sessionmaker(bind=engine, autoflush=False)
    AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False, autoflush=False)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM326",
    name="reused-stack-other-autoflush",
    summary="an existing async sessionmaker phase two would reuse sets another autoflush than the "
    "sync stack's sessionmaker",
    fix="give the async sessionmaker (or the session dependency's opening call) the synchronous "
    "one's autoflush, and check the routes already on it still behave, or remove the async stack "
    "and let phase two generate one",
    doc=__doc__,
)
