"""Session listeners registered on the sessionmakers a dependency picks from a dict
(`for _maker in SESSIONMAKERS.values(): event.listen(_maker, "before_flush", stamp)`, one
element, `@event.listens_for(SESSIONMAKERS["a"], ...)`). SQLAlchemy keeps such a listener on
the Session class each sessionmaker makes; the async sessionmakers of a hand-written per-tenant
stack run plain Sessions, so after phase two the migrated routes lost it silently (audit rows no
longer written, found by a new-user trial). Now it blocks the stack naming the loop and the fix
(AM270), and once the async dict says `sync_session_class=SESSIONMAKERS[t].class_` the stack is
reused and the migrated route RUNS on SQLite, PostgreSQL and MariaDB with the listener writing
its row. A listener on an element of a container phase two cannot read is unverified (AM270);
one on a dict of sessionmakers no route picks from, or a model loop's mapper event, is left.
"""

from __future__ import annotations

from textwrap import dedent

import pytest
from phase2_kit import KINDS
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ENGINE = """
import os
from collections.abc import AsyncIterator, Iterator

from fastapi import Header
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql+psycopg": "postgresql+psycopg", "mysql+pymysql": "mysql+aiomysql"}
TENANTS = ("a", "b")
engines = {tenant: create_engine(os.environ["DATABASE_URL"]) for tenant in TENANTS}
sessionmakers = {tenant: sessionmaker(engines[tenant], expire_on_commit=False) for tenant in TENANTS}
async_engines = {
    tenant: create_async_engine(engines[tenant].url.set(drivername=ASYNC_DRIVERS[engines[tenant].url.drivername]))
    for tenant in TENANTS
}
async_sessionmakers = {
    tenant: async_sessionmaker(async_engines[tenant], expire_on_commit=False{carried}) for tenant in TENANTS
}
engine = engines["a"]
database_sessionmaker = sessionmakers["a"]


def get_db_session(x_tenant: str = Header()) -> Iterator[Session]:
    with sessionmakers[x_tenant]() as session:
        yield session


async def get_tenant_async_session(x_tenant: str = Header()) -> AsyncIterator[AsyncSession]:
    async with async_sessionmakers[x_tenant]() as session:
        yield session


def stamp(session, flush_context, instances):
    from models import Item

    for obj in list(session.new):
        if isinstance(obj, Item) and not obj.name.startswith("audit:"):
            session.add(Item(name=f"audit:{obj.name}", owner_id=obj.owner_id))
"""
CARRIED = ", sync_session_class=sessionmakers[tenant].class_"
CONFIG = '[tool.async-migrate]\nasync-dependency = "get_tenant_async_session"\n'
ROUTE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"name": item.name}
"""
# Each way of registering on the sessionmakers of the dict the dependency picks from.
SHAPES = {
    "loop-values": 'for _maker in sessionmakers.values():\n    event.listen(_maker, "before_flush", stamp)',
    "loop-items": 'for _tenant, _maker in sessionmakers.items():\n    event.listen(_maker, "before_flush", stamp)',
    "element": 'event.listen(sessionmakers["a"], "before_flush", stamp)',
    "decorator": '@event.listens_for(sessionmakers["a"], "before_flush")\ndef _stamp(session, context, instances):\n'
    "    stamp(session, context, instances)",
    "in-a-function": "def install():\n    for maker in list(sessionmakers.values()):\n"
    '        event.listen(maker, "before_flush", stamp)\n\n\ninstall()',
}
WRITES = """
for bind in stack.engines.values():
    Base.metadata.create_all(bind)
answer = client.post("/items", params={"name": "pen"}, headers={"x-tenant": "a"})
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
for bind in stack.async_engines.values():
    client.portal.call(bind.dispose)
