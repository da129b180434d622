"""AM144 process-wide-connection: the handler uses one database connection the whole process shares

A connection made once and kept for every request: a module global `conn = sqlite3.connect(...)`
(any DB-API driver's `connect`: psycopg, psycopg2, PyMySQL, MySQLdb, ...), `conn = engine.connect()`
or `engine.raw_connection()`, a cursor of one, a class attribute, `self.conn` that `__init__` opens
on an instance the process keeps, `app.state.conn` set in the lifespan, or what an `@lru_cache`
function returns (called, or given as a dependency). While the routes using
it are `async def`, they use it one at a time on the event loop's thread, the thread that made it.
As `def`, FastAPI runs them in its threadpool: a sqlite3 connection refuses every call from a
thread other than its creator's (`sqlite3.ProgrammingError: SQLite objects created in a thread can
only be used in that same thread`), so every request fails; and with `check_same_thread=False`,
or any other driver, or a SQLAlchemy `Connection`, concurrent requests use the one connection from
several threads at once, which none allows (one transaction for all: statements interleave, one
request commits or rolls back another's work). Phase one keeps the handler, naming the object and
where it is made, as it keeps one on a process-wide Session (AM126); `--offload-mixed` offloads
none of its calls.

Found from the handler down the functions it calls: a method called on such an object, or the
object handed to a call, through a local name or a dependency returning it. A connection opened
per request (`with engine.connect() as conn:` in the route, a dependency yielding one) and an
Engine (its pool hands each thread a connection of its own) are not shared. An imported name the
analysis cannot resolve is not reported here (its Session-like calls are unverified, AM125).

Before:

    _cache = sqlite3.connect("cache.db")

    @router.get("/products/{sku}")
    async def product(sku: str, db: DbSession):
        _cache.execute("insert into hits values (?)", (sku,))
        return db.scalars(select(Product).where(Product.sku == sku)).first()

After:

    def get_cache():  # a connection per request, closed after it
        conn = sqlite3.connect("cache.db")
        try:
            yield conn
        finally:
            conn.close()

    @router.get("/products/{sku}")
    async def product(sku: str, db: DbSession, cache: sqlite3.Connection = Depends(get_cache)):
        cache.execute("insert into hits values (?)", (sku,))
        return db.scalars(select(Product).where(Product.sku == sku)).first()

then phase one converts the route.
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM144",
    name="process-wide-connection",
    summary="the handler uses one database connection (DB-API, SQLAlchemy Connection, or a cursor) the whole "
    "process shares: as `def` it would be used from threadpool threads, several at once",
    fix="open a connection per request (a dependency yielding `engine.connect()` or the driver's `connect()`, "
    "closed after the request), or use an Engine's pool; then run phase one again",
    doc=__doc__,
)
