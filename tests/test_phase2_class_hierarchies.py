"""Phase two through class hierarchies holding the Session, proved by running.

A repository base class keeps the request's Session (`self.session = session`) and its
project subclasses read it, add methods and override the base's (`super().add(obj)`). The
hierarchy moves as one: in place when only the migrated code uses it, or as parallel async
classes (`UserRepoAsync(BaseRepoAsync[User])`) when code that stays synchronous uses any of
its classes. A base class the tool cannot see into blocks, naming it. Each case is served
with TestClient and the database read back through a separate synchronous session.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects, methods_of
from test_phase2_rules import apply, handler, helper, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

REPOS = """
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Base, Item, User

ModelT = TypeVar("ModelT", bound=Base)


class BaseRepo(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, id: int) -> ModelT | None:
        return self.session.get(self.model, id)

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        self.session.flush()
        return obj

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self.model))

    def save(self) -> None:
        self.session.commit()


class UserRepo(BaseRepo[User]):
    model = User

    def by_name(self, name: str) -> User | None:
        return self.session.scalars(select(User).where(User.name == name)).first()


class ItemRepo(BaseRepo[Item]):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.model = Item

    def add(self, obj: Item) -> Item:
        obj.name = obj.name.strip()
        return super().add(obj)

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name).order_by(Item.id)))
"""
ROUTES = """
from repos import ItemRepo, UserRepo


def get_items(db: Session = Depends(get_db_session)) -> ItemRepo:
    return ItemRepo(db)


@router.post("/items")
def add_item(name: str, owner: str, db: session_dependency):
    users = UserRepo(db)
    items = ItemRepo(db)
    found = users.by_name(owner)
    made = items.add(Item(name=name, owner_id=found.id))
    items.save()
    return {"id": made.id, "count": items.count(), "owner": users.get(found.id).name}


@router.get("/items")
def item_names(repo: ItemRepo = Depends(get_items)):
    return repo.names()
"""
CHECK = """
    made = [
        client.post("/items", params={"name": " a ", "owner": "Ann"}).json(),
        client.post("/items", params={"name": "b", "owner": "Bob"}).json(),
    ]
    names = client.get("/items").json()
    with Sync() as s:
        rows = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
    print(json.dumps({"made": made, "names": names, "rows": rows}))
