"""A multi-tenant stack: the session dependency opens `sessionmakers[tenant]()` out of a dict built
per tenant, so no module-level sessionmaker or engine says which database a request reaches. An
async stack written by hand beside it is reused only when the configuration names it as the async
session dependency (AM243 otherwise): one that opens a fixed tenant's database answered 200 with
every tenant's writes landing there. The configured case is RUN with TestClient and each
tenant's rows land in its own database; whether its sessions expire on commit is read from the
dict's sessionmakers."""

from __future__ import annotations

from textwrap import dedent

from test_phase2_rules import apply, handler, read
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ENGINE = """
import os
from collections.abc import AsyncIterator, Iterator

from fastapi import Header
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

URLS = {"a": os.environ["DATABASE_URL"], "b": os.environ["DATABASE_URL"] + "-b"}
engines = {tenant: create_engine(url) for tenant, url in URLS.items()}
sessionmakers = {tenant: sessionmaker(bind, expire_on_commit=False) for tenant, bind in engines.items()}
async_engines = {
    tenant: create_async_engine(bind.url.set(drivername="sqlite+aiosqlite")) for tenant, bind in engines.items()
}
async_sessionmakers = {
    tenant: async_sessionmaker(bind, expire_on_commit=False) for tenant, bind in async_engines.items()
}
engine = engines["a"]
database_sessionmaker = sessionmakers["a"]


def get_db_session(x_tenant: str = Header()) -> Iterator[Session]:
    with sessionmakers[x_tenant]() as session:
        yield session


async def get_tenant_async_session(x_tenant: str = Header()) -> AsyncIterator[AsyncSession]:
    async with async_sessionmakers[x_tenant]() as session:
        yield session
"""
ROUTE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"name": item.name}
"""
CONFIG = '[tool.async-migrate]\nasync-dependency = "get_tenant_async_session"\n'


def test_a_reused_async_dependency_beside_a_per_tenant_stack_blocks_with_am243(cli, service):
    # the async dependency always opens tenant "a": nothing phase two reads tells it from the right one
    wrong = dedent(ENGINE).replace("async_sessionmakers[x_tenant]()", 'async_sessionmakers["a"]()')
    root = service({"db/engine.py": wrong, SUBSYSTEM: routes(ROUTE)})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM243" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM243")]
    assert "`get_tenant_async_session`" in reason and "`get_db_session` (db/engine.py:" in reason, reason
    assert 'async-dependency = "get_tenant_async_session"' in reason, reason
    assert "async def create_item" not in read(root, SUBSYSTEM)


def test_a_configured_async_dependency_is_reused_and_each_tenant_writes_its_own_database(cli, service):
    root = service({"db/engine.py": dedent(ENGINE), SUBSYSTEM: routes(ROUTE), "pyproject.toml": CONFIG})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "get_async_db_session" not in read(root, "db/engine.py")  # the project's stack is reused
    # every async_sessionmaker of the dict keeps objects on commit: nothing to refresh
    assert "refresh" not in read(root, SUBSYSTEM)
    result = serve(root, "sqlite", """
        for tenant in stack.engines.values():
            Base.metadata.create_all(tenant)
        first = client.post("/items", params={"name": "pen"}, headers={"x-tenant": "a"})
        second = client.post("/items", params={"name": "cup"}, headers={"x-tenant": "b"})
        found = {}
        for key, maker in stack.sessionmakers.items():
            with maker() as s:
                found[key] = list(s.scalars(select(Item.name)).all())
        for bind in stack.async_engines.values():
            client.portal.call(bind.dispose)
        print(json.dumps([first.status_code, second.status_code, found]))
    """)
    assert result == [200, 200, {"a": ["pen"], "b": ["cup"]}]


ENGINE_PER_TENANT = (
    dedent(ENGINE)
    .replace("with sessionmakers[x_tenant]() as session:", "with Session(bind=engines[x_tenant], expire_on_commit=False) as session:")
    .replace(
        "async with async_sessionmakers[x_tenant]() as session:",
        "async with AsyncSession(bind=async_engines[x_tenant], expire_on_commit=False) as session:",
    )
)
WRITES = """
    from sqlalchemy.orm import Session

    for tenant in stack.engines.values():
        Base.metadata.create_all(tenant)
    first = client.post("/items", params={"name": "pen"}, headers={"x-tenant": "a"})
    second = client.post("/items", params={"name": "cup"}, headers={"x-tenant": "b"})
    found = {}
    for key, bind in stack.engines.items():
        with Session(bind) as s:
            found[key] = list(s.scalars(select(Item.name)).all())
    for bind in stack.async_engines.values():
        client.portal.call(bind.dispose)
    print(json.dumps([first.status_code, second.status_code, found]))
"""


def test_a_configured_async_dependency_opening_each_tenants_async_engine_is_reused_and_writes_its_database(
    cli, service
):
    # `Session(bind=engines[x_tenant])` and `AsyncSession(bind=async_engines[x_tenant])`: the same
    # choice of the tenant's engine, each from a dict of engines built per tenant.
    root = service({"db/engine.py": ENGINE_PER_TENANT, SUBSYSTEM: routes(ROUTE), "pyproject.toml": CONFIG})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", document["subsystem"]["global_blockers"]
    assert serve(root, "sqlite", WRITES) == [200, 200, {"a": ["pen"], "b": ["cup"]}]


def test_near_miss_an_async_dependency_opening_one_tenants_engine_still_blocks(cli, service):
    fixed = ENGINE_PER_TENANT.replace("AsyncSession(bind=async_engines[x_tenant]", 'AsyncSession(bind=async_engines["a"]')
    root = service({"db/engine.py": fixed, SUBSYSTEM: routes(ROUTE), "pyproject.toml": CONFIG})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    assert "`with Session(bind=engines[x_tenant], expire_on_commit=False) as session:`" in found["reasons"][0], found
