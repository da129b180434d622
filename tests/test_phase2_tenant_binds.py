"""A schema-per-tenant stack: the session dependency binds each request's Session to the tenant's
engine, `engine.execution_options(schema_translate_map=...)`, chosen through a function
(`SessionLocal(bind=tenant_engine(tenant))`) or a dict built per tenant (`Session(bind=
engines[tenant])`), and the async dependency written beside it, named as `async-dependency`,
chooses the same way on the async engine. Phase two reuses it when both choices read the same (the
same key, the same options, on engines of one database), and names the binds when they do not: a
dependency pinning one tenant's schema, or deriving from another database's engine, would answer
200 with every tenant's rows in one place. The accepted shapes are RUN on SQLite, PostgreSQL and
MariaDB, and each tenant's rows land in its own schema."""

from __future__ import annotations

from textwrap import dedent

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import SUBSYSTEM, service

__all__ = ["service"]  # the fixture, used by name

ENGINE = """
import os
from collections.abc import AsyncIterator, Iterator

from fastapi import Header
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

TENANTS = ("acme", "globex")
URL = os.environ["DATABASE_URL"]
engine = create_engine(URL)
_ASYNC = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg", "mysql": "mysql+aiomysql"}
async_engine = create_async_engine(engine.url.set(drivername=_ASYNC[engine.dialect.name]))
# a MariaDB schema is a database: named after the scratch one, so that each run has its own
PREFIX = "t_" if engine.dialect.name == "sqlite" else f"{engine.url.database}_"

if engine.dialect.name == "sqlite":

    def _attach(dbapi_conn, _record):
        base = os.path.dirname(engine.url.database)
        for t in TENANTS:
            dbapi_conn.cursor().execute(f"ATTACH DATABASE '{os.path.join(base, PREFIX + t)}.db' AS {PREFIX}{t}")

    event.listen(engine, "connect", _attach)
    event.listen(async_engine.sync_engine, "connect", _attach)

database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


def schema_for(tenant: str) -> str:
    return f"{PREFIX}{tenant}"


def tenant_engine(tenant: str):
    return engine.execution_options(schema_translate_map={"tenant": schema_for(tenant)})


def async_tenant_engine(tenant: str):
    return async_engine.execution_options(schema_translate_map={"tenant": schema_for(tenant)})


def get_db_session(x_tenant: str = Header()) -> Iterator[Session]:
    with database_sessionmaker(bind=tenant_engine(x_tenant)) as session:
        yield session


async def get_async_tenant_db(x_tenant: str = Header()) -> AsyncIterator[AsyncSession]:
    async with AsyncSessionLocal(bind=async_tenant_engine(x_tenant)) as session:
        yield session
"""
# the tenant's engine out of a dict built per tenant, on a Session class
ENGINES = """
engines = {t: engine.execution_options(schema_translate_map={"tenant": schema_for(t)}) for t in TENANTS}
async_engines = {
    t: async_engine.execution_options(schema_translate_map={"tenant": schema_for(t)})
    for t in TENANTS
}
"""
DICT_ENGINE = (
    dedent(ENGINE)
    .replace("\n\ndef get_db_session", dedent(ENGINES) + "\n\ndef get_db_session")
    .replace(
        "with database_sessionmaker(bind=tenant_engine(x_tenant)) as session:",
        "with Session(bind=engines[x_tenant], expire_on_commit=False) as session:",
    )
    .replace(
        "async with AsyncSessionLocal(bind=async_tenant_engine(x_tenant)) as session:",
        "async with AsyncSession(bind=async_engines[x_tenant], expire_on_commit=False) as session:",
    )
)
# an engine per tenant, each built by `create_engine`, beside the module-level stack it never uses
PER_TENANT = """
engines = {
    t: create_engine(URL, execution_options={"schema_translate_map": {"tenant": schema_for(t)}}) for t in TENANTS
}
async_engines = {
    t: create_async_engine(async_engine.url, execution_options={"schema_translate_map": {"tenant": schema_for(t)}})
    for t in TENANTS
}
"""
# each engine attaches the tenants' SQLite files: a listener on the Engine class reaches them all
PER_TENANT_ENGINE = (
    DICT_ENGINE.replace(dedent(ENGINES), dedent(PER_TENANT))
    .replace(
        '    event.listen(engine, "connect", _attach)\n    event.listen(async_engine.sync_engine, "connect", _attach)\n',
        '    event.listen(Engine, "connect", _attach)\n',
    )
    .replace("from sqlalchemy import create_engine, event", "from sqlalchemy import Engine, create_engine, event")
)
MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = {"schema": "tenant"}

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(40))
"""
ROUTES = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Note

router = APIRouter()


@router.post("/notes")
def add_note(text: str, db: Session = Depends(get_db_session)):
    note = Note(text=text)
    db.add(note)
    db.commit()
    return {"id": note.id, "text": note.text}
"""
CONFIG = '[tool.async-migrate]\nasync-dependency = "get_async_tenant_db"\n'
WRITES = """
import json

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import db.engine as stack
from main import app
from models import Base, Note

dialect = stack.engine.dialect.name
if dialect != "sqlite":
    with stack.engine.begin() as conn:
        for t in stack.TENANTS:
            word = "SCHEMA" if dialect == "postgresql" else "DATABASE"
            conn.execute(text(f"CREATE {word} {stack.schema_for(t)}"))
try:
    for t in stack.TENANTS:
        Base.metadata.create_all(stack.tenant_engine(t))
    with TestClient(app) as client:
        first = client.post("/notes", params={"text": "pen"}, headers={"x-tenant": "acme"})
        second = client.post("/notes", params={"text": "cup"}, headers={"x-tenant": "globex"})
        for bind in [stack.async_engine, *getattr(stack, "async_engines", {}).values()]:
            client.portal.call(bind.dispose)
    found = {}
    for t in stack.TENANTS:
        with Session(bind=stack.tenant_engine(t)) as s:
            found[t] = list(s.scalars(select(Note.text)).all())
finally:
    if dialect == "mysql":
        with stack.engine.begin() as conn:
            for t in stack.TENANTS:
                conn.execute(text(f"DROP DATABASE IF EXISTS {stack.schema_for(t)}"))
    for bind in [stack.engine, *getattr(stack, "engines", {}).values()]:
        bind.dispose()
print(json.dumps([first.status_code, second.status_code, found]))
"""
EXPECTED = [200, 200, {"acme": ["pen"], "globex": ["cup"]}]


