"""fastapi-sqlalchemy's names the tool knows: the request's Session its middleware opens.

`DBSessionMiddleware` opens a synchronous Session for each HTTP request and keeps it in a
`ContextVar` until the response; `db.session` reads it back (a property of the class's
metaclass), and `with db():` opens one the same way outside a request. A worker thread runs a
`def` route in a copy of the request's context, so there `db.session` is that request's own
Session, as on the event loop: not one the process shares.
"""

from __future__ import annotations

# `db.session`, `DBSession.session`: the Session of the request (or of the `with db():` block).
REQUEST_SESSIONS = frozenset(
    f"fastapi_sqlalchemy.{where}{name}.session"
    for where in ("", "middleware.")
    for name in ("db", "DBSession")
)
# `with db(commit_on_exit=True):` commits the block's Session as it leaves: I/O where the block ends.
SCOPES = frozenset(f"fastapi_sqlalchemy.{where}{name}" for where in ("", "middleware.") for name in ("db", "DBSession"))
COMMIT_ON_EXIT = "commit_on_exit"
# The middleware opening that Session per request: it closes (and may commit) it in `async def dispatch`.
MIDDLEWARES = frozenset({"fastapi_sqlalchemy.DBSessionMiddleware", "fastapi_sqlalchemy.middleware.DBSessionMiddleware"})