print(json.dumps([answer.status_code, names]))
"""


def listened(service, listener: str, carried: str = ""):  # type: ignore[no-untyped-def]
    engine = dedent(ENGINE).replace("{carried}", carried) + "\n\n" + listener + "\n"
    return service({"db/engine.py": engine, SUBSYSTEM: routes(ROUTE), "pyproject.toml": CONFIG})


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_listener_on_the_sessionmakers_the_dependency_picks_from_blocks_naming_the_fix(cli, service, shape):
    root = listened(service, SHAPES[shape])
    assert serve(root, "sqlite", WRITES) == [200, ["audit:pen", "pen"]]  # what the sync stack does
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
    (blocker,) = document["subsystem"]["global_blockers"]
    assert "listener on each sessionmaker of `sessionmakers`" in blocker, blocker
    assert "`sync_session_class=sessionmakers[key].class_`" in blocker, blocker
    assert "async def create_item" not in read(root, SUBSYSTEM)


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_async_sessionmakers_running_each_tenants_class_are_reused_and_the_listener_writes(
    cli, service, kind
):
    root = listened(service, SHAPES["loop-values"], CARRIED)
    document = apply(cli, root)
    assert document["subsystem"]["global_blockers"] == [], document["subsystem"]["global_blockers"]
    assert handler(document, "create_item")["action"] == "migrate"
    assert "async def create_item" in read(root, SUBSYSTEM)
    # the migrated route's flush runs the listener: its audit row is written beside the item
    assert serve(root, kind, WRITES) == [200, ["audit:pen", "pen"]]


def test_a_listener_on_an_element_of_a_container_phase_two_cannot_read_is_unverified(cli, service):
    listener = 'def _makers():\n    return list(sessionmakers.values())\n\n\nfor _maker in _makers():\n' \
        '    event.listen(_maker, "before_flush", stamp)'
    root = listened(service, listener)
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "blocked"
    (blocker,) = document["subsystem"]["global_blockers"]
    assert "an element of `_makers()`" in blocker and "unverified" in blocker, blocker


@pytest.mark.parametrize("listener", [
    # a dict of sessionmakers no route's dependency picks from (a reporting database's)
    'reporting = {tenant: sessionmaker(engines[tenant]) for tenant in TENANTS}\n'
    'for _maker in reporting.values():\n    event.listen(_maker, "before_flush", stamp)',
    # a loop over the models: a mapper event, which the async sessions' flush runs too
    'def _touch(mapper, connection, target):\n    pass\n\n\nfrom models import Item, User  # noqa: E402\n\n'
    'for _model in (Item, User):\n    event.listen(_model, "before_insert", _touch)',
    # on the Session class: every Session runs it, the async sessions' included
    'for _cls in (Session,):\n    event.listen(_cls, "before_flush", stamp)',
])
def test_near_miss_listeners_the_async_stack_runs_or_no_route_reaches_are_left(cli, service, listener):
    root = listened(service, listener)
    document = apply(cli, root)
    assert document["subsystem"]["global_blockers"] == [], document["subsystem"]["global_blockers"]
    assert handler(document, "create_item")["action"] == "migrate"


# One module-level sessionmaker, registered on in a loop over a display of it: phase two generates
# the async sessionmaker running the class it makes (`sync_session_class=database_sessionmaker.class_`).
DISPLAY_LOOP = """

def stamp(session, flush_context, instances):
    from models import Item

    for obj in list(session.new):
        if isinstance(obj, Item) and not obj.name.startswith("audit:"):
            session.add(Item(name=f"audit:{obj.name}", owner_id=obj.owner_id))


from sqlalchemy import event  # noqa: E402

for _maker in (database_sessionmaker,):
    event.listen(_maker, "before_flush", stamp)
"""
SINGLE_WRITES = """
answer = client.post("/items", params={"name": "pen"})
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
print(json.dumps([answer.status_code, names]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_loop_over_a_display_of_the_sessionmaker_is_carried_by_the_generated_stack(cli, service, kind):
    from test_phase2_soundness import ENGINE as SINGLE

    root = service({"db/engine.py": dedent(SINGLE) + DISPLAY_LOOP, SUBSYSTEM: routes(ROUTE)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", document["subsystem"]["global_blockers"]
    assert "sync_session_class=database_sessionmaker.class_" in read(root, "db/engine.py")
    assert serve(root, kind, SINGLE_WRITES) == [200, ["audit:pen", "pen"]]
