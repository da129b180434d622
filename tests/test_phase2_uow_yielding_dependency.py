"""A dependency that builds a unit of work opening its own Session and yields it (`with
UnitOfWork() as uow: yield uow`) moves with the routes it fills.

Before, phase two blocked those routes (no twin of the dependency existed); a route entering the
unit of work in its own `with UnitOfWork() as uow:` was blocked too. Now, while code that stays
synchronous uses the dependency, it gets an async twin (`async with UnitOfWorkAsync() as uow:
yield uow`, on the parallel class the migrated routes name), the original and the class kept as
they were; used by the migrated routes alone, it moves in place (`async with UnitOfWork() as
uow:`, the construction not awaited). A service method reading an attribute of the same name
on a row (`ItemService.name` returning `self.uow.items.get(id_).name`) moves with it: that read
is no callback of the method. A dependency taking parameters of its own gets no twin: the
routes it fills stay blocked, naming it, their code untouched. The tests serve the result and
read the rows back; the self-check refuses a route whose parameter names the async class while
its dependency gives the synchronous one.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, function, handler, read
from test_phase2_soundness import KINDS, MAIN_TWO, SUBSYSTEM, routes, serve

service = test_phase2_soundness.service

UOW = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


class ItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, item):
        self.session.add(item)

    def names(self):
        return sorted(self.session.scalars(select(Item.name)))

    def get(self, id_):
        return self.session.get(Item, id_)


class UnitOfWork:
    def __init__(self, session_factory=database_sessionmaker):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        self.items = ItemRepository(self.session)
        return self

    def __exit__(self, *args):
        self.session.rollback()
        self.session.close()

    def commit(self):
        self.session.commit()


class ItemService:
    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    def add(self, name):
        self.uow.items.add(Item(name=name, owner_id=1))
        self.uow.commit()
        return self.uow.items.names()

    def name(self, id_):
        return self.uow.items.get(id_).name


{provider}
"""
YIELDING = """
def get_uow():
    with UnitOfWork() as uow:
        yield uow
"""
ROUTES = (
    """
    from typing import Annotated

    from uow import ItemService, UnitOfWork, get_uow
    """,
    """
    @router.post("/items")
    def create_item(name: str, uow: Annotated[UnitOfWork, Depends(get_uow)]):
        return {"names": ItemService(uow).add(name)}


    @router.get("/items/{id_}")
    def read_item(id_: int, uow: Annotated[UnitOfWork, Depends(get_uow)]):
        return {"name": ItemService(uow).name(id_)}
    """,
    """
    @router.post("/raw")
    def create_raw(name: str):
        with UnitOfWork() as uow:
            uow.items.add(Item(name=name, owner_id=1))
            uow.commit()
            return {"names": uow.items.names()}
    """,
)
RUN = """
    created = client.post("/items", params={"name": "pen"})
    raw = client.post("/raw", params={"name": "ink"})
    with Sync() as s:
        stored = sorted(i.name for i in s.scalars(select(Item)))
        pen = s.scalars(select(Item.id).where(Item.name == "pen")).one()
    got = client.get(f"/items/{pen}")
    print(json.dumps([created.status_code, created.json(), raw.status_code, raw.json(), stored, got.json()]))
"""
RESULT = [200, {"names": ["pen"]}, 200, {"names": ["ink", "pen"]}, ["ink", "pen"], {"name": "pen"}]
OTHER = """
from typing import Annotated

from fastapi import APIRouter, Depends

from uow import ItemService, UnitOfWork, get_uow

router = APIRouter()


@router.get("/other/{id_}")
def other_item(id_: int, uow: Annotated[UnitOfWork, Depends(get_uow)]):
    return {"name": ItemService(uow).name(id_)}
"""
OTHER_RUN = RUN.replace("got.json()]))", "got.json(), client.get(f'/other/{pen}').json()]))")