"""
EXPECTED = {
    "made": [{"id": 1, "count": 1, "owner": "Ann"}, {"id": 2, "count": 2, "owner": "Bob"}],
    "names": ["a", "b"],
    "rows": [["a", 1], ["b", 2]],
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_hierarchy_holding_the_session_moves_in_place_and_writes(cli, service, kind):
    root = service({"repos.py": REPOS, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    for name in ("BaseRepo.get", "BaseRepo.add", "BaseRepo.save", "UserRepo.by_name", "ItemRepo.add",
                 "ItemRepo.names", "ItemRepo.__init__"):
        found = helper(document, name)
        assert (found["action"], found["codes"]) == ("migrate", ["AM252"]), found
    assert methods_of(root, "repos.py", "BaseRepo") == {
        "__init__": False, "get": True, "add": True, "count": True, "save": True,
    }
    assert methods_of(root, "repos.py", "ItemRepo") == {"__init__": False, "add": True, "names": True}
    text = read(root, "repos.py")
    assert "    def __init__(self, session: AsyncSession) -> None:\n        super().__init__(session)" in text
    assert "        return await super().add(obj)" in text
    assert "        return (await self.session.scalars(select(User).where(User.name == name))).first()" in text
    assert serve(root, kind, CHECK) == EXPECTED


ADMIN = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from repos import UserRepo

router = APIRouter()


@router.get("/admin/users/{name}")
def admin_user(name: str, db: Session = Depends(get_db_session)):
    return {"id": UserRepo(db).by_name(name).id}
"""
TWO_ROUTERS = """
from fastapi import FastAPI

from api import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_hierarchy_shared_with_synchronous_code_gets_parallel_classes_deriving_from_each_other(
    cli, service, kind
):
    repos = REPOS.replace("class UserRepo(BaseRepo[User]):\n    model = User\n\n", "class Marker(BaseRepo[User]):\n    model = User\n\n\nclass UserRepo(BaseRepo[User]):\n    model = User\n\n")
    root = service({"repos.py": repos, SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN, "main.py": TWO_ROUTERS})
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    for name in ("BaseRepo.get", "UserRepo.by_name", "ItemRepo.add", "ItemRepo.__init__"):
        found = helper(document, name)
        assert (found["action"], found["codes"]) == ("twin", ["AM255"]), found
    assert "api/admin.py:12 (api.admin.admin_user)" in " ".join(helper(document, "UserRepo.by_name")["reasons"])
    text = read(root, "repos.py")
    # The synchronous classes stay; each parallel class derives from its base's parallel class.
    assert methods_of(root, "repos.py", "BaseRepo")["get"] is False
    assert methods_of(root, "repos.py", "BaseRepoAsync")["get"] is True
    assert "class UserRepoAsync(BaseRepoAsync[User]):" in text
    assert "class ItemRepoAsync(BaseRepoAsync[Item]):" in text
    assert "MarkerAsync" not in text  # a family member no migrated code uses gets no copy
    assert methods_of(root, "repos.py", "ItemRepoAsync") == {"__init__": False, "add": True, "names": True}
    items = read(root, SUBSYSTEM)
    assert "from repos import ItemRepoAsync, UserRepoAsync" in items
    assert "async def get_items_async(db: AsyncSession = Depends(get_async_db_session)) -> ItemRepoAsync:" in items
    assert "    users = UserRepoAsync(db)" in items
    assert "return {\"id\": UserRepo(db).by_name(name).id}" in read(root, "api/admin.py")
    result = serve(root, kind, CHECK.replace("    print(", "    admin = client.get('/admin/users/Bob').json()\n    print(").replace(
        '"rows": rows}', '"rows": rows, "admin": admin}'
    ))
    assert result == {**EXPECTED, "admin": {"id": 2}}


# ------------------------------------------------------------------ near misses

OUTSIDE = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from external_repos import SQLAlchemyRepository
from models import Item


class ItemRepo(SQLAlchemyRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name).order_by(Item.id)))
"""


def test_near_miss_a_base_class_outside_path_blocks_naming_it_and_the_code_still_runs(cli, service):
    # The base comes from an installed library: a directory the tool never reads as the project's.
    vendored = "import sys\nfrom pathlib import Path\n\nsys.path.append(str(Path(__file__).parent / 'site-packages'))\n"
    root = service({
        "main.py": vendored + test_phase2_soundness.MAIN,
        "site-packages/external_repos.py": "class SQLAlchemyRepository:\n    pass\n",
        "repos.py": OUTSIDE,
        SUBSYSTEM: routes("""
            from repos import ItemRepo


            @router.get("/items")
            def item_names(db: session_dependency):
                return ItemRepo(db).names()
        """),
    })
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply_objects(cli, root)
    found = handler(document, "item_names")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    reasons = " | ".join(found["reasons"])
    assert "repos.py:8: the route uses ItemRepo, which cannot move as a class" in reasons, reasons
    assert "`external_repos.SQLAlchemyRepository`, which the tool cannot see into" in reasons, reasons
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(name="x", owner_id=1))
            s.commit()
        print(json.dumps(client.get("/items").json()))
    """)
    assert result == ["x"]


EXTERNAL_CRUD = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from external_crud import CRUDBase
from models import Item


class CRUDItem(CRUDBase):
    def names(self, db: Session) -> list[str]:
        return list(db.scalars(select(Item.name).order_by(Item.id)))

    def first(self, db: Session) -> Item | None:
        return self.get(db, 1)


item = CRUDItem(Item)
"""
EXTERNAL_BASE = """
class CRUDBase:
    def __init__(self, model):
        self.model = model

    def get(self, db, id):
        return db.get(self.model, id)
"""
EXTERNAL_ROUTES = """
import crud


@router.get("/items/names")
def names(db: session_dependency):
    return crud.item.names(db)


@router.get("/items/first")
def first(db: session_dependency):
    return {"id": crud.item.first(db).id}


@router.get("/items/{id}")
def one(id: int, db: session_dependency):
    return {"id": crud.item.get(db, id).id}
"""


