"""Phase two through classes FastAPI builds per request (`Depends(ItemService)`), proved by running.

A service class whose `__init__` receives the Session from `Depends(get_db_session)` is
injected as `svc: ItemService = Depends(ItemService)`, `svc: ItemService = Depends()` or
`Annotated[ItemService, Depends()]`. When only the migrated routes inject it, it moves in
place: its `__init__` gets the async session dependency, its methods become `async def`.
When code that stays synchronous uses it too, the migrated routes inject a parallel async
class, named in the annotation and in `Depends(...)`. Every case is served with TestClient
and the database read back through a separate synchronous session.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects, methods_of
from test_phase2_rules import apply, dedent, handler, helper, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

SERVICE = """
from typing import Annotated


class ItemService:
    \"\"\"Items on the request's Session; FastAPI builds it per request.\"\"\"

    def __init__(self, db: Session = Depends(get_db_session)) -> None:
        self.db = db

    def _owner(self, owner_id: int) -> User:
        owner = self.db.get(User, owner_id)
        if owner is None:
            raise LookupError(owner_id)
        return owner

    def add(self, name: str) -> Item:
        owner = self._owner(1)
        obj = Item(name=name, owner_id=owner.id)
        self.db.add(obj)
        self.db.commit()
        return obj

    def names(self) -> list[str]:
        return list(self.db.scalars(select(Item.name).order_by(Item.id)))
"""
ROUTES = """
@router.post("/items")
def add_item(name: str, svc: ItemService = Depends(ItemService)):
    return {"id": svc.add(name).id}


@router.post("/items/annotated")
async def add_annotated(name: str, svc: Annotated[ItemService, Depends()]):
    return {"id": svc.add(name).id}


@router.post("/items/bare")
def add_bare(name: str, db: session_dependency, svc: ItemService = Depends()):
    made = svc.add(name)
    return {"id": made.id, "count": db.scalar(select(func.count(Item.id)))}


@router.get("/items")
async def item_names(svc: ItemService = Depends(ItemService)):
    return svc.names()
"""
CHECK = """
    ids = [
        client.post("/items", params={"name": "a"}).json(),
        client.post("/items/annotated", params={"name": "b"}).json(),
        client.post("/items/bare", params={"name": "c"}).json(),
    ]
    names = client.get("/items").json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"ids": ids, "names": names, "rows": rows}))
"""
EXPECTED = {
    "ids": [{"id": 1}, {"id": 2}, {"id": 3, "count": 3}], "names": ["a", "b", "c"], "rows": ["a", "b", "c"],
}
ROUTE_NAMES = ("add_item", "add_annotated", "add_bare", "item_names")


@pytest.mark.parametrize("kind", KINDS)
def test_a_class_dependency_used_only_by_migrated_routes_moves_in_place_and_writes(cli, service, kind):
    root = service({SUBSYSTEM: routes(SERVICE, ROUTES)})
    document = apply_objects(cli, root)
    for route in ROUTE_NAMES:
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    for name in ("ItemService.__init__", "ItemService.add", "ItemService._owner", "ItemService.names"):
        assert helper(document, name)["action"] == "migrate", helper(document, name)
    assert methods_of(root, SUBSYSTEM, "ItemService") == {
        "__init__": False, "_owner": True, "add": True, "names": True,
    }
    text = read(root, SUBSYSTEM)
    assert "    def __init__(self, db: AsyncSession = Depends(get_async_db_session)) -> None:" in text
    assert "async def add_item(name: str, svc: ItemService = Depends(ItemService)):" in text
    assert "    return {\"id\": (await svc.add(name)).id}" in text
    assert serve(root, kind, CHECK) == EXPECTED


# ------------------------------------------------------------ shared: the parallel class

ALIAS = """
ServiceDep = Annotated[ItemService, Depends()]
"""
SHARED_ROUTES = ROUTES + """

@router.get("/items/count")
def item_count(svc: ServiceDep):
    return {"count": len(svc.names())}


@router.get("/items/first")
async def first_item(svc=Depends(ItemService)):
    return {"first": svc.names()[0]}
"""
ADMIN = """
from fastapi import APIRouter, Depends

