"""A unit of work opening its own Session whose class derives from a project abstract base
with method bodies (the canonical Cosmic Python form) moves with that base.

`AbstractUnitOfWork(abc.ABC)` defines `__enter__` returning self, `__exit__` rolling back,
`commit` calling the abstract `_commit`; `SqlAlchemyUnitOfWork` opens the Session in its
`__enter__` and returns `super().__enter__()`. The base and the abstract repository it types
`items` with join the family that moves: their methods on the migrated path become `async def`
(the abstract ones too), `super().__enter__()` becomes `await super().__aenter__()`, and a
parallel base is written beside the parallel class while synchronous code still uses them. A
fake unit of work in the tests deriving from the base would break if it moved: the routes block
naming it. The migrated code runs: the row written, a failing request rolled back.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import SUBSYSTEM, routes, serve
from test_phase2_uow_opening import ADMIN, ROUTES, RUN, TWO_ROUTERS

service = test_phase2_soundness.service

UOW = """
import abc

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


class AbstractRepository(abc.ABC):
    def add(self, item):
        self._add(item)

    def get(self, name):
        return self._get(name)

    @abc.abstractmethod
    def _add(self, item):
        raise NotImplementedError

    @abc.abstractmethod
    def _get(self, name):
        raise NotImplementedError


class ItemRepository(AbstractRepository):
    def __init__(self, session: Session):
        self.session = session

    def _add(self, item):
        self.session.add(item)

    def _get(self, name):
        return self.session.scalars(select(Item).filter_by(name=name)).first()


class AbstractUnitOfWork(abc.ABC):
    items: AbstractRepository

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.rollback()

    def commit(self):
        self._commit()

    @abc.abstractmethod
    def _commit(self):
        raise NotImplementedError

    @abc.abstractmethod
    def rollback(self):
        raise NotImplementedError


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    def __init__(self, session_factory=database_sessionmaker):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        self.items = ItemRepository(self.session)
        return super().__enter__()

    def __exit__(self, *args):
        super().__exit__(*args)
        self.session.close()

    def _commit(self):
        self.session.commit()

    def rollback(self):
        self.session.rollback()


def get_uow():
    return SqlAlchemyUnitOfWork()


def add_item(name, uow) -> int:
    with uow:
        uow.items.add(Item(name=name, owner_id=1))
        if name == "boom":
            raise ValueError(name)
        uow.commit()
        return uow.items.get(name).id
"""


def test_a_unit_of_work_on_an_abstract_base_with_bodies_moves_with_its_base(cli, service):
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW})
    document = apply(cli, root)
    for name in ("create_item", "create_inline", "count_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, "uow.py")
    for written in (
        "    async def __aenter__(self):\n        return self\n",
        "    async def __aexit__(self, *args):\n        await self.rollback()\n",
        "    async def commit(self):\n        await self._commit()\n",
        "    @abc.abstractmethod\n    async def _commit(self):\n",
        "    @abc.abstractmethod\n    async def rollback(self):\n",
        "    async def add(self, item):\n        await self._add(item)\n",
        "        self.items = ItemRepository(self.session)\n        return await super().__aenter__()\n",
        "    async def __aexit__(self, *args):\n        await super().__aexit__(*args)\n        await self.session.close()\n",
        "    async with uow:\n",
    ):
        assert written in text, (written, text)
    assert serve(root, "sqlite", RUN) == [200, 200, ["boom"] * 3, {"n": 2}, ["ink", "pen"]]


def test_a_route_that_stays_keeps_the_base_and_the_migrated_ones_get_a_parallel_base(cli, service):
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW, "api/admin.py": ADMIN, "main.py": TWO_ROUTERS})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, "uow.py")
    assert "class AbstractUnitOfWork(abc.ABC):\n    items: AbstractRepository\n\n    def __enter__(self):" in text, text
    assert "class SqlAlchemyUnitOfWorkAsync(AbstractUnitOfWorkAsync):\n" in text, text
    assert "        return await super().__aenter__()\n" in text and "        return super().__enter__()\n" in text
    result = serve(root, "sqlite", RUN.replace(
        "counted = client.get", 'admin = client.post("/admin/items", params={"name": "ok"}).status_code\n'
        "    counted = client.get"
    ).replace("[created.status_code,", "[admin, created.status_code,"))
    assert result == [200, 200, 200, ["boom"] * 3, {"n": 3}, ["ink", "ok", "pen"]]


FAKE = """
from uow import AbstractUnitOfWork


class FakeUnitOfWork(AbstractUnitOfWork):
    def __init__(self):
        self.committed = False

    def _commit(self):
        self.committed = True

    def rollback(self):
        pass
"""


@pytest.mark.parametrize("where", ["unread test module", "read module"])
def test_near_miss_a_fake_unit_of_work_on_the_base_blocks_naming_it(cli, service, where):
    # In a test module nothing imports, the analysis never reads the fake: the text names it.
    files = {"tests/__init__.py": "", "tests/fakes.py": FAKE, "uow.py": UOW} if where == "unread test module" else {
        "uow.py": UOW + FAKE.replace("from uow import AbstractUnitOfWork\n", "")
    }
    root = service({SUBSYSTEM: routes(*ROUTES), **files})
    document = apply(cli, root)
    expected = (
        "`FakeUnitOfWork` (tests/fakes.py:4) derives from `AbstractUnitOfWork` in a file the analysis did not read"
        if where == "unread test module" else
        "implemented also by FakeUnitOfWork, which does not move with it: the methods of AbstractUnitOfWork that "
        "move would become `async def` under FakeUnitOfWork too"
    )
    # The class's reasons are listed once, at the first route meeting it; the other points there.
    reasons = []
    for name in ("create_item", "create_inline"):
        found = handler(document, name)
        assert found["action"] == "blocked", found
        reasons.extend(found["reasons"])
    assert any(expected in reason for reason in reasons), reasons
    assert "__aenter__" not in read(root, "uow.py")
    assert serve(root, "sqlite", RUN) == [200, 200, ["boom"] * 3, {"n": 2}, ["ink", "pen"]]