def test_near_miss_crud_methods_inherited_from_a_base_outside_path_block_naming_it(cli, service):
    vendored = "import sys\nfrom pathlib import Path\n\nsys.path.append(str(Path(__file__).parent / 'site-packages'))\n"
    root = service({
        "main.py": vendored + test_phase2_soundness.MAIN,
        "site-packages/external_crud.py": EXTERNAL_BASE,
        "crud.py": EXTERNAL_CRUD,
        SUBSYSTEM: routes(EXTERNAL_ROUTES),
    })
    document = apply_objects(cli, root)
    for route, line in (("first", "crud.py:13"), ("one", "api/items.py:27")):
        found = handler(document, route)
        assert found["action"] == "blocked" and found["codes"] == ["AM215"], found
        assert f"{line}: passes the Session to `" in found["reasons"][0]
        assert "which CRUDItem inherits from `external_crud.CRUDBase`: a base outside PATH" in found["reasons"][0]
    # The method the route needs is the project's own; the base may call it, so it keeps its
    # synchronous original and the route uses an async twin.
    assert handler(document, "names")["action"] == "migrate"
    assert helper(document, "CRUDItem.names")["action"] == "twin"
    assert "(its class inherits from `external_crud.CRUDBase`, outside PATH)" in (
        " ".join(helper(document, "CRUDItem.names")["reasons"])
    )
    assert methods_of(root, "crud.py", "CRUDItem") == {"names": False, "names_async": True, "first": False}
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(name="x", owner_id=1), Item(name="y", owner_id=2)])
            s.commit()
        got = [client.get(p).json() for p in ("/items/names", "/items/first", "/items/2")]
        print(json.dumps(got))
    """)
    assert result == [["x", "y"], {"id": 1}, {"id": 2}]


def test_a_later_subsystem_reuses_the_parallel_classes_an_earlier_run_added(cli, service):
    root = service({"repos.py": REPOS, SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN, "main.py": TWO_ROUTERS})
    apply_objects(cli, root)
    written = read(root, "repos.py")
    document = apply(cli, root, "--jobs", "1", subsystem="api/admin.py")
    assert handler(document, "admin_user")["action"] == "migrate", handler(document, "admin_user")
    assert read(root, "repos.py") == written  # no `UserRepoAsync2`, no second copy
    assert "    return {\"id\": (await UserRepoAsync(db).by_name(name)).id}" in read(root, "api/admin.py")
    result = serve(root, "sqlite", CHECK.replace("    print(", "    admin = client.get('/admin/users/Bob').json()\n    print(").replace(
        '"rows": rows}', '"rows": rows, "admin": admin}'
    ))
    assert result == {**EXPECTED, "admin": {"id": 2}}


INJECTED_REPOS = REPOS.replace(
    "    def __init__(self, session: Session) -> None:\n        self.session = session",
    "    def __init__(self, session: Session = Depends(get_db_session)) -> None:\n        self.session = session",
).replace(
    "from models import Base, Item, User",
    "from fastapi import Depends\n\nfrom db.engine import get_db_session\nfrom models import Base, Item, User",
)
INJECTED_ROUTES = """
from repos import UserRepo


