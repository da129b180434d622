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