def _service(service, engine: str):  # type: ignore[no-untyped-def]
    return service({"db/engine.py": engine, "models.py": MODELS, SUBSYSTEM: dedent(ROUTES), "pyproject.toml": CONFIG})


def _migrated(cli, root) -> None:  # type: ignore[no-untyped-def]
    document = apply(cli, root)
    found = handler(document, "add_note")
    assert found["action"] == "migrate", (found, document["subsystem"]["global_blockers"])
    routes = read(root, SUBSYSTEM)
    assert "async def add_note" in routes and "Depends(get_async_tenant_db)" in routes, routes
    assert "get_async_db_session" not in read(root, "db/engine.py")  # the hand-written stack is reused


@pytest.mark.parametrize("kind", KINDS)
def test_an_async_dependency_binding_the_async_twin_of_the_tenant_engine_is_reused(cli, service, kind):
    # `SessionLocal(bind=tenant_engine(t))` beside `AsyncSessionLocal(bind=async_tenant_engine(t))`,
    # each function deriving the tenant's engine the same way: AM271 before
    root = _service(service, dedent(ENGINE))
    _migrated(cli, root)
    assert run_app(root, kind, WRITES) == EXPECTED


@pytest.mark.parametrize("kind", KINDS)
def test_a_dict_of_engines_derived_by_execution_options_is_read_as_the_same_choice(cli, service, kind):
    # `engines = {t: engine.execution_options(...)}`, the usual schema-per-tenant idiom: AM271 before
    root = _service(service, DICT_ENGINE)
    _migrated(cli, root)
    assert run_app(root, kind, WRITES) == EXPECTED


@pytest.mark.parametrize("kind", KINDS)
def test_an_engine_per_tenant_beside_a_module_level_stack_is_the_configurations_word(cli, service, kind):
    # AM243 before, naming the module-level `engine`, which the dependency never uses
    root = _service(service, PER_TENANT_ENGINE)
    _migrated(cli, root)
    assert run_app(root, kind, WRITES) == EXPECTED


