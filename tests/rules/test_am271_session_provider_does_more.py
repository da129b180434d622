"""AM271 session-provider-does-more: a session dependency doing more than open / yield / commit /
rollback / close blocks the stack and names each statement and parameter; the usual shapes do not."""

from __future__ import annotations

from textwrap import dedent

import pytest

ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    session.flush()
"""
HEAD = """
from collections.abc import Iterator
from contextvars import ContextVar

from fastapi import Header
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
tenant: ContextVar[str | None] = ContextVar("tenant", default=None)


"""
DOES_MORE = {
    "statement": """
        def get_db_session() -> Iterator[Session]:
            with database_sessionmaker() as session:
                session.info["tenant"] = tenant.get()
                yield session
                session.commit()
        """,
    "parameter": """
        def get_db_session(x_tenant: str = Header()) -> Iterator[Session]:
            with database_sessionmaker() as session:
                yield session
        """,
    "commit_in_finally": """
        def get_db_session() -> Iterator[Session]:
            session = database_sessionmaker()
            try:
                yield session
            finally:
                session.commit()
                session.close()
        """,
}
USUAL = """
def get_db_session() -> Iterator[Session]:
    \"\"\"One session per request.\"\"\"
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
"""
MARKER = {"statement": "session.info", "parameter": "x_tenant", "commit_in_finally": "session.commit()"}


@pytest.mark.parametrize("kind", sorted(DOES_MORE))
def test_a_dependency_doing_more_blocks_with_am271_naming_each_line(phase2, entry, kind):
    text = dedent(HEAD).lstrip("\n") + dedent(DOES_MORE[kind])
    line = next(n for n, t in enumerate(text.splitlines(), 1) if MARKER[kind] in t)
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    assert f"db/engine.py:{line} " in " ".join(found["reasons"]), found
    assert document["files_changed"] == []


BEGIN = """
def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session, session.begin():
        yield session
"""


@pytest.mark.parametrize("provider", [USUAL, BEGIN], ids=["try_commit_rollback_close", "with_begin"])
def test_near_miss_open_yield_commit_rollback_close_does_not_block(phase2, entry, provider):
    found = entry(phase2(ROUTE, {"db/engine.py": dedent(HEAD) + dedent(provider)}), "create_book")
    assert found["action"] == "migrate" and "AM271" not in found["codes"], found


# `get_db_session = SessionDependency(database_sessionmaker)`: FastAPI calls the instance, whose
# `__call__` opens the Session on the maker the instance holds.
CALLABLE = """
class SessionDependency:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def __call__(self) -> Iterator[Session]:
        session = self.factory()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()


get_db_session = SessionDependency(database_sessionmaker)
"""
HAND_WRITTEN = """

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite://")
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
        await session.commit()
"""


def test_a_callable_instance_opening_on_the_maker_it_holds_names_that_opening(phase2, entry):
    text = dedent(HEAD).lstrip("\n") + dedent(CALLABLE)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "session = self.factory()" in t)
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    reasons = " ".join(found["reasons"])
    assert "the session dependency `SessionDependency.__call__` is the `__call__` of an instance FastAPI calls, " \
        f"and opens its Session through `self.factory()` (db/engine.py:{line})" in reasons, reasons
    assert "parameter `self`" not in reasons and "does more per request" not in reasons, reasons


# `Depends(container.session)`: a container instance holding the maker, its bound method the dependency.
CONTAINER = """
class Container:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def session(self) -> Iterator[Session]:
        with self.factory() as session:
            yield session


container = Container(database_sessionmaker)
"""
BOUND_ALIAS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import container

session_dependency = Annotated[Session, Depends(container.session)]
"""


def test_a_bound_method_opening_on_the_maker_its_instance_holds_names_that_opening(phase2, entry):
    text = dedent(HEAD).lstrip("\n") + dedent(CONTAINER)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "with self.factory() as session" in t)
    found = entry(phase2(ROUTE, {"db/engine.py": text, "core/dependencies.py": BOUND_ALIAS}), "create_book")
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    reasons = " ".join(found["reasons"])
    assert "the session dependency `Container.session` is a method of an instance, which FastAPI calls bound, " \
        f"and opens its Session through `self.factory()` (db/engine.py:{line})" in reasons, reasons
    assert "parameter `self`" not in reasons and "does more per request" not in reasons, reasons


def test_near_miss_a_hand_written_async_dependency_covers_the_callable_instance(phase2, entry):
    text = dedent(HEAD).lstrip("\n") + dedent(CALLABLE) + dedent(HAND_WRITTEN)
    found = entry(phase2(ROUTE, {"db/engine.py": text}), "create_book")
    assert found["action"] == "migrate" and "AM271" not in found["codes"], found


def test_a_callable_instance_handing_out_something_else_than_its_held_call_lists_what_it_does(phase2, entry):
    """`audit = self.audit()` is no Session the dependency hands out: still a statement of its own."""
    text = dedent(HEAD).lstrip("\n") + dedent(CALLABLE).replace(
        "        session = self.factory()\n", "        audit = self.factory()\n        session = database_sessionmaker()\n"
    )
    found = entry(phase2(ROUTE, {"db/engine.py": text}), "create_book")
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    assert "does more per request than open, yield and commit its session" in " ".join(found["reasons"])
    assert "`audit = self.factory()`" in " ".join(found["reasons"])


