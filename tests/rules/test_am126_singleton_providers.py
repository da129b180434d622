"""AM126 process-wide-session through a unit of work one provider hands every request: a lazy
singleton (a hand-written `Singleton(UnitOfWork, SessionLocal)` keeping `self._instance`,
dependency-injector's `providers.Singleton`) or a `@cached_property` of a module-level
container. `UnitOfWork.__enter__` opens its Session into `self._session` of that one object:
as `def`, threadpool requests overwrite and close each other's Session and lose their commits
(the concurrency test below). Before, phase one converted these routes."""

from __future__ import annotations

import json
import textwrap

import pytest
from sample import run_python

UOW = """
from sqlalchemy.orm import sessionmaker

from models import Item


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory
        self._session = None

    def __enter__(self):
        self._session = self._session_factory()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._session.commit()
        finally:
            self._session.close()

    def add(self, name: str) -> None:
        self._session.add(Item(name=name))
        self._session.flush()
"""

LAZY = """
class Singleton:
    def __init__(self, factory, *args) -> None:
        self._factory, self._args, self._instance = factory, args, None

    def __call__(self):
        if self._instance is None:
            self._instance = self._factory(*self._args)
        return self._instance


class Factory:
    def __init__(self, factory, *args) -> None:
        self._factory, self._args = factory, args

    def __call__(self):
        return self._factory(*self._args)
"""

ITEMS = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
"""

CONTAINERS = {
    "lazy_singleton": """
        from db.engine import database_sessionmaker
        from db.lazy import Singleton
        from db.uow import UnitOfWork


        class Container:
            def __init__(self) -> None:
                self.uow = Singleton(UnitOfWork, database_sessionmaker)


        container = Container()


        def get_uow() -> UnitOfWork:
            return container.uow()
        """,
    "cached_property": """
        from functools import cached_property

        from db.engine import database_sessionmaker
        from db.uow import UnitOfWork


        class Container:
            @cached_property
            def uow(self) -> UnitOfWork:
                return UnitOfWork(database_sessionmaker)


        container = Container()


        def get_uow() -> UnitOfWork:
            return container.uow
        """,
    "singleton_provider": """
        from dependency_injector import containers, providers

        from db.engine import database_sessionmaker
        from db.uow import UnitOfWork


        class Container(containers.DeclarativeContainer):
            uow = providers.Singleton(UnitOfWork, session_factory=database_sessionmaker)


        container = Container()


        def get_uow() -> UnitOfWork:
            return container.uow()
        """,
}
# What each reason names as the shape keeping the one instance.
SHAPES = {
    "lazy_singleton": "which `Singleton.__call__` builds on first call and keeps in `self._instance` for every request",
    "cached_property": "which the `@cached_property` `Container.uow` builds on first access and keeps on the "
    "module-level `container` for every request",
    "singleton_provider": "which the dependency-injector provider `Container.uow = providers.Singleton(...)` builds "
    "once and hands to every request",
}
# Each shape's per-request counterpart.
NEAR_MISSES = {
    "lazy_singleton": ("Singleton(UnitOfWork", "Factory(UnitOfWork"),
    "cached_property": ("@cached_property\n", "@property\n"),
    "singleton_provider": ("providers.Singleton(", "providers.Factory("),
}

ROUTE = """
from typing import Annotated

from fastapi import Depends

from db.container import get_uow
from db.uow import UnitOfWork


@router.post("/items/{name}", status_code=201)
async def add_item(name: str, uow: Annotated[UnitOfWork, Depends(get_uow)]):
    with uow:
        uow.add(name)
    return {"added": name}
"""

INJECTED = """
from typing import Annotated

from dependency_injector.wiring import Provide, inject
from fastapi import Depends

from db.container import Container
from db.uow import UnitOfWork


@router.post("/items/{name}", status_code=201)
@inject
async def add_item(name: str, uow: Annotated[UnitOfWork, Depends(Provide[Container.uow])]):
    with uow:
        uow.add(name)
    return {"added": name}