from api.items import ItemService, ServiceDep

router = APIRouter()


@router.post("/admin/items")
def admin_add(name: str, svc: ItemService = Depends(ItemService)):
    return {"id": svc.add(name).id}


@router.get("/admin/count")
def admin_count(svc: ServiceDep):
    return {"count": len(svc.names())}
"""
TWO_ROUTERS = """
from fastapi import FastAPI

from api import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_class_dependency_shared_with_synchronous_routes_gets_a_parallel_class_they_inject(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(SERVICE, ALIAS, SHARED_ROUTES), "api/admin.py": ADMIN, "main.py": TWO_ROUTERS,
    })
    document = apply_objects(cli, root)
    for route in (*ROUTE_NAMES, "item_count", "first_item"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    for name in ("ItemService.__init__", "ItemService.add", "ItemService.names"):
        found = helper(document, name)
        assert (found["action"], found["codes"]) == ("twin", ["AM255"]), found
    assert "api/admin.py:10" in " ".join(helper(document, "ItemService.add")["reasons"])
    assert methods_of(root, SUBSYSTEM, "ItemService") == {
        "__init__": False, "_owner": False, "add": False, "names": False,
    }
    assert methods_of(root, SUBSYSTEM, "ItemServiceAsync") == {
        "__init__": False, "_owner": True, "add": True, "names": True,
    }
    text = read(root, SUBSYSTEM)
    assert "    def __init__(self, db: Session = Depends(get_db_session)) -> None:" in text
    assert "    def __init__(self, db: AsyncSession = Depends(get_async_db_session)) -> None:" in text
    assert "async def add_item(name: str, svc: ItemServiceAsync = Depends(ItemServiceAsync)):" in text
    assert "async def add_annotated(name: str, svc: Annotated[ItemServiceAsync, Depends()]):" in text
    assert "svc: ItemServiceAsync = Depends()):" in text
    assert "async def first_item(svc=Depends(ItemServiceAsync)):" in text
    assert "ServiceDep_async = Annotated[ItemServiceAsync, Depends()]" in text
    assert "async def item_count(svc: ServiceDep_async):" in text
    admin = read(root, "api/admin.py")
    assert "def admin_add(name: str, svc: ItemService = Depends(ItemService)):" in admin
    assert "def admin_count(svc: ServiceDep):" in admin
    result = serve(root, kind, CHECK.replace("    print(", """    admin = [
        client.post("/admin/items", params={"name": "d"}).json(),
        client.get("/admin/count").json(),
        client.get("/items/count").json(),
        client.get("/items/first").json(),
    ]
    print(""").replace('"rows": rows}', '"rows": rows, "admin": admin}'))
    assert result == {
        "ids": EXPECTED["ids"], "names": ["a", "b", "c"], "rows": ["a", "b", "c"],
        "admin": [{"id": 4}, {"count": 4}, {"count": 4}, {"first": "a"}],
    }


# ------------------------------------------------ annotations follow the parallel class

REPO = """
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Sequence


class ItemRepo:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, name: str) -> Item:
        obj = Item(name=name, owner_id=1)
        self.db.add(obj)
        self.db.commit()
        return obj

    def names(self) -> "Sequence[str]":
        return list(self.db.scalars(select(Item.name).order_by(Item.id)))


def get_repo(db: Session = Depends(get_db_session)) -> ItemRepo:
    return ItemRepo(db)


def label(repo: "ItemRepo", name: str) -> str:
    return f"{type(repo).__name__}:{name}"


def _store(repo: "ItemRepo | None", name: str) -> Item:
    assert repo is not None
    return repo.add(name)
"""
REPO_ROUTES = """
@router.post("/items")
def add_item(name: str, repo: ItemRepo = Depends(get_repo)):
    same: ItemRepo = repo
    made = _store(same, name)
    assert isinstance(made, Item) and isinstance(repo, cast(type, ItemRepo))
    return {"id": made.id, "label": label(repo, name), "names": repo.names()}
"""
REPO_ADMIN = """
from fastapi import APIRouter, Depends

from api.items import ItemRepo, get_repo

router = APIRouter()


@router.get("/admin/names")
def admin_names(repo: ItemRepo = Depends(get_repo)):
    return repo.names()
"""


@pytest.mark.parametrize("kind", KINDS)
def test_annotations_of_routes_and_helpers_name_the_parallel_class_they_receive(cli, service, kind):
    root = service({SUBSYSTEM: routes(REPO, REPO_ROUTES), "api/admin.py": REPO_ADMIN, "main.py": TWO_ROUTERS})
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert helper(document, "ItemRepo.add")["codes"] == ["AM255"]
    text = read(root, SUBSYSTEM)
    assert "async def add_item(name: str, repo: ItemRepoAsync = Depends(get_repo_async)):" in text
    assert "    same: ItemRepoAsync = repo" in text
    assert "isinstance(repo, cast(type, ItemRepoAsync))" in text
    assert 'async def _store(repo: "ItemRepoAsync | None", name: str) -> Item:' in text
    # `label` does no Session work and stays synchronous; the migrated route alone calls it.
    assert 'def label(repo: "ItemRepoAsync", name: str) -> str:' in text
    assert "def admin_names(repo: ItemRepo = Depends(get_repo)):" in read(root, "api/admin.py")
    result = serve(root, kind, """
        made = client.post("/items", params={"name": "a"}).json()
        admin = client.get("/admin/names").json()
        with Sync() as s:
            rows = list(s.scalars(select(Item.name)))
        print(json.dumps({"made": made, "admin": admin, "rows": rows}))
    """)
    assert result == {"made": {"id": 1, "label": "ItemRepoAsync:a", "names": ["a"]}, "admin": ["a"], "rows": ["a"]}


# ------------------------- a class dependency receiving what shares the Session

LAYERED = """
class ItemRepo:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, name: str, owner_id: int) -> Item:
        obj = Item(name=name, owner_id=owner_id)
        self.db.add(obj)
        self.db.commit()
        return obj


def get_repo(db: Session = Depends(get_db_session)) -> ItemRepo:
    return ItemRepo(db)


def get_owner(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 2)


class ItemService:
    \"\"\"Built by FastAPI from other dependencies; holds no Session itself.\"\"\"

    def __init__(self, repo: ItemRepo = Depends(get_repo), owner: User = Depends(get_owner)) -> None:
        self.repo = repo
        self.owner = owner

    def create(self, name: str) -> Item:
        self.owner.name = self.owner.name + "+"  # saved by the repository's commit: one Session
        return self.repo.add(name, self.owner.id)
"""
LAYERED_ROUTES = """
@router.post("/items")
def add_item(name: str, svc: ItemService = Depends()):
    return {"id": svc.create(name).id}
"""
LAYERED_ADMIN = """
from fastapi import APIRouter, Depends

from api.items import ItemService

router = APIRouter()


@router.post("/admin/items")
def admin_add(name: str, svc: ItemService = Depends()):
    return {"id": svc.create(name).id}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_class_dependency_built_from_dependencies_sharing_the_session_moves_in_place(cli, service, kind):
    root = service({SUBSYSTEM: routes(LAYERED, LAYERED_ROUTES)})
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert helper(document, "ItemService.__init__")["codes"] == ["AM226"]
    text = read(root, SUBSYSTEM)
    # get_repo is injected by the class alone, which only the migrated route injects: both move in place.
    assert (
        "    def __init__(self, repo: ItemRepo = Depends(get_repo), owner: User = Depends(get_owner_async)) -> None:"
    ) in text
    assert "async def get_repo(db: AsyncSession = Depends(get_async_db_session)) -> ItemRepo:" in text
    assert "    def __init__(self, db: AsyncSession) -> None:" in text
    assert "        return await self.repo.add(name, self.owner.id)" in text
    result = serve(root, kind, """
        made = client.post("/items", params={"name": "a"}).json()
        with Sync() as s:
            rows = [(i.name, i.owner_id) for i in s.scalars(select(Item))]
            owner = s.get(User, 2).name
        print(json.dumps({"made": made, "rows": rows, "owner": owner}))
    """)
    assert result == {"made": {"id": 1}, "rows": [["a", 2]], "owner": "Bob+"}


def test_near_miss_a_class_dependency_also_injected_by_synchronous_routes_blocks_naming_them(cli, service):
    root = service({
        SUBSYSTEM: routes(LAYERED, LAYERED_ROUTES), "api/admin.py": LAYERED_ADMIN, "main.py": TWO_ROUTERS,
    })
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply_objects(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM219" in found["codes"], found
    assert (
        "the class dependency api.items.ItemService receives a dependency sharing the Session in its `__init__`, "
        "and is also injected where the code stays synchronous (api/admin.py:9)"
    ) in " | ".join(found["reasons"])
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    result = serve(root, "sqlite", """
        made = [client.post("/items", params={"name": "a"}).json(), client.post("/admin/items", params={"name": "b"}).json()]
        with Sync() as s:
            rows = list(s.scalars(select(Item.name)))
        print(json.dumps({"made": made, "rows": rows}))
    """)
    assert result == {"made": [{"id": 1}, {"id": 2}], "rows": ["a", "b"]}


@pytest.mark.parametrize("kind", KINDS)
def test_a_parallel_class_calls_its_own_twinned_methods_by_their_names(cli, service, kind):
    # The service lives outside the subsystem, and a route that stays synchronous uses it:
    # it gets a parallel async class, in which `name_of` calls `self.get_or_404()`. The method
    # keeps its name in the copy, so the call must too (not `self.get_or_404_async()`).
    module = dedent("""
        from fastapi import Depends
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from db.engine import get_db_session
        from models import Item


        class ItemRepo:
            def __init__(self, session: Session) -> None:
                self.session = session

            def get(self, ident: int) -> Item | None:
                return self.session.get(Item, ident)


        class ItemService:
            def __init__(self, db: Session = Depends(get_db_session)) -> None:
                self.db = db
                self.items = ItemRepo(db)

            def get_or_404(self, item_id: int) -> Item:
                item = self.items.get(item_id)
                if item is None:
                    raise LookupError(item_id)
                return item

            def name_of(self, item_id: int) -> str:
                item = self.get_or_404(item_id)
                self.db.refresh(item)
                return item.name
    """)
    items = routes(
        "from services.items import ItemService",
        """
        @router.get("/items/{item_id}/name")
        async def item_name(item_id: int, svc: ItemService = Depends(ItemService)):
            return {"name": svc.name_of(item_id)}


        @router.post("/items/touch")
        def touch(svc: ItemService = Depends(ItemService)):
            svc.db.commit()
            return {"ok": True}
        """,
    )
    root = service({SUBSYSTEM: items, "services/__init__.py": "", "services/items.py": module})
    document = apply_objects(cli, root)
    assert handler(document, "item_name")["action"] == "migrate", handler(document, "item_name")
    text = read(root, "services/items.py")
    assert "        item = await self.get_or_404(item_id)" in text
    assert "get_or_404_async" not in text
    result = serve(root, kind, """
        with Sync() as s:
            s.add_all([Item(name="a", owner_id=1), Item(name="b", owner_id=2)])
            s.commit()
        print(json.dumps(client.get("/items/2/name").json()))
    """)
    assert result == {"name": "b"}


def test_a_method_reading_an_object_after_committing_its_held_session_refreshes_it(cli, service):
    # The reused async stack expires objects on commit (expire_on_commit=True): `item.name` after
    # `self.db.commit()` would raise MissingGreenlet, as a read after `db.commit()` would.
    from test_phase2_soundness_stack import existing_async

    module = dedent("""
        from fastapi import Depends
        from sqlalchemy.orm import Session

        from db.engine import get_db_session
        from models import Item


        class ItemService:
            def __init__(self, db: Session = Depends(get_db_session)) -> None:
                self.db = db

            def rename(self, item_id: int, name: str) -> str:
                item = self.db.get(Item, item_id)
                item.name = name
                self.db.commit()
                return item.name
    """)
    items = routes(
        "from services.items import ItemService",
        """
        @router.put("/items/{item_id}")
        async def rename_item(item_id: int, name: str, svc: ItemService = Depends(ItemService)):
            return {"name": svc.rename(item_id, name)}


        @router.post("/items/touch")
        def touch(svc: ItemService = Depends(ItemService)):
            svc.db.commit()
            return {"ok": True}
        """,
    )
    root = service({
        SUBSYSTEM: items, "services/__init__.py": "", "services/items.py": module,
        "db/engine.py": existing_async(
            "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])", maker="async_sessionmaker(async_engine)"
        ),
    })
    document = apply_objects(cli, root)
    assert handler(document, "rename_item")["action"] == "migrate", handler(document, "rename_item")
    assert "        await self.db.commit()\n        if item is not None:\n            await self.db.refresh(item)\n" in read(
        root, "services/items.py"
    ), read(root, "services/items.py")
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(name="a", owner_id=1))
            s.commit()
        print(json.dumps(client.put("/items/1", params={"name": "b"}).json()))
    """)
    assert result == {"name": "b"}