def _blocked(cli, root, code: str) -> str:  # type: ignore[no-untyped-def]
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "add_note")
    assert found["action"] == "blocked" and code in found["codes"], found
    assert read(root, SUBSYSTEM) == before
    return str(found["reasons"][found["codes"].index(code)])


def test_near_miss_an_async_function_pinning_one_tenants_schema_names_both_binds(cli, service):
    pinned = dedent(ENGINE).replace(
        'return async_engine.execution_options(schema_translate_map={"tenant": schema_for(tenant)})',
        'return async_engine.execution_options(schema_translate_map={"tenant": schema_for("acme")})',
    )
    reason = _blocked(cli, _service(service, pinned), "AM271")
    assert "the Session is bound differently" in reason, reason
    assert "`get_db_session` opens it with `bind=tenant_engine(x_tenant)` (db/engine.py:" in reason, reason
    assert "`get_async_tenant_db` with `bind=async_tenant_engine(x_tenant)` (db/engine.py:" in reason, reason
    assert 'schema_for("acme")' in reason and "another tenant's schema" in reason, reason


def test_near_miss_an_async_dict_of_engines_without_the_schema_map_blocks(cli, service):
    # every tenant's async engine on the default schema
    dropped = PER_TENANT_ENGINE.replace(
        'create_async_engine(async_engine.url, execution_options={"schema_translate_map": {"tenant": schema_for(t)}})',
        "create_async_engine(async_engine.url)",
    )
    reason = _blocked(cli, _service(service, dropped), "AM271")
    assert "`bind=engines[x_tenant]`" in reason and "`bind=async_engines[x_tenant]`" in reason, reason


def test_near_miss_an_async_dict_derived_from_another_databases_engine_blocks(cli, service):
    other = DICT_ENGINE.replace(
        "AsyncSessionLocal = async_sessionmaker",
        'other_async_engine = create_async_engine("sqlite+aiosqlite:///other.db")\nAsyncSessionLocal = async_sessionmaker',
    ).replace(
        '    t: async_engine.execution_options(schema_translate_map={"tenant": schema_for(t)})',
        '    t: other_async_engine.execution_options(schema_translate_map={"tenant": schema_for(t)})',
    )
    assert "other_async_engine.execution_options" in other
    reason = _blocked(cli, _service(service, other), "AM243")
    assert "other.db" in reason, reason


def test_near_miss_an_async_dependency_pinning_one_key_of_the_dict_still_blocks(cli, service):
    # the same dict, another key: blocked before as after
    pinned = DICT_ENGINE.replace("AsyncSession(bind=async_engines[x_tenant]", 'AsyncSession(bind=async_engines["acme"]')
    reason = _blocked(cli, _service(service, pinned), "AM271")
    assert "`with Session(bind=engines[x_tenant], expire_on_commit=False) as session:`" in reason, reason


def test_near_miss_an_async_dict_changed_in_place_is_not_read_as_built(cli, service):
    # what the comprehension builds is not all the dict holds: one tenant rebound to another's engine
    changed = DICT_ENGINE.replace(
        "\n\ndef get_db_session",
        '\n\ndef share_engines():\n    async_engines["acme"] = async_engines["globex"]\n\n\ndef get_db_session',
    )
    assert "def share_engines" in changed
    reason = _blocked(cli, _service(service, changed), "AM271")
    assert "`bind=async_engines[x_tenant]`" in reason, reason


# The tenant's schema mapped on the Session's connection for its transaction, not on its bind: the
# async dependency must map it at the same place, before the Session is handed to the route.
CONNECTION_MAP = '{"schema_translate_map": {"tenant": schema_for(x_tenant)}}'
MAPPED_CONNECTION = (
    dedent(ENGINE)
    .replace(
        "    with database_sessionmaker(bind=tenant_engine(x_tenant)) as session:\n",
        "    with database_sessionmaker() as session:\n"
        f"        session.connection(execution_options={CONNECTION_MAP})\n",
    )
    .replace(
        "    async with AsyncSessionLocal(bind=async_tenant_engine(x_tenant)) as session:\n",
        "    async with AsyncSessionLocal() as session:\n"
        f"        await session.connection(execution_options={CONNECTION_MAP})\n",
    )
)


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_an_async_dependency_mapping_the_connection_before_the_yield_is_reused(cli, service, kind):
    assert MAPPED_CONNECTION.count("session.connection(") == 2
    root = _service(service, MAPPED_CONNECTION)
    _migrated(cli, root)
    assert run_app(root, kind, WRITES) == EXPECTED


