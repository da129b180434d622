"""Phase two on a service with two databases (a main one and an analytics one, each with its
sessionmaker and session dependency) and an async stack already written by hand for the main
one. The subsystem is migrated with `phase2 --apply`, then RUN on two SQLite files: each row
must land in its own database.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sample import run_json
from test_phase2_rules import apply, dedent, handler, read, run

ENGINE = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(engine, expire_on_commit=False)


def get_db():
    with SessionLocal() as session:
        yield session
"""
ANALYTICS = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

analytics_engine = create_engine(os.environ["ANALYTICS_URL"])
AnalyticsSession = sessionmaker(analytics_engine)


def get_analytics_db():
    with AnalyticsSession() as session:
        yield session
"""
ASYNC_STACK = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from db.engine import engine

async_engine = create_async_engine(engine.url.set(drivername="sqlite+aiosqlite"))
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db():
    async with AsyncSessionLocal() as session:
        yield session
"""
MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AnalyticsBase(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Event(AnalyticsBase):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
"""
TRACK = {
    "with": """
def track(name: str) -> None:
    with AnalyticsSession() as adb:
        adb.add(Event(name=name))
        adb.commit()
""",
    "begin": """
def track(name: str) -> None:
    with AnalyticsSession.begin() as adb:
        adb.add(Event(name=name))
""",
    "imported inside": """
def track(name: str) -> None:
    from db.analytics import AnalyticsSession as Opener

    with Opener() as adb:
        adb.add(Event(name=name))
        adb.commit()
""",
}
ITEMS = """
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_db
from models import Item
from services import track

router = APIRouter()


@router.post("/items")
async def create(name: str, db: Session = Depends(get_db)):
    db.add(Item(name=name))
    db.commit()
    track("item_created")
    return {"ok": True}


@router.get("/items/count")
async def count(db: Session = Depends(get_db)):
    return {"n": db.scalar(select(func.count(Item.id)))}
"""
REPORTS = """
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.analytics import get_analytics_db
from models import Event

router = APIRouter()


@router.get("/events")
def events(adb: Session = Depends(get_analytics_db)):
    return [e.name for e in adb.scalars(select(Event))]
"""
MAIN = """
from fastapi import FastAPI

from api import items, reports

app = FastAPI()
app.include_router(items.router)
app.include_router(reports.router)
"""
SERVE = """
import json

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from db.analytics import analytics_engine
from db.engine import engine
from main import app
from models import AnalyticsBase, Base

Base.metadata.create_all(engine)
AnalyticsBase.metadata.create_all(analytics_engine)
with TestClient(app) as client:
    created = client.post("/items", params={"name": "cup"}).status_code
    count = client.get("/items/count").json()
    events = client.get("/events").json()


def tables(url):
    found = create_engine(url)
    try:
        with found.connect() as conn:
            names = inspect(conn).get_table_names()
            return {n: conn.execute(text(f"select count(*) from {n}")).scalar() for n in names}
    finally:
        found.dispose()


print(json.dumps({
    "created": created, "count": count, "events": events,
    "main": tables(str(engine.url)), "analytics": tables(str(analytics_engine.url)),
}))
"""
EXPECTED = {
    "created": 200, "count": {"n": 1}, "events": ["item_created"],
    "main": {"items": 1}, "analytics": {"events": 1},
}


def build(project, track: str) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "db/__init__.py": "",
        "db/engine.py": ENGINE,
        "db/analytics.py": ANALYTICS,
        "db/async_db.py": ASYNC_STACK,
        "models.py": MODELS,
        "services.py": "from db.analytics import AnalyticsSession\nfrom models import Event\n\n" + dedent(track),
        "api/__init__.py": "",
        "api/items.py": ITEMS,
        "api/reports.py": REPORTS,
        "main.py": MAIN,
    })


def serve(root: Path, script: str = SERVE) -> object:
    for name in ("main.db", "analytics.db"):
        (root / name).unlink(missing_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PYTHONPATH": str(root),
        "DATABASE_URL": f"sqlite:///{root / 'main.db'}",
        "ANALYTICS_URL": f"sqlite:///{root / 'analytics.db'}",
    }
    return run_json(dedent(script), cwd=root, env=env, timeout=180, warnings=("error::RuntimeWarning",))


def test_a_subsystem_reaching_one_of_two_sessionmakers_is_compared_with_its_own_database(cli, project):
    """The existing async stack is the main database's; the analytics sessionmaker that other
    routers use is not the subsystem's, so it does not block the subsystem (AM243)."""
    root = build(project, TRACK["with"])
    document = run(cli, root, subsystem="api/items.py")
    assert handler(document, "count")["action"] == "migrate", handler(document, "count")
    reports = run(cli, root, subsystem="api/reports.py")
    assert handler(reports, "events")["codes"] == ["AM243"], handler(reports, "events")


@pytest.mark.parametrize("shape", sorted(TRACK))
def test_a_helper_opening_another_databases_session_stays_synchronous_and_writes_there(cli, project, shape):
    root = build(project, TRACK[shape])
    assert serve(root) == EXPECTED
    document = apply(cli, root, "--allow-override-gap", subsystem="api/items.py")
    found = handler(document, "create")
    assert found["action"] == "blocked" and found["codes"] == ["AM278"], found
    assert "opens its Session from `AnalyticsSession` (db/analytics.py:" in found["reasons"][0], found
    assert handler(document, "count")["action"] == "migrate"
    assert "await db.scalar(" in read(root, "api/items.py")
    assert "AsyncSessionLocal" not in read(root, "services.py")
    assert serve(root) == EXPECTED


ROUTED_ENGINE = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from db.analytics import analytics_engine
from models import AnalyticsBase, Base

engine = create_engine(os.environ["DATABASE_URL"])
{maker}


def get_db():
    with SessionLocal() as session:
        yield session


def make_async_engine():
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
"""
ROUTERS = {
    "binds": "SessionLocal = sessionmaker(binds={Base: engine, AnalyticsBase: analytics_engine})",
    "configure binds": "SessionLocal = sessionmaker()\nSessionLocal.configure(binds={Base: engine, AnalyticsBase: "
    "analytics_engine})",
    "get_bind": """
class RoutingSession(Session):
    def get_bind(self, mapper=None, clause=None, **kw):
        if mapper is not None and issubclass(mapper.class_, AnalyticsBase):
            return analytics_engine
        return engine


SessionLocal = sessionmaker(class_=RoutingSession)
""",
}
ROUTED_ITEMS = """
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_db
from models import Event, Item

router = APIRouter()


@router.post("/items")
async def create(name: str, db: Session = Depends(get_db)):
    db.add(Item(name=name))
    db.add(Event(name="item_created"))
    db.commit()
    return {"ok": True}


@router.get("/items/count")
async def count(db: Session = Depends(get_db)):
    return {"n": db.scalar(select(func.count(Item.id)))}
"""


@pytest.mark.parametrize("shape", sorted(ROUTERS))
def test_a_sessionmaker_routing_to_two_databases_is_not_given_one_async_engine(cli, project, shape):
    """One Session, two databases (`binds=`, a `get_bind()` router): even with an async engine
    factory configured, one async engine cannot stand for it (AM278), and nothing is written."""
    root = project({
        "pyproject.toml": '[tool.async-migrate]\nasync-engine-factory = "db.engine.make_async_engine"\n',
        "db/__init__.py": "",
        "db/engine.py": ROUTED_ENGINE.replace("{maker}", dedent(ROUTERS[shape])),
        "db/analytics.py": ANALYTICS,
        "models.py": MODELS,
        "api/__init__.py": "",
        "api/items.py": ROUTED_ITEMS,
        "api/reports.py": REPORTS,
        "main.py": MAIN,
    })
    assert serve(root) == EXPECTED
    document = apply(cli, root, "--allow-override-gap", subsystem="api/items.py")
    for name in ("create", "count"):
        found = handler(document, name)
        assert found["action"] == "blocked" and found["codes"] == ["AM278"], found
    assert document["files_changed"] == []
    assert serve(root) == EXPECTED


CLASS_ANALYTICS = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

analytics_engine = create_engine(os.environ["ANALYTICS_URL"])


def get_analytics_db():
    with Session(analytics_engine) as session:
        yield session
"""
EVENTS = """
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.analytics import get_analytics_db
from models import Event

router = APIRouter()


@router.post("/events")
async def add_event(name: str, adb: Session = Depends(get_analytics_db)):
    adb.add(Event(name=name))
    adb.commit()
    return {"ok": True}


@router.get("/events")
async def events(adb: Session = Depends(get_analytics_db)):
    return [e.name for e in adb.scalars(select(Event))]
"""
SUMMARY = """
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.analytics import get_analytics_db
from db.engine import get_db
from models import Event, Item

router = APIRouter()


@router.get("/summary")
async def summary(db: Session = Depends(get_db), adb: Session = Depends(get_analytics_db)):
    return {"items": db.scalar(select(func.count(Item.id))), "events": adb.scalar(select(func.count(Event.id)))}
"""
CLASS_MAIN = """
from fastapi import FastAPI

from api import events, items, summary

app = FastAPI()
for module in (events, items, summary):
    app.include_router(module.router)
"""
CLASS_SERVE = SERVE.replace(
    'created = client.post("/items", params={"name": "cup"}).status_code',
    'created = client.post("/items", params={"name": "cup"}).status_code\n'
    '    client.post("/events", params={"name": "viewed"})\n'
    '    totals = client.get("/summary").json()',
).replace('"created": created,', '"created": created, "summary": totals,')
CLASS_EXPECTED = {
    **EXPECTED, "events": ["viewed"], "analytics": {"events": 1}, "summary": {"items": 1, "events": 1},
}


def test_a_dependency_yielding_a_session_on_a_second_engine_keeps_its_database(cli, project):
    """`get_analytics_db` yields `Session(analytics_engine)` beside the main sessionmaker's
    dependency: a second database as much as a second sessionmaker is. Its routes move onto an
    async stack of that engine, the main database's onto the main one; a route taking both
    stays synchronous (AM231)."""
    root = project({
        "db/__init__.py": "",
        "db/engine.py": ENGINE,
        "db/analytics.py": CLASS_ANALYTICS,
        "models.py": MODELS,
        "services.py": "",
        "api/__init__.py": "",
        "api/items.py": ITEMS.replace("from services import track\n", "").replace('    track("item_created")\n', ""),
        "api/events.py": EVENTS,
        "api/summary.py": SUMMARY,
        "main.py": CLASS_MAIN,
    })
    assert serve(root, CLASS_SERVE) == CLASS_EXPECTED
    document = apply(cli, root, subsystem="api/events.py")
    assert [handler(document, n)["action"] for n in ("add_event", "events")] == ["migrate", "migrate"], [handler(document, n)["reasons"] for n in ("add_event", "events")]
    assert "create_async_engine(_async_url(analytics_engine.url))" in read(root, "db/analytics.py")
    assert serve(root, CLASS_SERVE) == CLASS_EXPECTED
    found = handler(run(cli, root, subsystem="api/summary.py"), "summary")
    assert found["action"] == "blocked" and found["codes"] == ["AM231"], found


SECOND_STACK = """
[tool.async-migrate]
async-engine = "async_analytics_engine"
async-sessionmaker = "async_analytics_sessionmaker"
async-dependency = "get_async_analytics_db"
async-alias = "async_analytics_db"
"""


def test_a_second_databases_subsystem_gets_a_stack_of_its_own_when_the_configuration_names_one(cli, project):
    """The hand-written async stack is the main database's. The analytics router cannot reuse it
    (AM243), and the reason no longer advises removing it, which the routes migrated onto it
    need: a configuration naming other pieces generates the analytics database's own stack
    beside its sessionmaker, and each database keeps its rows once both routers moved."""
    root = build(project, TRACK["with"])
    blocked = handler(run(cli, root, subsystem="api/reports.py"), "events")
    assert blocked["codes"] == ["AM243"], blocked
    assert "--config" in blocked["reasons"][0] and "remove it" not in blocked["reasons"][0], blocked
    config = root.parent / "analytics.toml"
    config.write_text(SECOND_STACK, encoding="utf-8")
    assert handler(apply(cli, root, subsystem="api/items.py"), "count")["action"] == "migrate"
    document = apply(cli, root, "--config", str(config), subsystem="api/reports.py")
    assert handler(document, "events")["action"] == "migrate", handler(document, "events")
    analytics = read(root, "db/analytics.py")
    assert "async_analytics_engine = create_async_engine(" in analytics and "analytics_engine.url" in analytics
    assert "get_async_analytics_db" in read(root, "api/reports.py")
    assert "get_async_db" in read(root, "api/items.py")
    assert serve(root) == EXPECTED


MIXED = """
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.analytics import get_analytics_db
from db.engine import get_db
from models import Event, Item

router = APIRouter()


@router.post("/items")
async def create(name: str, db: Session = Depends(get_db)):
    db.add(Item(name=name))
    db.commit()
    return {"ok": True}


@router.get("/items/count")
async def count(db: Session = Depends(get_db)):
    return {"n": db.scalar(select(func.count(Item.id)))}


@router.post("/events")
async def add_event(name: str, adb: Session = Depends(get_analytics_db)):
    adb.add(Event(name=name))
    adb.commit()
    return {"ok": True}


@router.get("/events")
async def events(adb: Session = Depends(get_analytics_db)):
    return [e.name for e in adb.scalars(select(Event))]
"""
MIXED_SERVE = SERVE.replace(
    'created = client.post("/items", params={"name": "cup"}).status_code',
    'created = client.post("/items", params={"name": "cup"}).status_code\n'
    '    client.post("/events", params={"name": "item_created"})',
)


@pytest.mark.parametrize("analytics", ["sessionmaker", "Session(engine)"])
def test_a_router_module_using_two_databases_migrates_the_routes_of_one(cli, project, analytics):
    """One router module, routes on the main database's `get_db` and routes on the analytics
    database's `get_analytics_db`: the routes reaching one database migrate onto its async
    stack, those reaching the other stay synchronous with a reason naming it; the rows still
    land in their own databases."""
    root = project({
        "db/__init__.py": "",
        "db/engine.py": ENGINE,
        "db/analytics.py": ANALYTICS if analytics == "sessionmaker" else CLASS_ANALYTICS,
        "models.py": MODELS,
        "api/__init__.py": "",
        "api/mixed.py": MIXED,
        "main.py": "from fastapi import FastAPI\n\nfrom api import mixed\n\napp = FastAPI()\napp.include_router(mixed.router)\n",
    })
    assert serve(root, MIXED_SERVE) == EXPECTED
    document = apply(cli, root, "--allow-override-gap", subsystem="api/mixed.py")
    actions = {n: handler(document, n) for n in ("create", "count", "add_event", "events")}
    assert [actions[n]["action"] for n in ("create", "count")] == ["migrate", "migrate"], actions
    for name in ("add_event", "events"):
        assert actions[name]["action"] == "blocked" and actions[name]["codes"] == ["AM231"], actions
        assert "`get_analytics_db`" in actions[name]["reasons"][0], actions
    text = read(root, "api/mixed.py")
    assert "await db.commit()" in text and "adb.commit()" in text and "await adb" not in text
    assert serve(root, MIXED_SERVE) == EXPECTED
    if analytics != "sessionmaker":
        return
    # The analytics routes move in a second run, onto a stack of their own.
    config = root.parent / "analytics.toml"
    config.write_text(SECOND_STACK, encoding="utf-8")
    document = apply(cli, root, "--allow-override-gap", "--config", str(config), subsystem="api/mixed.py")
    assert [handler(document, n)["action"] for n in ("add_event", "events")] == ["migrate", "migrate"], [handler(document, n)["reasons"] for n in ("add_event", "events")]
    assert "await adb.commit()" in read(root, "api/mixed.py")
    assert serve(root, MIXED_SERVE) == EXPECTED
