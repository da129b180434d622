"""AM142 in-memory-sqlite-per-thread: the handler's Session is on an in-memory SQLite database kept per thread

`create_engine("sqlite://")` (or `"sqlite:///:memory:"`, a `URL.create("sqlite")`) without
`poolclass=StaticPool` gets SQLAlchemy's SingletonThreadPool: one connection per thread, and an
in-memory database lives in its connection, so every thread has a database of its own. While
the routes are `async def` they all run on the event loop's thread and share its database: the
tables the lifespan created, the rows earlier requests wrote. As `def`, FastAPI runs each request
in a worker thread of the threadpool, which opens an empty database of its own ("no such table",
rows written by one request missing in the next); offloading the Session work moves it there
just the same. A handler doing Session work on a Session from such an engine (through its
sessionmaker, `scoped_session`, `configure(bind=...)`, or `Session(engine)`), itself, in a
dependency or in a helper, stays `async def`; so does one on the engine a project class's
`__init__` builds from the URL it is handed (`db = Database("sqlite://")` at module level, with
`self.engine = create_engine(url)`). A URL the analysis cannot read (the environment, a settings
object), StaticPool, or a database file convert as before.

Before:

    engine = create_engine("sqlite://", connect_args={"check_same_thread": False})
    SessionLocal = sessionmaker(bind=engine)

    @app.get("/items")
    async def items(db: Session = Depends(get_db)):
        return db.scalars(select(Item)).all()

After:

    @app.get("/items")
    async def items(db: Session = Depends(get_db)):  # kept: as `def` it would see a worker thread's empty database
        return db.scalars(select(Item)).all()

    # with one connection every thread shares, it converts:
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)

    @app.get("/items")
    def items(db: Session = Depends(get_db)):
        return db.scalars(select(Item)).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM142",
    name="in-memory-sqlite-per-thread",
    summary="an `async def` handler's Session is on an in-memory SQLite database SQLAlchemy keeps per thread, "
    "which a `def` in a worker thread would see empty",
    fix="create the engine with `poolclass=StaticPool` (and `connect_args={\"check_same_thread\": False}`) or "
    "use a database file, then rerun phase one",
    doc=__doc__,
)
