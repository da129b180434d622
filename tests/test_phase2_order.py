"""Phase two on two subsystems in either order ends with the same routes migrated.

A twin an earlier run wrote is reused by a later subsystem even where that subsystem's router
binds the twin's name to a function of its own: the twin is imported under a free name there
(`get_user_async as get_user_async_2`), where importing it as it is replaced the router's own
function and the self-check blocked the route (while the other order migrated both).

A method whose override an earlier run twinned gets its own twin under the override's name:
the AM242 reason ("overridden by ..., which does not move with it") no longer stands once that
twin exists. Run first, the subsystem reaching only the base method is still blocked by AM242,
since the override has no twin yet; running it again after the other subsystem migrates it.

The migrated code is RUN on SQLite, PostgreSQL and MariaDB and the rows are read back.
"""

from __future__ import annotations

import pytest
from phase2_kit import KINDS
from test_phase2_rules import apply, handler, helper, read
from test_phase2_soundness import serve, service

__all__ = ["service"]  # the fixture, used by name

ORDERS = [("a", "b"), ("b", "a")]
ORDER_IDS = ["a-then-b", "b-then-a"]
MAIN = """
from fastapi import FastAPI

from api.a import router as a
from api.b import router as b

app = FastAPI()
app.include_router(a)
app.include_router(b)
"""
HELPERS = """
from sqlalchemy.orm import Session

from models import User


def get_user(db: Session, user_id: int) -> User:
    return db.get(User, user_id)
"""
READER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services.helpers import get_user

router = APIRouter(prefix="/a")


@router.get("/users/{user_id}")
def read_user(user_id: int, db: session_dependency):
    return {"name": get_user(db, user_id).name}
"""
# Binds the name the twin gets when the other router goes first.
WRITER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from models import Item
from services.helpers import get_user

router = APIRouter(prefix="/b")


def get_user_async(user_id: int) -> str:
    return f"user {user_id}"


@router.post("/items")
def create(name: str, user_id: int, db: session_dependency):
    user = get_user(db, user_id)
    db.add(Item(name=name, owner_id=user.id))
    db.commit()
    return {"by": user.name, "label": get_user_async(user_id)}
"""
SCRIPT = """
made = client.post("/b/items", params={"name": "pen", "user_id": 2}).json()
named = client.get("/a/users/1").json()
with Sync() as s:
    rows = [(i.name, i.owner_id) for i in s.scalars(select(Item))]
print(json.dumps({"made": made, "named": named, "rows": rows}))
"""


def migrate_both(cli, root, order) -> list[dict]:  # type: ignore[no-untyped-def]
    return [apply(cli, root, subsystem=f"api/{name}.py") for name in order]


