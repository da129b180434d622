"""A hand-written DI container's async copy builds every member handed an async object as its
async copy, and a second phase-two run (another router) reuses the copies the first one wrote.

The container (`Container(session)`) builds repositories from the Session and services from the
repositories. Migrating a router that only uses a repository wrote `ContainerAsync.__init__`
building `UserService(self.users)` around `UserRepoAsync`: `UserService.exists` then called
`self.users.get()` without `await`, and a missing user read as found. The router migrated next
was blocked: the self-check found the twins the first run wrote (`ContainerAsync.__init__`, a
`get` whose eager load became a select) differing from what it writes now.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_kit import KINDS
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler, read, run
from test_phase2_soundness import serve

from async_migrate.codemods.phase2 import holders

service = test_phase2_soundness.service  # the small application on the sync stack

MODELS = user_item_models(user='items: Mapped[list["Item"]] = relationship()')
REPOS = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item, User


class UserRepo:
    def __init__(self, session: Session):
        self.session = session

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)


class ItemRepo:
    def __init__(self, session: Session):
        self.session = session

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name).order_by(Item.id)))

    def add(self, name: str, owner_id: int) -> Item:
        item = Item(name=name, owner_id=owner_id)
        self.session.add(item)
        self.session.commit()
        return item
"""
SERVICES = """
from fastapi import HTTPException

from repos import ItemRepo, UserRepo


class UserService:
    def __init__(self, users: UserRepo):
        self.users = users

    def exists(self, user_id: int) -> bool:
        return self.users.get(user_id) is not None


class ItemService:
    def __init__(self, items: ItemRepo, users: UserRepo):
        self.items = items
        self.users = users

    def create(self, name: str, owner_id: int) -> int:
        if self.users.get(owner_id) is None:
            raise HTTPException(404, "owner not found")
        return self.items.add(name, owner_id).id


class Labels:
    def __init__(self, items: ItemRepo):
        self.items = items

    def prefix(self) -> str:
        return "item:"
"""
CONTAINER = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from repos import ItemRepo, UserRepo
from services import ItemService, Labels, UserService


class Container:
    def __init__(self, session: Session):
        self.session = session
        self.users = UserRepo(session)
        self.items = ItemRepo(session)
        self.user_service = UserService(self.users)
        self.item_service = ItemService(self.items, self.users)
        self.labels = Labels(self.items)


def get_container(session: Session = Depends(get_db_session)) -> Container:
    return Container(session)
"""
ITEMS = """
from fastapi import APIRouter, Depends

from container import Container, get_container

router = APIRouter()


@router.get("/items")
def list_items(c: Container = Depends(get_container)):
    return [c.labels.prefix() + name for name in c.items.names()]


@router.get("/items/owner/{user_id}/known")
def owner_known(user_id: int, c: Container = Depends(get_container)):
    return {"known": c.users.get(user_id) is not None}
"""
USERS = """
from fastapi import APIRouter, Depends

from container import Container, get_container

router = APIRouter()


@router.get("/users/{user_id}/exists")
def user_exists(user_id: int, c: Container = Depends(get_container)):
    return {"exists": c.user_service.exists(user_id)}


@router.post("/users/{user_id}/items")
def add_item(user_id: int, name: str, c: Container = Depends(get_container)):
    return {"id": c.item_service.create(name, user_id)}
"""
MAIN = """
from fastapi import FastAPI

from api import items, users

app = FastAPI()
app.include_router(items.router)
app.include_router(users.router)
"""


@pytest.fixture
def app(service):  # type: ignore[no-untyped-def]
    return service({
        "models.py": MODELS, "repos.py": REPOS, "services.py": SERVICES, "container.py": CONTAINER,
        "api/items.py": ITEMS, "api/users.py": USERS, "main.py": MAIN,
    })


def _container_copy(root) -> str:  # type: ignore[no-untyped-def]
    text = read(root, "container.py")
    return text[text.index("class ContainerAsync"):text.index("def get_container(")]


@pytest.mark.parametrize("kind", KINDS)
def test_a_containers_copy_builds_the_services_copies_and_a_second_router_reuses_them(cli, app, kind):
    first = apply(cli, app, subsystem="api/items.py")
    assert handler(first, "list_items")["action"] == "migrate"
    assert handler(first, "owner_known")["action"] == "migrate"
    copy = _container_copy(app)
    # the services handed a repository's copy are their own copies, their methods awaited
    assert "self.user_service = UserServiceAsync(self.users)" in copy, copy
    assert "self.item_service = ItemServiceAsync(self.items, self.users)" in copy, copy
    # near miss: a class whose methods wait on nothing it holds stays as it is
    assert "self.labels = Labels(self.items)" in copy, copy
    assert "class LabelsAsync" not in read(app, "services.py")

    second = apply(cli, app, subsystem="api/users.py")
    for route in ("user_exists", "add_item"):
        found = handler(second, route)
        assert found["action"] == "migrate", found
    assert "async def exists(self, user_id: int) -> bool:" in read(app, "services.py")

    result = serve(app, kind, """
        names = client.get("/items").json()
        owners = [client.get(f"/items/owner/{i}/known").json() for i in (2, 9)]
        known = client.get("/users/1/exists").json()
        missing = client.get("/users/999/exists").json()
        added = client.post("/users/2/items", params={"name": "pen"})
        refused = client.post("/users/999/items", params={"name": "cup"})
        with Sync() as s:
            rows = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
        print(json.dumps({
            "names": names, "owners": owners, "known": known, "missing": missing, "added": added.status_code,
            "refused": refused.status_code, "rows": rows, "after": client.get("/items").json(),
        }))
    """)
    assert result == {
        "names": [], "owners": [{"known": True}, {"known": False}], "known": {"exists": True}, "missing": {"exists": False}, "added": 200, "refused": 404,
        "rows": [["pen", 2]], "after": ["item:pen"],
    }


OWNER = """
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from container import Container, get_container

