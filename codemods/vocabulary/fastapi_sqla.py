"""fastapi-sqla's names the tool knows: the Session types a route declares as its parameter's
annotation alone (`session: Session`, an `Annotated` alias carrying its own `Depends`), and
`open_session()`, the context manager opening one outside a request.
"""

from __future__ import annotations

# `def route(session: Session)`: a synchronous Session, one a request.
SESSION_TYPES = frozenset({"fastapi_sqla.Session", "fastapi_sqla.SqlaSession", "fastapi_sqla.sqla.SqlaSession"})
ASYNC_SESSION_TYPES = frozenset({"fastapi_sqla.AsyncSession", "fastapi_sqla.async_sqla.AsyncSession"})
# `with open_session() as session:`: called, a Session (entering it gives that Session).
SESSION_OPENERS = frozenset({"fastapi_sqla.open_session", "fastapi_sqla.sqla.open_session"})