def actions(documents: list[dict]) -> dict[str, str]:
    return {h["function"]: h["action"] for document in documents for h in document["handlers"]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
def test_both_orders_migrate_both_routes_and_write(cli, service, order, kind):
    root = service({
        "services/__init__.py": "", "services/helpers.py": HELPERS, "api/a.py": READER, "api/b.py": WRITER,
        "main.py": MAIN,
    })
    documents = migrate_both(cli, root, order)
    assert actions(documents) == {"read_user": "migrate", "create": "migrate"}
    assert helper(documents[1], "get_user")["twin_exists"] is True
    if order == ("a", "b"):
        # the twin an earlier run named for a.py, under another name in b.py, beside b.py's own
        assert "from services.helpers import get_user_async as get_user_async_2\n" in read(root, "api/b.py")
        assert "user = await get_user_async_2(db, user_id)" in read(root, "api/b.py")
        assert "def get_user_async(user_id: int) -> str:" in read(root, "api/b.py")
    for name in order:
        assert apply(cli, root, subsystem=f"api/{name}.py")["files_changed"] == [], name
    assert serve(root, kind, SCRIPT) == {
        "made": {"by": "Bob", "label": "user 2"}, "named": {"name": "Ann"}, "rows": [["pen", 2]],
    }


def test_near_miss_a_twin_imported_where_its_name_is_free_keeps_its_name(cli, service):
    root = service({
        "services/__init__.py": "", "services/helpers.py": HELPERS, "api/a.py": READER,
        "api/b.py": WRITER.replace("get_user_async(user_id)", "label_of(user_id)").replace(
            "def get_user_async(", "def label_of("
        ),
        "main.py": MAIN,
    })
    migrate_both(cli, root, ("a", "b"))
    assert "from services.helpers import get_user_async\n" in read(root, "api/b.py")
    assert " as get_user_async_2" not in read(root, "api/b.py")


CRUD = """
from sqlalchemy.orm import Session

from models import Item, User


class CRUDBase:
    def __init__(self, model):
        self.model = model

    def get(self, db: Session, id: int):
        return db.get(self.model, id)


class CRUDUser(CRUDBase):
    def get(self, db: Session, id: int):
        db.info["users"] = db.info.get("users", 0) + 1
        return db.get(User, id)


item = CRUDBase(Item)
user = CRUDUser(User)
"""
# a.py reaches only the base method, b.py only the override.
ITEM_READER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services import crud

router = APIRouter(prefix="/a")


@router.get("/items/{item_id}")
def read_item(item_id: int, db: session_dependency):
    return {"name": crud.item.get(db, item_id).name}
"""
USER_READER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services import crud

router = APIRouter(prefix="/b")


@router.get("/users/{user_id}")
def read_user(user_id: int, db: session_dependency):
    return {"name": crud.user.get(db, user_id).name}
"""
CRUD_SCRIPT = """
with Sync() as s:
    s.add(Item(id=1, name="lamp", owner_id=1))
    s.commit()
print(json.dumps({"item": client.get("/a/items/1").json(), "user": client.get("/b/users/2").json()}))
"""


def crud_service(service):  # type: ignore[no-untyped-def]
    return service({
        "services/__init__.py": "", "services/crud.py": CRUD, "api/a.py": ITEM_READER, "api/b.py": USER_READER,
        "main.py": MAIN,
    })


@pytest.mark.parametrize("kind", KINDS)
def test_the_overridden_reason_goes_once_the_override_has_its_twin(cli, service, kind):
    root = crud_service(service)
    override, base = migrate_both(cli, root, ("b", "a"))
    assert handler(override, "read_user")["action"] == "migrate"
    found = handler(base, "read_item")
    assert (found["action"], found["codes"]) == ("migrate", ["AM201", "AM202"]), found["reasons"]
    # the base's twin takes the override's twin name, so a CRUDUser awaits its own twin
    assert helper(base, "CRUDBase.get")["twin"] == "get_async"
    assert "overridden by services.crud.CRUDUser.get" in " ".join(helper(base, "CRUDBase.get")["reasons"])
    text = read(root, "services/crud.py")
    assert text.count("    async def get_async(self, db: AsyncSession, id: int):") == 2
    assert "get_async_2" not in text
    assert "await crud.item.get_async(db, item_id)" in read(root, "api/a.py")
    assert apply(cli, root, subsystem="api/a.py")["files_changed"] == []
    assert serve(root, kind, CRUD_SCRIPT) == {"item": {"name": "lamp"}, "user": {"name": "Bob"}}


def test_near_miss_before_the_override_has_a_twin_the_base_route_is_blocked_until_run_again(cli, service):
    root = crud_service(service)
    base, override = migrate_both(cli, root, ("a", "b"))
    found = handler(base, "read_item")
    assert (found["action"], found["codes"]) == ("blocked", ["AM242"])
    assert "services.crud.CRUDBase.get is overridden by services.crud.CRUDUser.get" in found["reasons"][0]
    assert handler(override, "read_user")["action"] == "migrate"
    again = apply(cli, root, subsystem="api/a.py")
    assert handler(again, "read_item")["action"] == "migrate"
    assert read(root, "services/crud.py").count("async def get_async(") == 2


DEPS = """
from fastapi import Depends, Header
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import User


def get_current_user(x_user: int = Header(1), db: Session = Depends(get_db_session)) -> User:
    return db.get(User, x_user)
"""
DEPENDENT = """
from fastapi import APIRouter, Depends

from api.deps import get_current_user
from core.dependencies import session_dependency
from models import Item, User

router = APIRouter(prefix="/{name}")
{own}

@router.post("/items")
def create(name: str, db: session_dependency, user: User = Depends(get_current_user)):
    db.add(Item(name=name, owner_id=user.id))
    db.commit()
    return {{"by": user.name{label}}}
"""
OWN = """

def get_current_user_async() -> str:
    return "nobody"
"""


@pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
def test_a_dependency_twin_is_depended_on_under_a_free_name_where_the_router_binds_its_name(cli, service, order):
    root = service({
        "api/deps.py": DEPS, "main.py": MAIN,
        "api/a.py": DEPENDENT.format(name="a", own="", label=""),
        "api/b.py": DEPENDENT.format(name="b", own=OWN, label=', "label": get_current_user_async()'),
    })
    documents = migrate_both(cli, root, order)
    assert [handler(d, "create")["action"] for d in documents] == ["migrate", "migrate"]
    if order == ("a", "b"):
        assert "from api.deps import get_current_user_async as get_current_user_async_2\n" in read(root, "api/b.py")
        assert "user: User = Depends(get_current_user_async_2)" in read(root, "api/b.py")
    result = serve(root, "sqlite", """
        made = [client.post(f"/{p}/items", params={"name": p}, headers={"X-User": "2"}).json() for p in "ab"]
        with Sync() as s:
            rows = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
        print(json.dumps({"made": made, "rows": rows}))
    """)
    assert result == {"made": [{"by": "Bob"}, {"by": "Bob", "label": "nobody"}], "rows": [["a", 2], ["b", 2]]}
