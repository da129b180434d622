"""AM301 blocking-session through a unit of work whose session factory arrives with its class at
something that builds it later: `partial(UnitOfWork, SessionLocal)`, a dependency-injector
provider, a hand-written `Singleton(UnitOfWork, SessionLocal)` keeping the arguments in `*args`,
a lambda. The unannotated `session_factory` holds what those hand it, as for a direct
`UnitOfWork(SessionLocal)`: before, `check` gave "no findings" and scan "does no synchronous
Session work" for a route committing on the event loop."""

from __future__ import annotations

import textwrap

import pytest

UOW = """
from models import Item


class UnitOfWork:
    def __init__(self, session_factory) -> None:
        self._session_factory = session_factory
        self._session = None

    def __enter__(self):
        self._session = self._session_factory()
        return self

    def __exit__(self, *args):
        self._session.commit()
        self._session.close()

    def add(self, name: str) -> None:
        self._session.add(Item(name=name))
"""

WRAPPER = """
class Factory:
    def __init__(self, factory, *args, **kwargs) -> None:
        self._factory, self._args, self._kwargs = factory, args, kwargs

    def __call__(self):
        return self._factory(*self._args, **self._kwargs)
"""

CONTAINERS = {
    "partial_in_a_dict": """
        from functools import partial

        from db.engine import database_sessionmaker
        from db.uow import UnitOfWork

        providers = {"uow": partial(UnitOfWork, database_sessionmaker)}


        def get_uow() -> UnitOfWork:
            return providers["uow"]()
        """,
    "partial_in_a_function": """
        from functools import partial

        from db.engine import database_sessionmaker
        from db.uow import UnitOfWork


        def get_uow() -> UnitOfWork:
            make = partial(UnitOfWork, session_factory=database_sessionmaker)
            return make()
        """,
    "provider_on_a_container": """
        from dependency_injector import containers, providers

        from db.engine import database_sessionmaker
        from db.uow import UnitOfWork


        class Container(containers.DeclarativeContainer):
            uow = providers.Factory(UnitOfWork, session_factory=database_sessionmaker)


        container = Container()


        def get_uow() -> UnitOfWork:
            return container.uow()
        """,
    "project_wrapper_with_args": """
        from db.engine import database_sessionmaker
        from db.uow import UnitOfWork
        from db.wrapper import Factory


        class Container:
            def __init__(self) -> None:
                self.uow = Factory(UnitOfWork, database_sessionmaker)


        container = Container()


        def get_uow() -> UnitOfWork:
            return container.uow()
        """,
    "module_level_lambda": """
        from db.engine import database_sessionmaker
        from db.uow import UnitOfWork

        make = lambda: UnitOfWork(database_sessionmaker)  # noqa: E731


        def get_uow() -> UnitOfWork:
            return make()
        """,
}

ROUTE = """
from typing import Annotated

from fastapi import Depends

from db.container import get_uow
from db.uow import UnitOfWork


@router.post("/items/{name}")
async def add_item(name: str, uow: Annotated[UnitOfWork, Depends(get_uow)]):
    with uow:
        uow.add(name)
    return {"added": name}
"""


def _files(container: str) -> dict[str, str]:
    return {"db/uow.py": UOW, "db/wrapper.py": WRAPPER, "db/container.py": textwrap.dedent(container),
            "models.py": ITEMS}


ITEMS = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
"""


@pytest.mark.parametrize("shape", sorted(CONTAINERS))
def test_a_session_factory_handed_with_its_class_to_a_later_call_blocks(app, findings, reported, shape):
    root = app(ROUTE, _files(CONTAINERS[shape]))
    assert "AM301" in {f["code"] for f in findings(root, "add_item")}, shape
    entry = reported(root, "add_item")
    assert entry["action"] == "convert", entry
    assert "UnitOfWork.__exit__ -> self._session.commit()" in " ".join(entry["reasons"]), entry["reasons"]


@pytest.mark.parametrize("shape", ["partial_in_a_dict", "project_wrapper_with_args"])
def test_near_miss_a_class_handed_no_session_factory_does_no_session_work(app, findings, reported, shape):
    # The same shapes handing the class a plain callable that opens no Session.
    container = textwrap.dedent(CONTAINERS[shape]).replace("database_sessionmaker)", "dict)").replace(
        "from db.engine import database_sessionmaker\n", ""
    )
    root = app(ROUTE, _files(container))
    assert findings(root, "add_item") == []
    assert reported(root, "add_item")["codes"] == ["AM105"]