"""


def _files(container: str) -> dict[str, str]:
    return {"db/uow.py": UOW, "db/lazy.py": LAZY, "db/container.py": textwrap.dedent(container), "models.py": ITEMS}


@pytest.mark.parametrize("shape", sorted(CONTAINERS))
def test_a_unit_of_work_one_provider_hands_every_request_keeps_the_route(app, reported, shape):
    root = app(ROUTE, _files(CONTAINERS[shape]))
    entry = reported(root, "add_item", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "`self._session`, which `UnitOfWork.__enter__` opens on each use" in entry["reasons"][0], entry
    assert SHAPES[shape] in entry["reasons"][0], entry["reasons"][0]


def test_a_unit_of_work_a_singleton_provider_injects_keeps_the_route(app, reported):
    root = app(INJECTED, _files(CONTAINERS["singleton_provider"]))
    entry = reported(root, "add_item", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "`db.container.Container.uow`" in entry["reasons"][0] and SHAPES["singleton_provider"] in entry["reasons"][0]
    assert "make `Container.uow` a `providers.Factory`" in entry["reasons"][0]


@pytest.mark.parametrize("shape", sorted(CONTAINERS))
def test_near_miss_a_provider_building_one_per_request_converts(app, reported, shape):
    old, new = NEAR_MISSES[shape]
    container = textwrap.dedent(CONTAINERS[shape]).replace(old, new)
    root = app(ROUTE, _files(container))
    entry = reported(root, "add_item", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


def test_near_miss_a_thread_local_singleton_provider_converts(app, reported):
    # one instance per worker thread: no two threads share its `self._session`
    container = textwrap.dedent(CONTAINERS["singleton_provider"]).replace("Singleton(", "ThreadLocalSingleton(")
    entry = reported(app(INJECTED, _files(container)), "add_item", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


RACE = """
import json
import threading

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.items import router
from db.engine import database_sessionmaker, engine
from models import Base, Item

Base.metadata.create_all(engine)
app = FastAPI()
app.include_router(router)
codes = []
with TestClient(app) as client:  # one event loop, as in production
    def run(who):
        for number in range(20):
            codes.append(client.post(f"/items/{who}{number}").status_code)

    threads = [threading.Thread(target=run, args=(w,)) for w in "abcd"]
    [t.start() for t in threads]
    [t.join() for t in threads]
with database_sessionmaker() as s:
    stored = s.query(Item).count()
print(json.dumps({"created": codes.count(201), "stored": stored}))
"""


def test_after_phase_one_concurrent_requests_on_a_lazy_singleton_keep_every_commit(app, cli, tmp_path):
    # The trial's scenario: 80 concurrent POSTs through one lazily built UnitOfWork. Converted
    # to def, threadpool requests overwrite `self._session` and most commits are lost.
    root = app(ROUTE, _files(CONTAINERS["lazy_singleton"]))
    engine = (root / "db/engine.py").read_text().replace(
        '"sqlite:///./app.db"', f'"sqlite:///{tmp_path / "race.db"}", connect_args={{"check_same_thread": False}}'
    )
    (root / "db/engine.py").write_text(engine)
    cli.json("phase1", root, "--apply")
    assert "async def add_item" in (root / "api/items.py").read_text()
    result = run_python(RACE, cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"created": 80, "stored": 80}


# A service on a Session a dependency-injector container hands it (the trial's shape): what the
# provider handing the Session (or the service) keeps decides whether every request gets one.
SERVICE = """
from sqlalchemy.orm import Session

from models import Item


class ItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: str) -> None:
        self.session.add(Item(name=name))
        self.session.flush()


class ItemService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.items = ItemRepository(session)

    def add(self, name: str) -> None:
        self.items.add(name)
        self.session.commit()


class Settings:
    greeting = "hello"
"""

DI_CONTAINER = """
from dependency_injector import containers, providers

from db.engine import database_sessionmaker, get_db_session
from db.service import ItemService, Settings


class Container(containers.DeclarativeContainer):
    config = providers.Singleton(Settings)
    session_factory = providers.{session}
    item_service = providers.{service}
"""

SERVICE_ROUTE = """
from typing import Annotated

from dependency_injector.wiring import Provide, inject
from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.container import Container
from db.service import ItemService, Settings
from models import Item


@router.post("/items/{name}", status_code=201)
@inject
async def add_item(name: str, svc: Annotated[ItemService, Depends(Provide[Container.item_service])]):
    svc.add(name)
    return {"added": name}


@router.get("/items/count")
@inject
async def count_items(db: Session = Depends(Provide[Container.session_factory])):
    return {"count": db.scalar(select(func.count(Item.id)))}


@router.get("/greeting")
@inject
async def greeting(db: session_dependency, config: Settings = Depends(Provide[Container.config])):
    return {"greeting": config.greeting, "items": db.scalar(select(func.count(Item.id)))}