router = APIRouter()


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    items: list[ItemOut]


@router.get("/users/{user_id}", response_model=UserOut)
def read_user(user_id: int, c: Container = Depends(get_container)):
    return c.users.get(user_id)
"""
OWNER_NAME = """
from fastapi import APIRouter, Depends

from container import Container, get_container

router = APIRouter()


@router.get("/items/owner/{user_id}")
def owner_name(user_id: int, c: Container = Depends(get_container)):
    user = c.users.get(user_id)
    return {"name": user.name if user is not None else None}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_get_whose_eager_load_an_earlier_run_wrote_as_a_select_is_reused(cli, app, kind):
    (app / "api/users.py").write_text(dedent(OWNER) + "\n")
    (app / "api/items.py").write_text(dedent(OWNER_NAME) + "\n")
    first = apply(cli, app, subsystem="api/users.py")
    assert handler(first, "read_user")["action"] == "migrate"
    assert "options(selectinload(User.items))" in read(app, "repos.py")
    second = apply(cli, app, subsystem="api/items.py")
    found = handler(second, "owner_name")
    assert found["action"] == "migrate", found
    result = serve(app, kind, """
        with Sync() as s:
            s.add(Item(name="pen", owner_id=1))
            s.commit()
        print(json.dumps([client.get("/users/1").json(), client.get("/items/owner/2").json(),
                          client.get("/items/owner/9").json()]))
    """)
    assert result == [{"name": "Ann", "items": [{"name": "pen"}]}, {"name": "Bob"}, {"name": None}]


def test_near_miss_a_reused_get_select_edited_to_another_key_still_blocks(cli, app):
    (app / "api/users.py").write_text(dedent(OWNER) + "\n")
    (app / "api/items.py").write_text(dedent(OWNER_NAME) + "\n")
    apply(cli, app, subsystem="api/users.py")
    repos = read(app, "repos.py")
    assert "User.id == user_id)" in repos
    (app / "repos.py").write_text(repos.replace("User.id == user_id)", "User.id == user_id + 1)"))
    found = handler(run(cli, app, subsystem="api/items.py"), "owner_name")
    assert found["action"] == "blocked", found
    assert "UserRepoAsync.get" in " ".join(found["reasons"]) and "differs" in " ".join(found["reasons"])


def test_the_self_check_refuses_a_sync_member_built_around_an_async_copy(cli, app, monkeypatch):
    # Break the planner: the services are no longer followed from the container's `__init__`.
    monkeypatch.setattr(holders, "builds_composer", lambda project, edge: False, raising=False)
    document = run(cli, app, "--jobs", "1", subsystem="api/items.py")
    found = handler(document, "list_items")
    assert found["action"] == "blocked", found
    assert "AM223" in found["codes"]
    reasons = " | ".join(found["reasons"])
    assert (
        "container.py:14: self-check: ContainerAsync.__init__ (phase two's async version of Container.__init__): "
        "builds `self.user_service` as the synchronous `UserService`, handing its parameter `users` `self.users` "
        "(`UserRepoAsync`), but `UserService.exists` (services.py:11) calls `self.users.get()` without `await`: a "
        "coroutine nobody runs"
    ) in reasons, reasons
    # a method the copy does not have: loud, but wrong all the same
    assert (
        "builds `self.item_service` as the synchronous `ItemService`, handing its parameter `items` `self.items` "
        "(`ItemRepoAsync`), but `ItemService.create` (services.py:22) calls `self.items.add()`, which "
        "`ItemRepoAsync` does not have: AttributeError when it runs"
    ) in reasons, reasons
    # near miss: Labels calls nothing on what it holds
    assert "Labels" not in reasons, reasons
    assert document["files_changed"] == []


def test_a_member_whose_class_phase_two_cannot_tell_composes_a_repository_blocks_naming_it(cli, app):
    # `users` unannotated: nothing says UserService holds a repository, so it gets no copy; the
    # container's copy building it around UserRepoAsync is refused, naming the member and the way out.
    services = read(app, "services.py")
    (app / "services.py").write_text(services.replace("def __init__(self, users: UserRepo):", "def __init__(self, users):"))
    document = run(cli, app, subsystem="api/items.py")
    found = handler(document, "owner_known")
    assert found["action"] == "blocked", found
    reasons = " | ".join(found["reasons"])
    assert (
        "builds `self.user_service` as the synchronous `UserService`, handing its parameter `users` `self.users` "
        "(`UserRepoAsync`), but `UserService.exists` (services.py:11) calls `self.users.get()` without `await`"
    ) in reasons, reasons
    assert (
        "(annotate the parameter `users` of `UserService.__init__` with the class it receives: phase two then "
        "moves `UserService` with it)"
    ) in reasons, reasons
    assert document["files_changed"] == []
