"""AM318 library-session-middleware: a library middleware ends each request's synchronous Session on the event loop

fastapi-sqlalchemy's `DBSessionMiddleware` is a `BaseHTTPMiddleware` that opens a Session per
request and, after the response, closes it (and with `commit_on_exit=True` flushes and commits
it) in its own `async def dispatch`: on the event loop, for every request. Closing a Session that
used a connection gives it back to the pool with a ROLLBACK; committing runs the flush's
statements and a COMMIT. The code is the library's, so no route's conversion removes it, and the
analysis sees nothing of it in the project: `check` reports the registration instead of passing.
Silence with `# async-migrate: ignore[AM318] reason` on the `add_middleware` line.

Before:

    app.add_middleware(DBSessionMiddleware, db_url=DATABASE_URL, commit_on_exit=True)

    @app.post("/items")
    def create_item(payload: ItemIn):
        db.session.add(Item(**payload.model_dump()))

After:

    def get_db():  # a plain generator: FastAPI runs both halves in the threadpool
        with SessionLocal() as session:
            yield session
            session.commit()

    @app.post("/items")
    def create_item(payload: ItemIn, session: Session = Depends(get_db)):
        session.add(Item(**payload.model_dump()))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM318",
    name="library-session-middleware",
    summary="a library middleware closes or commits each request's synchronous Session on the event loop",
    fix=(
        "give routes their Session from a plain `def` generator dependency (FastAPI runs it in the threadpool) "
        "and drop the middleware, or move to AsyncSession (phase two), or acknowledge it with "
        "`# async-migrate: ignore[AM318] reason` on the registration"
    ),
    doc=__doc__,
)
