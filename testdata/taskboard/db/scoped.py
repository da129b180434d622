"""The request-scoped ``ScopedSession`` the label routes use directly.

Its scope is the current request (a context variable the middleware in
``main.py`` sets), not the thread: a handler sees the same Session whether it
runs on the event loop or in a threadpool worker, and the middleware removes it
when the request ends.
"""

import itertools
from contextvars import ContextVar, Token

from sqlalchemy.orm import scoped_session, sessionmaker

from db.engine import engine

request_scope: ContextVar[int] = ContextVar("request_scope", default=0)
_scope_ids = itertools.count(1)


def enter_request_scope() -> Token[int]:
    return request_scope.set(next(_scope_ids))


ScopedSession = scoped_session(sessionmaker(bind=engine, expire_on_commit=False), scopefunc=request_scope.get)