def _held_service(method: str) -> dict[str, str]:
    import textwrap

    module = dedent('''
        from fastapi import Depends
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from db.engine import get_db_session
        from models import Item


        class ItemService:
            def __init__(self, db: Session = Depends(get_db_session)) -> None:
                self.db = db

            def lookup(self, item_id: int):
                return self.db.get(Item, item_id)
    ''') + "\n" + textwrap.indent(dedent(method), "    ")
    items = routes(
        "from services.items import ItemService",
        """
        @router.put("/items/{item_id}")
        async def rename_item(item_id: int, name: str, svc: ItemService = Depends(ItemService)):
            return svc.rename(item_id, name)
        """,
    )
    from test_phase2_soundness_stack import existing_async

    return {
        SUBSYSTEM: items, "services/__init__.py": "", "services/items.py": module,
        # a reused async stack that expires objects on commit
        "db/engine.py": existing_async(
            "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])", maker="async_sessionmaker(async_engine)"
        ),
    }


def test_near_miss_a_method_reading_nothing_loaded_after_its_commit_is_left_as_it_is(cli, service):
    root = service(_held_service('''
            def rename(self, item_id: int, name: str) -> dict:
                self.db.get(Item, item_id).name = name
                self.db.commit()
                return {"id": item_id}
    '''))
    document = apply_objects(cli, root)
    assert handler(document, "rename_item")["action"] == "migrate", handler(document, "rename_item")
    assert "refresh" not in read(root, "services/items.py")


