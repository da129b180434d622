"""AM264 session-from-request-state: the routes' session dependency returns the Session a middleware opened

`def get_db(request: Request): return request.state.db`, with a middleware doing
`request.state.db = SessionLocal()` before `call_next` and closing it after. The Session is
opened per request outside any dependency, so a generated async dependency would open a second
one beside it: a migrated request would hold two Sessions, two transactions and possibly two
connections, and code that reads the request's Session another way (a context variable set
from `request.state.db`, the middleware's own close or commit) would work on the synchronous one.
Phase two keeps the routes reaching that dependency synchronous instead (a route reaching it
beside a dependency opening its own Session too); the routes of the subsystem that reach none
move.

Before:

    @app.middleware("http")
    async def db_session_middleware(request, call_next):
        request.state.db = SessionLocal()
        try:
            return await call_next(request)
        finally:
            request.state.db.close()

    def get_db(request: Request) -> Session:
        return request.state.db

After:

    # the Session opened by the dependency FastAPI runs for the routes that need it
    def get_db():
        with SessionLocal() as db:
            yield db
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM264",
    name="session-from-request-state",
    summary="the session dependency returns the Session a middleware opened on `request.state`",
    fix="open the AsyncSession where the Session is opened (the middleware) with an async dependency "
    "returning it, or have a dependency open and yield the Session instead of the middleware",
    doc=__doc__,
)