REUSED = """

async_engine = create_async_engine("sqlite+aiosqlite://")
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""


def test_beside_a_reused_async_dependency_the_fix_names_the_configuration_keys(phase2, entry):
    # a second async dependency written by hand is not the one reused: rerunning alone changes nothing
    head = dedent(HEAD).lstrip("\n").replace(
        "from collections.abc import Iterator\n", "from collections.abc import AsyncIterator, Iterator\n"
    ).replace(
        "from sqlalchemy.orm import Session, sessionmaker\n",
        "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine\n"
        "from sqlalchemy.orm import Session, sessionmaker\n",
    )
    text = head + dedent(DOES_MORE["parameter"]) + dedent(REUSED)
    found = entry(phase2(ROUTE, {"db/engine.py": text}), "create_book")
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM271")]
    assert "reused async dependency `get_async_db_session`" in reason, reason
    assert "`async-dependency`" in reason and "`async-alias`" in reason and "(it reuses it)" not in reason, reason


# The session dependency hands out what a middleware keeps in a ContextVar for each request.
CONTEXT_HELD = """
request_session: ContextVar[Session] = ContextVar("request_session")


def get_db_session() -> Session:
    return request_session.get()
"""
SETS_IT = """
from db.engine import database_sessionmaker, request_session


class SessionMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        with database_sessionmaker() as session:
            token = request_session.set(session)
            try:
                await self.app(scope, receive, send)
            finally:
                request_session.reset(token)
"""


def test_a_dependency_handing_out_the_context_variable_session_names_the_variable(phase2, entry):
    files = {"db/engine.py": dedent(HEAD) + dedent(CONTEXT_HELD), "db/middleware.py": dedent(SETS_IT)}
    document = phase2(ROUTE, files)
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    reason = " ".join(found["reasons"])
    assert "hands out the Session the context variable `request_session` holds for each request" in reason, found
    assert "(set at db/middleware.py:10)" in reason and "would open a second Session beside it" in reason, found
    assert document["files_changed"] == []


# The session dependency hands out a `scoped_session` registry's Session (`db = db_session()`),
# which a middleware commits after the response and a model mixin's `save()` reaches too: the
# route's `session.add(...)` is saved by that commit. The async dependency would open a second
# Session nothing commits, and the write would be dropped with a 201.
REGISTRY_ENGINE = """
from collections.abc import Iterator
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

engine = create_engine("sqlite://")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
request_scope: ContextVar[str] = ContextVar("request_scope", default="-")
db_session = scoped_session(database_sessionmaker, scopefunc=request_scope.get)


def get_db_session() -> Iterator[Session]:
    session = db_session()
    try:
        yield session
    finally:
        db_session.remove()
"""
REGISTRY_COMMITTED = """
from uuid import uuid4

from fastapi import FastAPI, Request

from db.engine import db_session, request_scope

app = FastAPI()


@app.middleware("http")
async def commit_after(request: Request, call_next):
    token = request_scope.set(uuid4().hex)
    try:
        response = await call_next(request)
        if response.status_code < 400:
            db_session.commit()
        return response
    finally:
        db_session.remove()
        request_scope.reset(token)
"""
REGISTRY_REMOVED_ONLY = REGISTRY_COMMITTED.replace(
    "        if response.status_code < 400:\n            db_session.commit()\n", ""
)
REGISTRY_SAVED = """
from db.engine import db_session


class ActiveRecord:
    def save(self):
        db_session.add(self)
        db_session.commit()
        return self
"""
REGISTRY_ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    return {"ok": True}
"""


@pytest.mark.parametrize("reached", ["middleware_commit", "model_save"])
def test_a_dependency_handing_out_a_shared_registry_session_blocks_naming_where_it_is_reached(
    phase2, entry, reached
):
    files = {"db/engine.py": dedent(REGISTRY_ENGINE)}
    if reached == "middleware_commit":
        files["main.py"] = dedent(REGISTRY_COMMITTED)
        where = "main.py:16 `db_session.commit()`"
    else:
        files["active.py"] = dedent(REGISTRY_SAVED)
        where = "active.py:6 `db_session.add()`, active.py:7 `db_session.commit()`"
    document = phase2(REGISTRY_ROUTE, files)
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    reason = " ".join(found["reasons"])
    assert "hands out the Session of the `scoped_session` `db_session` (db/engine.py:10)" in reason, found
    assert f"through the registry ({where})" in reason and "would open a second Session beside it" in reason, found
    assert document["files_changed"] == []


def test_near_miss_a_registry_only_the_dependency_and_a_remove_reach_migrates(phase2, entry):
    files = {"db/engine.py": dedent(REGISTRY_ENGINE), "main.py": dedent(REGISTRY_REMOVED_ONLY)}
    found = entry(phase2(ROUTE, files), "create_book")
    assert found["action"] == "migrate" and "AM271" not in found["codes"], found