def test_a_method_reading_what_another_method_loaded_after_its_commit_blocks(cli, service):
    # `self.lookup(...)` may return an object of the Session: read after the commit, it is expired
    # (MissingGreenlet), and phase two does not refresh what it cannot tell is one object.
    root = service(_held_service('''
            def rename(self, item_id: int, name: str) -> str:
                item = self.lookup(item_id)
                item.name = name
                self.db.commit()
                return item.name
    '''))
    document = apply_objects(cli, root)
    found = handler(document, "rename_item")
    assert found["action"] == "blocked" and "AM248" in found["codes"], found
    assert "self.db.refresh(item)" in " ".join(found["reasons"])


def test_a_method_reading_a_list_its_held_session_queried_after_its_commit_blocks(cli, service):
    # `execute(...).scalars().all()` is a list of objects (its last call says so, not its first).
    root = service(_held_service('''
            def rename(self, item_id: int, name: str):
                items = self.db.execute(select(Item)).scalars().all()
                self.db.get(Item, item_id).name = name
                self.db.commit()
                return items
    '''))
    document = apply_objects(cli, root)
    found = handler(document, "rename_item")
    assert found["action"] == "blocked" and "AM248" in found["codes"], found


# `ItemRepoDep = Annotated[ItemRepo, Depends()]` where ItemRepo inherits its `__init__` (and the
# Session it keeps) from a generic base: the alias's twin names ItemRepo's parallel class.
GENERIC_REPO = """
from typing import Annotated, Generic, TypeVar

T = TypeVar("T")


class BaseRepo(Generic[T]):
    model: type

    def __init__(self, session: Session = Depends(get_db_session)) -> None:
        self.session = session

    def add(self, name: str) -> int:
        obj = self.model(name=name, owner_id=1)
        self.session.add(obj)
        self.session.commit()
        return obj.id


class ItemRepo(BaseRepo[Item]):
    model = Item


ItemRepoDep = Annotated[ItemRepo, Depends()]


@router.post("/items")
async def add_item(name: str, repo: ItemRepoDep):
    return {"id": repo.add(name)}
"""


