"""A Session for code that runs outside a request's dependencies (the model tables)."""

from contextlib import contextmanager

from db.engine import get_session

get_db = contextmanager(get_session)
