"""The SQLAlchemy vocabulary against the installed SQLAlchemy: a Session method that became a
coroutine on AsyncSession and is missing from `AWAITED_METHODS` would be written un-awaited by
phase two (a coroutine never run: the rows silently stay as they were)."""

from __future__ import annotations

import inspect

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from async_migrate.codemods.vocabulary.sqlalchemy import (
    ASYNC_SESSION_ATTRIBUTES,
    AWAITED_METHODS,
    SESSION_IO_METHODS,
    SYNC_METHODS,
)

# AsyncSession coroutines with no Session method of the same name to migrate from.
_ASYNC_ONLY = {"aclose", "close_all"}  # close_all: a deprecated classmethod, never on an instance


def _public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def _coroutines() -> set[str]:
    return {name for name in _public(AsyncSession) if inspect.iscoroutinefunction(getattr(AsyncSession, name))}


def test_every_asyncsession_coroutine_a_session_has_is_awaited_by_phase_two():
    assert _coroutines() - _ASYNC_ONLY <= AWAITED_METHODS


def test_no_method_awaited_that_asyncsession_runs_synchronously():
    synchronous = _public(AsyncSession) - _coroutines()
    # `exec` is SQLModel's AsyncSession coroutine; plain AsyncSession has none
    assert not (AWAITED_METHODS - {"exec"}) & synchronous
    assert not SYNC_METHODS & _coroutines()


def test_every_awaited_method_is_session_io_for_phase_one():
    assert (AWAITED_METHODS & _public(Session)) - {"run_sync"} <= SESSION_IO_METHODS


def test_every_public_asyncsession_attribute_is_known():
    assert _public(AsyncSession) <= ASYNC_SESSION_ATTRIBUTES


def test_every_asyncconnection_coroutine_a_connection_has_is_awaited_by_phase_two():
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection

    from async_migrate.codemods.vocabulary.sqlalchemy import DERIVED_AWAITED, Derived

    coroutines = {
        name for name in _public(AsyncConnection) if inspect.iscoroutinefunction(getattr(AsyncConnection, name))
    }
    assert coroutines & _public(Connection) <= DERIVED_AWAITED[Derived.CONNECTION]


def test_every_session_method_asyncsession_lacks_is_rewritten_or_blocks():
    # A Session method AsyncSession lacks, left as written, raises AttributeError on every request:
    # phase two runs it through run_sync (UNAVAILABLE_METHODS), rewrites it (`query`) or blocks
    # the route (ABSENT_METHODS). `connection_callable` and `dispatch` are attributes, not calls.
    from async_migrate.codemods.vocabulary.sqlalchemy import ABSENT_METHODS, UNAVAILABLE_METHODS

    lacking = {n for n in _public(Session) - _public(AsyncSession) if callable(getattr(Session, n))} - {"dispatch"}
    assert lacking <= set(UNAVAILABLE_METHODS) | set(ABSENT_METHODS) | {"query"}, lacking