GENERIC_ADMIN = """
from fastapi import APIRouter

from api.items import ItemRepoDep

router = APIRouter(prefix="/admin")


@router.post("/items")
def admin_add(name: str, repo: ItemRepoDep):
    return {"id": repo.add(name)}
"""


# One item added through each router, and the rows both wrote.
BOTH_ROUTERS_ADD = """
ids = [client.post("/items", params={"name": "a"}).json(), client.post("/admin/items", params={"name": "b"}).json()]
with Sync() as s:
    rows = list(s.scalars(select(Item.name).order_by(Item.id)))
print(json.dumps({"ids": ids, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_alias_of_a_subclass_inheriting_the_held_session_names_its_parallel_class(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(GENERIC_REPO),
        # A synchronous route elsewhere injects the class too: it gets parallel async classes.
        "api/admin.py": dedent(GENERIC_ADMIN),
        "main.py": TWO_ROUTERS,
    })
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert "ItemRepoDep_async = Annotated[ItemRepoAsync, Depends()]" in read(root, SUBSYSTEM)
    result = serve(root, kind, BOTH_ROUTERS_ADD)
    assert result == {"ids": [{"id": 1}, {"id": 2}], "rows": ["a", "b"]}


def test_a_later_subsystem_reuses_the_alias_twin_of_a_class_dependency(cli, service):
    root = service({SUBSYSTEM: routes(GENERIC_REPO), "api/admin.py": dedent(GENERIC_ADMIN), "main.py": TWO_ROUTERS})
    assert handler(apply_objects(cli, root), "add_item")["action"] == "migrate"
    document = apply(cli, root, "--jobs", "1", subsystem="api/admin.py")
    assert handler(document, "admin_add")["action"] == "migrate", handler(document, "admin_add")
    text = read(root, SUBSYSTEM)
    assert text.count("ItemRepoDep_async = Annotated[ItemRepoAsync, Depends()]") == 1, text
    assert "_async_2" not in text, text
    assert "async def admin_add(name: str, repo: ItemRepoDep_async):" in read(root, "api/admin.py")
    result = serve(root, "sqlite", BOTH_ROUTERS_ADD)
    assert result == {"ids": [{"id": 1}, {"id": 2}], "rows": ["a", "b"]}


# `Annotated[Repo[Item], Depends(get_repo)]`: a parametrised generic repository a dependency
# builds, shared with a synchronous route elsewhere; the alias's twin names the parallel class
# with the same parameters, as the dependency's twin returns it.
PARAMETRISED_REPO = """
from typing import Annotated, Generic, TypeVar