@pytest.mark.parametrize("kind", KINDS)
def test_a_dependency_yielding_a_unit_of_work_gets_an_async_twin_the_migrated_routes_use(cli, service, kind):
    # api/other.py stays synchronous on get_uow: the twin and the parallel classes go beside them.
    root = service({
        SUBSYSTEM: routes(*ROUTES), "uow.py": UOW.replace("{provider}", YIELDING), "api/other.py": OTHER,
        "main.py": MAIN_TWO,
    })
    document = apply(cli, root)
    for name in ("create_item", "read_item", "create_raw"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, "uow.py")
    assert "def get_uow():\n    with UnitOfWork() as uow:\n        yield uow\n" in text, text
    assert "async def get_uow_async():\n    async with UnitOfWorkAsync() as uow:\n        yield uow\n" in text, text
    assert "class UnitOfWork:" in text and "class UnitOfWorkAsync:" in text and "class ItemServiceAsync:" in text, text
    items = read(root, SUBSYSTEM)
    assert "uow: Annotated[UnitOfWorkAsync, Depends(get_uow_async)]" in items, items
    assert "async with UnitOfWorkAsync() as uow:" in items and "await UnitOfWork" not in items + text, items
    assert read(root, "api/other.py") == OTHER.lstrip()
    assert serve(root, kind, OTHER_RUN) == [*RESULT, {"name": "pen"}]


@pytest.mark.parametrize("kind", KINDS)
def test_a_dependency_yielding_a_unit_of_work_only_migrated_routes_use_moves_in_place(cli, service, kind):
    # `ItemService.name` returns `self.uow.items.get(id_).name`, an attribute of the row: the
    # method is named nowhere else, so the service moves in place with the unit of work.
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW.replace("{provider}", YIELDING)})
    document = apply(cli, root)
    for name in ("create_item", "read_item", "create_raw"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, "uow.py")
    assert "async def get_uow():\n    async with UnitOfWork() as uow:\n        yield uow\n" in text, text
    assert "    async def name(self, id_):\n        return (await self.uow.items.get(id_)).name\n" in text, text
    assert "Async" not in text.replace("AsyncSession", "").replace("async_", ""), text
    assert "async with UnitOfWork() as uow:" in read(root, SUBSYSTEM), read(root, SUBSYSTEM)
    assert serve(root, kind, RUN) == RESULT


HOOKS = """
from uow import ItemService


def getter(uow):
    return ItemService(uow).name
"""


def test_near_miss_the_method_read_uncalled_on_its_class_keeps_its_synchronous_original(cli, service):
    # `ItemService(uow).name` hands the method on: its synchronous original stays for that caller.
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW.replace("{provider}", YIELDING), "hooks.py": HOOKS})
    document = apply(cli, root)
    assert handler(document, "read_item")["action"] == "migrate", handler(document, "read_item")
    text = read(root, "uow.py")
    assert "    def name(self, id_):\n        return self.uow.items.get(id_).name\n" in text, text
    assert "        return (await self.uow.items.get(id_)).name\n" in text, text
    assert serve(root, "sqlite", RUN) == RESULT


TENANT = """
def get_uow(tenant: str = Header("main")):
    with UnitOfWork() as uow:
        yield uow
"""
TENANT_UOW = "from fastapi import Header\n" + UOW.replace("{provider}", TENANT)


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_filled_by_a_unit_of_work_dependency_taking_parameters_is_blocked_naming_it(cli, service, kind):
    # Only a dependency taking no parameters gets the twin: this one's routes stay as written.
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": TENANT_UOW})
    before = function(root, SUBSYSTEM, "create_item")
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert (found["action"], found["codes"]) == ("blocked", ["AM239"]), found
    (reason,) = found["reasons"]
    assert "`uow` of api.items.create_item is filled by `get_uow` (uow.py:" in reason, reason
    assert "which yields a UnitOfWork, a class holding the Session, and gets no async twin" in reason, reason
    assert function(root, SUBSYSTEM, "create_item") == before
    assert 'def get_uow(tenant: str = Header("main")):\n    with UnitOfWork() as uow:\n        yield uow\n' in read(
        root, "uow.py"
    )
    # the route entering the unit of work itself moves, on the parallel class
    assert handler(document, "create_raw")["action"] == "migrate", handler(document, "create_raw")
    assert "class UnitOfWorkAsync:" in read(root, "uow.py")
    assert serve(root, kind, RUN) == RESULT