"""

PER_CALL_SERVICE = "Factory(ItemService, session=session_factory)"
# shape -> (session provider, service provider, what the reason says keeps the one Session)
SHARED_SESSIONS = {
    "singleton_session": (
        "Singleton(database_sessionmaker)", PER_CALL_SERVICE,
        "what `Container.item_service = providers.Factory(ItemService, ...)` (db/container.py:10) builds on the "
        "Session `Container.session_factory = providers.Singleton(database_sessionmaker)` (db/container.py:9) "
        "builds once and hands to every request",
    ),
    "thread_safe_singleton_session": (
        "ThreadSafeSingleton(database_sessionmaker)", PER_CALL_SERVICE,
        "`Container.session_factory = providers.ThreadSafeSingleton(database_sessionmaker)` (db/container.py:9) "
        "builds once",
    ),
    "resource": (
        "Resource(get_db_session)", PER_CALL_SERVICE,
        "the Session `Container.session_factory = providers.Resource(get_db_session)` (db/container.py:9) "
        "initialises once and hands to every request until it is shut down",
    ),
    "singleton_service": (
        "Factory(database_sessionmaker)", "Singleton(ItemService, session=session_factory)",
        "the ItemService `Container.item_service = providers.Singleton(ItemService, ...)` (db/container.py:10) "
        "builds once and hands to every request, with the one Session it was built with (from "
        "`Container.session_factory`, db/container.py:9)",
    ),
    "singleton_written_in_place": (
        "Factory(database_sessionmaker)", "Factory(ItemService, session=providers.Singleton(database_sessionmaker))",
        "the Session `providers.Singleton(database_sessionmaker)` given to `Container.item_service` "
        "(db/container.py:10) builds once",
    ),
    "object_of_a_session": (
        "Object(database_sessionmaker())", PER_CALL_SERVICE,
        "the Session `Container.session_factory = providers.Object(database_sessionmaker())` (db/container.py:9) "
        "hands to every request as it is",
    ),
    "opened_in_class_body": (
        "Factory(database_sessionmaker)", "Factory(ItemService, session=database_sessionmaker())",
        "builds on the Session `database_sessionmaker()` there opens once, as the class body runs",
    ),
}


def _service_app(app, session: str, service: str = PER_CALL_SERVICE):  # type: ignore[no-untyped-def]
    container = DI_CONTAINER.format(session=session, service=service)
    files = {"db/service.py": SERVICE, "db/container.py": container, "models.py": ITEMS}
    return app("from core.dependencies import session_dependency\n" + SERVICE_ROUTE, files)


@pytest.mark.parametrize("shape", sorted(SHARED_SESSIONS))
def test_a_service_on_a_session_a_container_keeps_for_every_request_keeps_the_route(app, reported, shape):
    # Before, phase one converted it (AM123): as `def`, 200 concurrent requests in the threadpool
    # shared the one Session (164 answered 500; users committed without their outbox rows).
    session, service, words = SHARED_SESSIONS[shape]
    entry = reported(_service_app(app, session, service), "add_item", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    reason = entry["reasons"][0]
    assert "(`svc.add()`) on `svc`" in reason and words in reason, reason
    assert "one Session the whole process shares" in reason, reason


@pytest.mark.parametrize("session", ["Singleton(database_sessionmaker)", "Resource(get_db_session)"])
def test_a_session_a_single_instance_provider_injects_keeps_the_route(app, reported, session):
    entry = reported(_service_app(app, session), "count_items", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "(`db.scalar()`) on `db`, the Session `Container.session_factory = " in entry["reasons"][0], entry


@pytest.mark.parametrize("session", ["Dependency()", "AbstractFactory(Session)", "Dependency(instance_of=Session)"])
def test_a_session_a_provider_is_given_at_run_time_keeps_the_route_as_not_certain(app, reported, session):
    # What the application or a test overrides the provider with may be one Session for the
    # process: phase one converted these routes, unseen.
    root = _service_app(app, session.replace("(Session", "(database_sessionmaker") if "Abstract" in session else session)
    for function, call in (("count_items", "(`db.scalar()`) on `db`"), ("add_item", "(`svc.add()`) on `svc`")):
        entry = reported(root, function, "phase1")
        assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
        reason = entry["reasons"][0]
        assert call in reason and "is given at run time, which the analysis cannot read" in reason, reason
        assert "may be one Session the whole process shares" in reason, reason


def test_near_miss_an_object_provider_of_what_is_no_session_converts(app, reported):
    root = _service_app(app, "Singleton(database_sessionmaker)")
    container = root / "db/container.py"
    container.write_text(container.read_text().replace("providers.Singleton(Settings)", "providers.Object(Settings())"))
    entry = reported(root, "greeting", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


@pytest.mark.parametrize(
    ("session", "service"),
    [
        ("Factory(database_sessionmaker)", PER_CALL_SERVICE),  # a Session per injection
        ("ThreadLocalSingleton(database_sessionmaker)", PER_CALL_SERVICE),  # one per worker thread
        ("ContextLocalSingleton(database_sessionmaker)", PER_CALL_SERVICE),  # one per context
        ("Factory(database_sessionmaker)", "ThreadLocalSingleton(ItemService, session=session_factory)"),
    ],
)
def test_near_miss_a_session_per_call_thread_or_context_converts(app, reported, session, service):
    root = _service_app(app, session, service)
    for function in ("add_item", "count_items"):
        entry = reported(root, function, "phase1")
        assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


def test_near_miss_a_singleton_of_a_class_taking_no_session_converts(app, reported):
    # `config = providers.Singleton(Settings)`: one Settings for the process, no Session in it
    entry = reported(_service_app(app, "Singleton(database_sessionmaker)"), "greeting", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


def test_phase_two_does_not_move_a_route_on_a_session_a_container_keeps(app, cli):
    root = _service_app(app, "Singleton(database_sessionmaker)")
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    entry = next(h for h in document["handlers"] if h["function"] == "add_item")
    assert entry["action"] == "blocked", entry
    assert any("`Container.item_service`" in reason for reason in entry["reasons"]), entry
    assert "async def add_item" in (root / "api/items.py").read_text()


# Just enough of dependency-injector for the routes to run (outside the application: the analysis
# reads the library's names, never its code): a singleton keeps what it built first, a factory
# builds on each call, each handing the providers it is given what they make; `@inject` fills
# the `Provide[...]` markers FastAPI hands the route.
DI_STUB = {
    "dependency_injector/__init__.py": "",
    "dependency_injector/containers.py": "class DeclarativeContainer:\n    pass\n",
    "dependency_injector/providers.py": """