T = TypeVar("T")


class Repo(Generic[T]):
    def __init__(self, session: Session, model: type[T]) -> None:
        self.session = session
        self.model = model

    def add(self, name: str) -> int:
        obj = self.model(name=name, owner_id=1)
        self.session.add(obj)
        self.session.commit()
        return obj.id


def get_repo(session: Session = Depends(get_db_session)) -> Repo[Item]:
    return Repo(session, Item)


ItemRepoDep = Annotated[Repo[Item], Depends(get_repo)]


@router.post("/items")
async def add_item(name: str, repo: ItemRepoDep):
    return {"id": repo.add(name)}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_alias_of_a_parametrised_generic_class_names_its_parallel_class(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(PARAMETRISED_REPO),
        "api/admin.py": dedent(GENERIC_ADMIN),
        "main.py": TWO_ROUTERS,
    })
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    text = read(root, SUBSYSTEM)
    assert "ItemRepoDep_async = Annotated[RepoAsync[Item], Depends(get_repo_async)]" in text, text
    assert "ItemRepoDep = Annotated[Repo[Item], Depends(get_repo)]" in text, text
    result = serve(root, kind, BOTH_ROUTERS_ADD)
    assert result == {"ids": [{"id": 1}, {"id": 2}], "rows": ["a", "b"]}