@router.put("/users/{name}")
def rename_user(name: str, new: str, users: UserRepo = Depends()):
    found = users.by_name(name)
    found.name = new
    users.save()
    return {"id": found.id}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_subclass_injected_as_a_dependency_moves_with_the_base_init_it_inherits(cli, service, kind):
    root = service({"repos.py": INJECTED_REPOS, SUBSYSTEM: routes(INJECTED_ROUTES)})
    document = apply_objects(cli, root)
    assert handler(document, "rename_user")["action"] == "migrate", handler(document, "rename_user")
    text = read(root, "repos.py")
    assert "    def __init__(self, session: AsyncSession = Depends(get_async_db_session)) -> None:" in text
    assert methods_of(root, "repos.py", "UserRepo") == {"by_name": True}
    result = serve(root, kind, """
        renamed = client.put("/users/Bob", params={"new": "Rob"}).json()
        with Sync() as s:
            name = s.get(User, 2).name
        print(json.dumps({"renamed": renamed, "name": name}))
    """)
    assert result == {"renamed": {"id": 2}, "name": "Rob"}


GENERIC_CRUD = """
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Base, Item, User

ModelT = TypeVar("ModelT", bound=Base)
CreateT = TypeVar("CreateT", bound=BaseModel)


class ItemIn(BaseModel):
    name: str
    owner_id: int


class CRUDBase(Generic[ModelT, CreateT]):
    def __init__(self, model: type[ModelT]) -> None:
        self.model = model

    def get(self, db: Session, id: Any) -> ModelT | None:
        return db.get(self.model, id)

    def create(self, db: Session, *, obj_in: CreateT) -> ModelT:
        obj = self.model(**obj_in.model_dump())
        db.add(obj)
        db.commit()
        return obj

    def names(self, db: Session) -> list[str]:
        return [o.name for o in db.scalars(select(self.model).order_by(self.model.id))]


item = CRUDBase[Item, ItemIn](Item)
user = CRUDBase[User, BaseModel](User)
HANDLERS = {"item": CRUDBase}
"""
GENERIC_ROUTES = """
import crud


@router.post("/items")
def add_item(name: str, owner: int, db: session_dependency):
    made = crud.item.create(db, obj_in=crud.ItemIn(name=name, owner_id=owner))
    return {"id": made.id, "owner": crud.user.get(db, owner).name}


@router.get("/items")
def item_names(db: session_dependency):
    return crud.item.names(db)
"""
GENERIC_CHECK = """
    made = client.post("/items", params={"name": "a", "owner": 2}).json()
    names = client.get("/items").json()
    with Sync() as s:
        rows = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
    print(json.dumps({"made": made, "names": names, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_instance_of_a_parametrised_generic_class_moves_with_its_methods(cli, service, kind):
    # `CRUDBase[Item, ItemIn](Item)` builds a CRUDBase: its methods move as those of
    # `CRUDBase(Item)` do, where the routes were blocked as passing the Session to an unknown call.
    root = service({"crud.py": GENERIC_CRUD, SUBSYSTEM: routes(GENERIC_ROUTES)})
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert methods_of(root, "crud.py", "CRUDBase") == {"__init__": False, "get": True, "create": True, "names": True}
    assert serve(root, kind, GENERIC_CHECK) == {"made": {"id": 1, "owner": "Bob"}, "names": ["a"], "rows": [["a", 2]]}


def test_near_miss_a_call_of_what_a_display_holds_is_no_parametrised_class(cli, service):
    # `HANDLERS[kind](...)` calls what the dict holds, never the dict: the value stays unread.
    from async_migrate.codemods.astcollect import collect

    facts = collect("crud.py", GENERIC_CRUD + "made = HANDLERS[Item](Item)\nraw = Box[0](Item)\n", "crud")
    assert facts.values["item"].ref == "crud.CRUDBase"
    assert facts.values["made"].ref is None
    assert facts.values["raw"].ref is None


# A repository base generic over the session type, each subclass binding it (`Repository[Session]`):
# the class moving to AsyncSession binds it to AsyncSession, in place or in its parallel copy, so
# what it declares is what it holds (and `check` reads the moved class as on the AsyncSession).
SESSION_GENERIC = """
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from models import User