MAPPING = f"        await session.connection(execution_options={CONNECTION_MAP})\n"
MOVED = {
    # the route's work runs unmapped: in the default schema, or none
    "after the yield": ("        yield session\n" + MAPPING, "after the `yield`"),
    # every other tenant's rows land in the default schema
    "for one tenant": ('        if x_tenant == "acme":\n    ' + MAPPING + "        yield session\n",
                       "under `if x_tenant == 'acme'`"),
    # only once the route failed
    "in a handler": (
        "        try:\n            yield session\n        except Exception:\n    " + MAPPING + "            raise\n",
        "after the `yield`, under `except Exception`",
    ),
}


@pytest.mark.parametrize("moved", MOVED)
def test_an_async_dependency_repeating_the_mapping_at_another_place_blocks(cli, service, moved):
    # each was reused before, the statement being found somewhere in the async dependency
    body, where = MOVED[moved]
    engine = MAPPED_CONNECTION.replace(MAPPING + "        yield session\n", body)
    assert engine != MAPPED_CONNECTION
    reason = _blocked(cli, _service(service, engine), "AM271")
    assert "which `get_async_tenant_db` repeats at db/engine.py:" in reason, reason
    assert f"but {where}, where this one runs before the Session is handed out" in reason, reason
    assert "at the same place (before or after the `yield`, under the same conditions" in reason, reason


# The tenant's Session opened by assignment, closed in a `finally`, beside the async dependency's
# `async with`: the same opening, written the other way.
ASSIGNED = dedent(ENGINE).replace(
    "    with database_sessionmaker(bind=tenant_engine(x_tenant)) as session:\n        yield session\n",
    "    session = database_sessionmaker(bind=tenant_engine(x_tenant))\n"
    "    try:\n        yield session\n    finally:\n        session.close()\n",
)


@pytest.mark.parametrize("kind", KINDS)
def test_an_opening_by_assignment_is_covered_by_the_same_opening_in_an_async_with(cli, service, kind):
    # AM271 before: `session = database_sessionmaker(bind=...)` was looked for as a statement
    assert "session = database_sessionmaker(bind=tenant_engine(x_tenant))" in ASSIGNED
    root = _service(service, ASSIGNED)
    _migrated(cli, root)
    assert run_app(root, kind, WRITES) == EXPECTED


def test_near_miss_an_async_with_pinning_one_tenant_beside_an_opening_by_assignment_blocks(cli, service):
    pinned = ASSIGNED.replace("AsyncSessionLocal(bind=async_tenant_engine(x_tenant))", 'AsyncSessionLocal(bind=async_tenant_engine("acme"))')
    assert pinned != ASSIGNED
    reason = _blocked(cli, _service(service, pinned), "AM271")
    assert "`session = database_sessionmaker(bind=tenant_engine(x_tenant))`" in reason, reason
    assert "the Session is bound differently" in reason, reason


def test_near_miss_an_async_with_opening_the_tenants_session_under_a_condition_blocks(cli, service):
    # the opening repeated, but only for one tenant: the others' requests get the default schema
    moved = ASSIGNED.replace(
        "    async with AsyncSessionLocal(bind=async_tenant_engine(x_tenant)) as session:\n        yield session\n",
        '    if x_tenant == "acme":\n'
        "        async with AsyncSessionLocal(bind=async_tenant_engine(x_tenant)) as session:\n"
        "            yield session\n"
        "    else:\n"
        "        async with AsyncSessionLocal() as session:\n"
        "            yield session\n",
    )
    assert moved != ASSIGNED
    reason = _blocked(cli, _service(service, moved), "AM271")
    assert "under `if x_tenant == 'acme'`" in reason, reason