class Factory:
    def __init__(self, provides, *args, **kwargs):
        self.provides, self.args, self.kwargs = provides, args, kwargs

    def _build(self):
        made = [a() if isinstance(a, Factory) else a for a in self.args]
        named = {k: v() if isinstance(v, Factory) else v for k, v in self.kwargs.items()}
        return self.provides(*made, **named)

    def __call__(self):
        return self._build()


class Singleton(Factory):
    _instance = None

    def __call__(self):
        if self._instance is None:
            self._instance = self._build()
        return self._instance
""",
    "dependency_injector/wiring.py": """
import functools
import inspect


class Provide:
    def __init__(self, provider):
        self.provider = provider

    def __class_getitem__(cls, provider):
        return cls(provider)

    def __call__(self):
        return self


def inject(fn):
    def filled(kwargs):
        return {k: v.provider() if isinstance(v, Provide) else v for k, v in kwargs.items()}

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def run(*args, **kwargs):
            return await fn(*args, **filled(kwargs))
        return run

    @functools.wraps(fn)
    def run(*args, **kwargs):
        return fn(*args, **filled(kwargs))
    return run
""",
}


def test_after_phase_one_concurrent_requests_on_a_container_session_keep_every_commit(app, cli, tmp_path):
    # The trial's scenario: a Factory service on a Singleton Session. Phase one converted the
    # route and most of the concurrent requests failed on the one Session; kept, they take turns.
    root = _service_app(app, "Singleton(database_sessionmaker)")
    engine = (root / "db/engine.py").read_text().replace(
        '"sqlite:///./app.db"', f'"sqlite:///{tmp_path / "race.db"}", connect_args={{"check_same_thread": False}}'
    )
    (root / "db/engine.py").write_text(engine)
    vendor = tmp_path / "vendor"
    for path, text in DI_STUB.items():
        (vendor / path).parent.mkdir(parents=True, exist_ok=True)
        (vendor / path).write_text(textwrap.dedent(text))
    cli.json("phase1", root, "--apply")
    assert "async def add_item" in (root / "api/items.py").read_text()
    result = run_python(RACE, cwd=root, env={"PYTHONPATH": f"{root}:{vendor}", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"created": 80, "stored": 80}