def test_the_self_check_refuses_a_parameter_its_dependency_fills_with_another_class(cli, service, monkeypatch):
    # The plan forgets that `get_uow` keeps yielding the synchronous UnitOfWork: the rewrite names
    # UnitOfWorkAsync in the route's annotation. The self-check reads the annotation against what
    # the dependency gives; the route stays and still writes.
    from async_migrate.codemods.phase2 import unfollowed_holders

    monkeypatch.setattr(unfollowed_holders, "_unmoved_provider", lambda *args: [], raising=False)
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": TENANT_UOW})
    before = function(root, SUBSYSTEM, "create_item")
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert any(
        f"self-check: create_item: `uow` is annotated UnitOfWorkAsync, but its dependency `get_uow` (uow.py:{line}) "
        "yields a UnitOfWork: FastAPI fills the parameter from its dependency" in r
        for r in found["reasons"]
        for line in [TENANT_UOW.splitlines().index('def get_uow(tenant: str = Header("main")):') + 1]
    ), found["reasons"]
    assert function(root, SUBSYSTEM, "create_item") == before
    assert serve(root, "sqlite", RUN) == RESULT


ALIASED = (
    ROUTES[0].replace("from uow import ItemService, UnitOfWork, get_uow", "from uow import ItemService, UoW, UnitOfWork"),
    ROUTES[1].replace("uow: Annotated[UnitOfWork, Depends(get_uow)]", "uow: UoW"),
    ROUTES[2],
)


def test_the_self_check_refuses_handing_the_parameter_to_a_class_declared_for_another(cli, service, monkeypatch):
    # Through an alias the annotation keeps naming the synchronous class; the rewrite hands the
    # parameter to ItemServiceAsync, whose `__init__` takes a UnitOfWorkAsync.
    from async_migrate.codemods.phase2 import unfollowed_holders

    monkeypatch.setattr(unfollowed_holders, "_unmoved_provider", lambda *args: [], raising=False)
    alias = TENANT + "\n\nUoW = Annotated[UnitOfWork, Depends(get_uow)]\n"
    text = "from typing import Annotated\n\nfrom fastapi import Depends, Header\n" + UOW.replace("{provider}", alias)
    root = service({SUBSYSTEM: routes(*ALIASED), "uow.py": text})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert any(
        "self-check: create_item: `uow` is handed to `ItemService" in r
        and "whose parameter `uow` is a UnitOfWorkAsync, but its dependency `get_uow` (uow.py:" in r
        for r in found["reasons"]
    ), found["reasons"]
    assert serve(root, "sqlite", RUN) == RESULT


RETURNING = """
def get_uow():
    return UnitOfWork()
"""


def test_near_miss_a_dependency_returning_the_unit_of_work_gets_its_twin(cli, service):
    # `return UnitOfWork()`, entered where it is used (`with uow:`, then `async with uow:`): the route moves.
    entering = ROUTES[1].replace(
        'return {"names": ItemService(uow).add(name)}', 'with uow:\n            return {"names": ItemService(uow).add(name)}'
    ).replace('return {"name": ItemService(uow).name(id_)}', 'with uow:\n            return {"name": ItemService(uow).name(id_)}')
    root = service({SUBSYSTEM: routes(ROUTES[0], entering, ROUTES[2]), "uow.py": UOW.replace("{provider}", RETURNING)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "async with uow:" in read(root, SUBSYSTEM), read(root, SUBSYSTEM)
    assert serve(root, "sqlite", RUN) == RESULT