SessionT = TypeVar("SessionT", Session, AsyncSession)


class Repository(Generic[SessionT]):
    def __init__(self, session: SessionT) -> None:
        self.session = session


class UserRepo(Repository[Session]):
    def by_name(self, name: str) -> User | None:
        return self.session.scalars(select(User).where(User.name == name)).first()
"""
SESSION_GENERIC_ROUTES = """
from repos import UserRepo


@router.get("/users/{name}")
def user_id(name: str, db: session_dependency):
    return {"id": UserRepo(db).by_name(name).id}
"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shared", [False, True], ids=["in-place", "parallel"])
def test_a_subclass_binding_a_session_generic_base_binds_it_to_async_session_when_it_moves(
    cli, service, kind, shared
):
    extra = {"api/admin.py": ADMIN, "main.py": TWO_ROUTERS} if shared else {}
    root = service({"repos.py": SESSION_GENERIC, SUBSYSTEM: routes(SESSION_GENERIC_ROUTES), **extra})
    assert handler(apply_objects(cli, root), "user_id")["action"] == "migrate"
    text = read(root, "repos.py")
    if shared:
        assert "class UserRepo(Repository[Session]):" in text
        assert "class UserRepoAsync(Repository[AsyncSession]):" in text, text  # no copy of the base
        assert "RepositoryAsync" not in text, text
    else:
        assert "class UserRepo(Repository[AsyncSession]):" in text, text
    assert [f["code"] for f in cli.json("check", root)["findings"]] == [], text
    script = """
        found = client.get("/users/Bob").json()
        print(json.dumps({"found": found, "admin": client.get("/admin/users/Ann").json() if SHARED else None}))
    """.replace("SHARED", str(shared))
    assert serve(root, kind, script) == {"found": {"id": 2}, "admin": {"id": 1} if shared else None}


# Repositories picked from a dict by kind, each inheriting its base's `__init__`: the call through
# the dict runs that `__init__` (followed now), yet nothing points the table or the methods called on
# what it builds at async code, so the route blocks naming the table, and still runs as it was.
DISPATCHED = """
@router.post("/{kind}/{id}")
def add_named(kind: str, id: int, name: str, db: session_dependency):
    repo = REPOS[kind](db)
    repo.add(Item(name=name, owner_id=id) if kind == "item" else User(id=id, name=name))
    repo.save()
    return {"count": repo.count()}
"""
DISPATCHED_REPOS = REPOS + """

class PlainItemRepo(BaseRepo[Item]):
    model = Item


REPOS = {"user": UserRepo, "item": PlainItemRepo}
"""
DISPATCHED_CHECK = """
    made = [
        client.post("/user/3", params={"name": "Cid"}).json(),
        client.post("/item/3", params={"name": "c"}).json(),
    ]
    with Sync() as s:
        rows = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
        users = sorted(u.name for u in s.scalars(select(User)))
    print(json.dumps({"made": made, "rows": rows, "users": users}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_repositories_dispatched_from_a_dict_inheriting_their_init_block_naming_the_table(cli, service, kind):
    root = service({"repos.py": DISPATCHED_REPOS, SUBSYSTEM: routes(DISPATCHED.replace("\n@", "\nfrom repos import REPOS\n\n\n@", 1))})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply_objects(cli, root)
    found = handler(document, "add_named")
    assert found["action"] == "blocked" and found["codes"] == ["AM215"], found
    assert "passes the Session to `REPOS[kind]()`, a class or function picked at run time out of `REPOS`" in found["reasons"][0]
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    assert serve(root, kind, DISPATCHED_CHECK) == {
        "made": [{"count": 3}, {"count": 1}], "rows": [["c", 3]], "users": ["Ann", "Bob", "Cid"],
    }

