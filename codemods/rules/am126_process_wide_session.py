"""AM126 process-wide-session: the handler uses one Session object the whole process shares

A module global `db = SessionLocal()`, or `self.db = SessionLocal()` on an object the module
creates once, is safe while every route using it is `async def`: they all run on the event
loop thread, one at a time. As `def`, FastAPI runs them in its threadpool, so concurrent
requests use that one Session from several threads at once; a `Session` is not thread-safe,
and requests fail or interleave their transactions. Phase one keeps the handler, and
`--offload-mixed` offloads none of its calls.

Before:

    SessionLocal = sessionmaker(engine)
    db = SessionLocal()

    @app.post("/counter")
    async def bump():
        db.execute(insert(Counter))
        db.commit()

After:

    # a Session per request, by hand; phase one then converts the route

    def get_db():
        with SessionLocal() as db:
            yield db

    @app.post("/counter")
    async def bump(db: Session = Depends(get_db)):
        db.execute(insert(Counter))
        db.commit()

A `scoped_session(SessionLocal)` global scoped to the request (`scopefunc=`) converts as usual;
one scoped to the thread (the default) is AM132.
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM126",
    name="process-wide-session",
    summary="the handler uses one Session object shared by the whole process: as `def` it would be "
    "used from several threadpool threads at once",
    fix="give each request its own Session (a dependency yielding `SessionLocal()`), or make the global "
    "a `scoped_session(SessionLocal, scopefunc=...)` scoped to the request; then run phase one again",
    doc=__doc__,
)
