"""Phase two on the shapes of SQLModel's full-stack template: crud functions taking
`*, session: Session`, table models built with `Model.model_validate(obj_in, update=...)`,
response schemas built from keyword arguments, a name rebound by a committing crud call.

- `db_item = Item.model_validate(item_in, update={...})` then `db_item.tags.append(Tag(...))`
  before `session.add(db_item)`: SQLModel builds a new, transient object whatever it is
  given, so the relationship read loads nothing; the helper migrates (it was blocked as a
  lazy load, AM220). A project override of `model_validate` may return anything: still blocked.
- `return [Report(owner_email=email, items=n) for email, n in rows]` under
  `response_model=list[Report]`: the schema holds the values it was given (a string and a
  number), so its field `items` is no read of the relationship `User.items` (it was blocked
  as AM222 by the field's name). A schema built from ORM objects whose nested schema reads a
  relationship nothing loads is still blocked.
- `user = crud.get_user_by_email(...)` then `user = crud.create_user(session=..., ...)`
  (which commits and refreshes) and `return user`: the value bound before the commit is gone
  once the call returns, so the route is judged like `created = crud.create_user(...)`; it was
  blocked as stale after commit (AM259).

Each migrated route is RUN with TestClient on the generated stack (aiosqlite, and
PostgreSQL when a server answers) and what it wrote is read back.
"""

from __future__ import annotations

import json
import os

import pytest
from phase2_kit import run_app
from sample import database, run_python
from test_phase2_rules import apply, dedent, function, handler, helper, read, run
from test_phase2_soundness import KINDS

SUBSYSTEM = "api/items.py"

DB = """
import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session, create_engine

engine = create_engine(os.environ["DATABASE_URL"])


def get_db() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
"""

MODELS = """
from sqlmodel import Field, Relationship, SQLModel


class UserBase(SQLModel):
    email: str = Field(max_length=255)


class UserCreate(UserBase):
    password: str


class User(UserBase, table=True):
    __tablename__ = "tpl_user"
    id: int | None = Field(default=None, primary_key=True)
    hashed_password: str
    items: list["Item"] = Relationship(back_populates="owner")


class UserPublic(UserBase):
    id: int


class ItemCreate(SQLModel):
    title: str
    tags: list[str] = []


class Item(SQLModel, table=True):
    __tablename__ = "tpl_item"
    id: int | None = Field(default=None, primary_key=True)
    title: str
    quantity: int = 0
    owner_id: int = Field(foreign_key="tpl_user.id")
    owner: User | None = Relationship(back_populates="items")
    tags: list["Tag"] = Relationship(back_populates="item")


class Tag(SQLModel, table=True):
    __tablename__ = "tpl_tag"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    item_id: int = Field(foreign_key="tpl_item.id")
    item: Item | None = Relationship(back_populates="tags")


class ItemPublic(SQLModel):
    id: int
    title: str
    owner_id: int


class StockReport(SQLModel):
    owner_email: str
    items: int
    total_quantity: int


class ItemOut(SQLModel):
    title: str


class UserDeep(SQLModel):
    email: str
    items: list[ItemOut]


class UsersDeep(SQLModel):
    data: list[UserDeep]
    count: int
"""

CRUD = """
from sqlmodel import Session, select

from models import Item, ItemCreate, Tag, User, UserCreate


def create_user(*, session: Session, user_create: UserCreate) -> User:
    db_obj = User.model_validate(user_create, update={"hashed_password": "x" + user_create.password})
    session.add(db_obj)
    session.commit()
    session.refresh(db_obj)
    return db_obj


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def create_item(*, session: Session, item_in: ItemCreate, owner_id: int) -> Item:
    db_item = Item.model_validate(item_in.model_dump(exclude={"tags"}), update={"owner_id": owner_id})
    for name in item_in.tags:
        db_item.tags.append(Tag(name=name))
    session.add(db_item)
    session.commit()
    session.refresh(db_item)
    return db_item
"""

ROUTES = """
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from sqlmodel import col, func, select

import crud
from db import SessionDep
from models import Item, ItemCreate, ItemPublic, StockReport, User, UserCreate, UserPublic, UsersDeep

router = APIRouter()


@router.post("/users", response_model=UserPublic)
async def create_user(session: SessionDep, user_in: UserCreate) -> Any:
    user = crud.get_user_by_email(session=session, email=user_in.email)
    if user:
        raise HTTPException(status_code=400, detail="exists")
    user = crud.create_user(session=session, user_create=user_in)
    return user


@router.post("/users/{user_id}/items", response_model=ItemPublic)
async def create_item(session: SessionDep, user_id: int, item_in: ItemCreate) -> Any:
    return crud.create_item(session=session, item_in=item_in, owner_id=user_id)


@router.get("/report", response_model=list[StockReport])
async def stock_report(session: SessionDep) -> Any:
    statement = (
        select(User.email, func.count(col(Item.id)), func.sum(Item.quantity))
        .join(Item, col(Item.owner_id) == User.id)
        .group_by(col(User.email))
        .order_by(col(User.email))
    )
    rows = session.exec(statement).all()
    return [StockReport(owner_email=email, items=n, total_quantity=total or 0) for email, n, total in rows]


@router.get("/deep", response_model=UsersDeep)
async def deep(session: SessionDep) -> Any:
    users = session.exec(select(User).order_by(User.id)).all()
    return UsersDeep(data=users, count=len(users))


def get_owner(session: SessionDep) -> User:
    return session.exec(select(User).order_by(User.id)).first()


@router.get("/deep/first", response_model=UsersDeep)
async def deep_first(session: SessionDep, owner: Annotated[User, Depends(get_owner)]) -> Any:
    total = session.exec(select(func.count()).select_from(User)).one()
    return UsersDeep(data=[owner], count=total)
"""

MAIN = """
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)
"""


def files(crud: str = CRUD, models: str = MODELS) -> dict[str, str]:
    return {
        "db.py": DB,
        "models.py": models,
        "crud.py": crud,
        "api/__init__.py": "",
        "api/items.py": ROUTES,
        "main.py": MAIN,
    }


def test_template_shapes_migrate_and_the_deep_reads_get_their_eager_loads(cli, project):
    root = project(files())
    document = run(cli, root)
    actions = {h["function"]: (h["action"], h["codes"]) for h in document["handlers"]}
    assert {name: action for name, (action, _) in actions.items()} == {
        "create_user": "migrate", "create_item": "migrate", "stock_report": "migrate", "deep": "migrate",
        "deep_first": "migrate",
    }
    # a schema built from the objects of `session.exec(select(User))` reads `User.items`: the
    # eager load goes on that query
    assert "AM246" in actions["deep"][1]
    # built from an object the dependency loaded: its query moves with the route into the
    # dependency's async twin, and the eager load goes there
    assert "AM245" not in actions["deep_first"][1]
    assert "async def get_owner_async(" in document["diff"]
    assert "select(User).order_by(User.id).options(selectinload(User.items))" in document["diff"]
    assert helper(document, "create_item")["action"] == "migrate"


def test_a_project_override_of_model_validate_is_not_taken_for_a_new_object(cli, project):
    models = MODELS.replace(
        '''class Item(SQLModel, table=True):
    __tablename__ = "tpl_item"''',
        '''class Item(SQLModel, table=True):
    __tablename__ = "tpl_item"

    @classmethod
    def model_validate(cls, obj, *args, **kwargs):
        return super().model_validate(obj, *args, **kwargs)
''',
    )
    root = project(files(models=models))
    document = run(cli, root)
    assert handler(document, "create_item")["action"] == "blocked"
    assert "AM220" in handler(document, "create_item")["codes"]


WITH_CODE = '''class StockReport(SQLModel):
    owner_email: str
    items: int
    total_quantity: int

    def label(self) -> str:
        return self.owner_email
'''
# no pydantic or SQLModel base: what its constructor keeps is not known
PLAIN = '''@dataclass
class StockReport:
    owner_email: str
    items: int
    total_quantity: int
'''


@pytest.mark.parametrize("schema", [WITH_CODE, PLAIN], ids=["with-code", "plain-class"])
def test_a_schema_with_code_of_its_own_is_judged_by_its_field_names(cli, project, schema):
    models = "from dataclasses import dataclass\n" + MODELS.replace(
        '''class StockReport(SQLModel):
    owner_email: str
    items: int
    total_quantity: int
''',
        schema,
    )
    root = project(files(models=models))
    document = run(cli, root)
    assert handler(document, "stock_report")["action"] == "blocked"
    assert "AM222" in handler(document, "stock_report")["codes"]


@pytest.mark.parametrize("kind", KINDS)
def test_migrated_template_routes_write_and_answer(cli, project, kind):
    root = project(files())
    document = apply(cli, root, "--allow-override-gap", subsystem=SUBSYSTEM)
    assert {h["function"] for h in document["handlers"] if h["action"] == "migrate"} == {
        "create_user", "create_item", "stock_report", "deep", "deep_first",
    }
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Item, Tag, User

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            user = client.post("/users", json={"email": "ann@example.com", "password": "pw"}).json()
            again = client.post("/users", json={"email": "ann@example.com", "password": "pw"}).status_code
            item = client.post(
                f"/users/{user['id']}/items", json={"title": "Lamp", "tags": ["red", "big"]}
            ).json()
            client.post(f"/users/{user['id']}/items", json={"title": "Desk"})
            report = client.get("/report").json()
            deep = client.get("/deep").json()
            first = client.get("/deep/first").json()
        with Session(db.engine) as s:
            stored = {
                "users": [u.email for u in s.exec(select(User)).all()],
                "items": sorted(i.title for i in s.exec(select(Item)).all()),
                "tags": sorted(t.name for t in s.exec(select(Tag).where(Tag.item_id == item["id"])).all()),
            }
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({
            "user": user["email"], "again": again, "item": item["title"], "report": report, "deep": deep,
            "first": first, "stored": stored,
        }))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {
        "user": "ann@example.com",
        "again": 400,
        "item": "Lamp",
        "report": [{"owner_email": "ann@example.com", "items": 2, "total_quantity": 0}],
        "deep": {"data": [{"email": "ann@example.com", "items": [{"title": "Lamp"}, {"title": "Desk"}]}], "count": 1},
        "first": {"data": [{"email": "ann@example.com", "items": [{"title": "Lamp"}, {"title": "Desk"}]}], "count": 1},
        "stored": {"users": ["ann@example.com"], "items": ["Desk", "Lamp"], "tags": ["big", "red"]},
    }


INLINE_ROUTES = """
from fastapi import APIRouter
from sqlmodel import Session

from db import engine
from models import User, UserCreate

router = APIRouter()


@router.post("/users")
def create_user(user_in: UserCreate):
    with Session(engine) as session:
        user = User.model_validate(user_in, update={"hashed_password": "x"})
        session.add(user)
        session.commit()
        return {"id": user.id, "email": user.email}
"""
OVERRIDE = '''class User(UserBase, table=True):
    __tablename__ = "tpl_user"

    @classmethod
    def model_validate(cls, obj, *args, **kwargs):
        return super().model_validate(obj, *args, **kwargs)
'''


def test_an_object_built_by_model_validate_is_refreshed_after_an_expiring_commit(cli, project):
    # `with Session(engine)` becomes `AsyncSession(async_engine)`, which expires on commit as
    # it did: `user.id` read afterwards needs the refresh `User(...)` gets
    root = project({**files(), "api/items.py": INLINE_ROUTES})
    document = apply(cli, root, subsystem=SUBSYSTEM)
    assert handler(document, "create_user")["action"] == "migrate"
    routes = (root / "api/items.py").read_text(encoding="utf-8")
    assert "await session.commit()\n        await session.refresh(user)\n" in routes
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import User

        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            created = client.post("/users", json={"email": "bo@example.com", "password": "pw"}).json()
        with Session(db.engine) as s:
            stored = [(u.id, u.email) for u in s.exec(select(User)).all()]
        asyncio.run(db.async_engine.dispose())
        print(json.dumps({"created": created, "stored": stored}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    result = run_python(script, cwd=root, env=env, timeout=180, warnings=("error::RuntimeWarning",))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "created": {"id": 1, "email": "bo@example.com"}, "stored": [[1, "bo@example.com"]],
    }


def test_an_object_from_an_overridden_model_validate_read_after_the_commit_blocks(cli, project):
    models = MODELS.replace('''class User(UserBase, table=True):
    __tablename__ = "tpl_user"
''', OVERRIDE)
    root = project({**files(models=models), "api/items.py": INLINE_ROUTES})
    document = run(cli, root)
    assert handler(document, "create_user")["action"] == "blocked"
    assert "AM248" in handler(document, "create_user")["codes"]


REFRESHING_CRUD = CRUD + '''

def update_email(*, session: Session, db_user: User, email: str) -> User:
    db_user.sqlmodel_update({"email": email})
    session.add(db_user)
    session.commit()
    session.refresh(db_user)
    return db_user


def update_email_twice(*, session: Session, db_user, email: str):
    session.add(db_user)
    session.commit()
    session.refresh(db_user)
    db_user.email = email
    session.flush()
    return db_user
'''
UPDATE_ROUTES = """
from fastapi import APIRouter, HTTPException

import crud
from db import SessionDep
from models import User, UserPublic

router = APIRouter()


@router.patch("/users/{user_id}", response_model=UserPublic)
async def update_email(session: SessionDep, user_id: int, email: str):
    db_user = session.get(User, user_id)
    if not db_user:
        raise HTTPException(status_code=404, detail="nope")
    db_user = crud.update_email(session=session, db_user=db_user, email=email)
    return db_user


@router.put("/users/{user_id}", response_model=UserPublic)
async def update_email_twice(session: SessionDep, user_id: int, email: str):
    db_user = session.get(User, user_id)
    if not db_user:
        raise HTTPException(status_code=404, detail="nope")
    db_user = crud.update_email_twice(session=session, db_user=db_user, email=email)
    return db_user
"""


def test_a_helper_refreshing_what_it_hands_back_needs_no_refresh_after_it(cli, project):
    root = project({**files(crud=REFRESHING_CRUD), "api/items.py": UPDATE_ROUTES})
    document = apply(cli, root, subsystem=SUBSYSTEM)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "update_email": "migrate", "update_email_twice": "migrate",
    }
    once = function(root, "api/items.py", "update_email")
    assert "refresh" not in once
    # the near miss: a flush after the helper's refresh leaves the object to refresh here
    assert "await session.refresh(db_user)" in function(root, "api/items.py", "update_email_twice")
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import User

        SQLModel.metadata.create_all(db.engine)
        with Session(db.engine) as s:
            s.add(User(id=1, email="old@example.com", hashed_password="x"))
            s.commit()
        with TestClient(app) as client:
            answered = client.patch("/users/1", params={"email": "new@example.com"}).json()
            missing = client.patch("/users/9", params={"email": "x@example.com"}).status_code
        with Session(db.engine) as s:
            stored = [u.email for u in s.exec(select(User)).all()]
        asyncio.run(db.async_engine.dispose())
        print(json.dumps({"answered": answered, "missing": missing, "stored": stored}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    result = run_python(script, cwd=root, env=env, timeout=180, warnings=("error::RuntimeWarning",))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "answered": {"email": "new@example.com", "id": 1}, "missing": 404, "stored": ["new@example.com"],
    }


DEPENDENCY_ROUTES = """
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from db import SessionDep
from models import Item, ItemOut

router = APIRouter()


def get_item(session: SessionDep, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="nope")
    return item


ItemDep = Annotated[Item, Depends(get_item)]


@router.get("/items/{item_id}/tags")
def list_tags(item: ItemDep) -> list[str]:
    return [tag.name for tag in item.tags]


@router.get("/items/{item_id}", response_model=ItemOut)
def read_item(item: ItemDep):
    return item
"""


def test_a_def_route_lazy_loading_a_dependencys_object_is_no_all_clear(cli, project):
    root = project({**files(), "api/items.py": DEPENDENCY_ROUTES})
    document = run(cli, root)
    tags = handler(document, "list_tags")
    assert tags["action"] == "unchanged"
    assert "lazy-loads `item.tags` on an object a dependency loaded on a synchronous Session" in tags["reasons"][0]
    # the near miss: columns only
    assert handler(document, "read_item")["reasons"] == ["does no synchronous Session work"]


SHARED_DEPENDENCY = """
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import select

from db import SessionDep
from models import User

router = APIRouter()


def get_first_user(session: SessionDep) -> User:
    return session.exec(select(User).order_by(User.id)).first()


FirstUser = Annotated[User, Depends(get_first_user)]


@router.get("/{name}/count")
def count(session: SessionDep, user: FirstUser) -> int:
    return len(session.exec(select(User)).all())
"""


def test_a_twin_an_earlier_run_wrote_is_reported_as_reused(cli, project, tmp_path):
    shared = {
        "api/deps.py": SHARED_DEPENDENCY.split("@router.get")[0].replace("router = APIRouter()\n", ""),
        "api/a.py": "from fastapi import APIRouter\nfrom sqlmodel import select\n\nfrom api.deps import FirstUser\n"
        "from db import SessionDep\nfrom models import User\nrouter = APIRouter()\n\n\n@router.get(\"/a\")\n"
        "def a(session: SessionDep, user: FirstUser) -> int:\n    return len(session.exec(select(User)).all())\n",
    }
    shared["api/b.py"] = shared["api/a.py"].replace('"/a"', '"/b"').replace("def a(", "def b(")
    main = "from fastapi import FastAPI\n\nfrom api import a, b\n\napp = FastAPI()\napp.include_router(a.router)\napp.include_router(b.router)\n"
    root = project({**files(), **shared, "main.py": main})
    first = apply(cli, root, subsystem="api/a.py")
    assert helper(first, "get_first_user").get("twin_exists") is False
    report = tmp_path / "b.md"
    second = apply(cli, root, "--report", str(report), subsystem="api/b.py")
    twin = helper(second, "get_first_user")
    assert (twin["action"], twin["twin"], twin["twin_exists"]) == ("twin", "get_first_user_async", True)
    text = report.read_text(encoding="utf-8")
    assert "async twin reused (an earlier run's; sync original kept)" in text


PAGED_ROUTES = ROUTES + '''

from fastapi_pagination import Page, Params
from fastapi_pagination.ext.sqlmodel import paginate


@router.get("/users/page", response_model=Page[UserPublic])
async def users_page(session: SessionDep) -> Any:
    return paginate(session, select(User).order_by(User.id), Params(page=1, size=1))
'''


@pytest.mark.parametrize("kind", KINDS[:2])
def test_fastapi_paginations_sqlmodel_paginate_takes_its_awaited_async_form(cli, project, kind):
    # fastapi_pagination.ext.sqlmodel has its own paginate/apaginate pair: the route migrates
    # with `await apaginate(session, ...)` instead of staying blocked on an unknown call.
    root = project({**files(), "api/items.py": PAGED_ROUTES})
    document = apply(cli, root, "--allow-override-gap", subsystem=SUBSYSTEM)
    assert {h["function"]: h["action"] for h in document["handlers"]}["users_page"] == "migrate"
    assert "return await apaginate(session, select(User).order_by(User.id), " in read(root, SUBSYSTEM)
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import SQLModel

        import db
        from main import app

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            for email in ("ann@example.com", "bob@example.com"):
                client.post("/users", json={"email": email, "password": "pw"})
            page = client.get("/users/page").json()
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({"total": page["total"], "emails": [u["email"] for u in page["items"]]}))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {"total": 2, "emails": ["ann@example.com"]}


LEGACY_ROUTES = """
from fastapi import APIRouter
from sqlmodel import select

from db import SessionDep
from models import Item, User

router = APIRouter()


@router.post("/users/{user_id}/items")
def add(session: SessionDep, user_id: int, title: str):
    if session.query(User).filter(User.id == user_id).first() is None:
        session.add(User(id=user_id, email=f"u{user_id}@example.com", hashed_password="x"))
    session.add(Item(title=title, owner_id=user_id))
    session.commit()
    return {"ok": True}


@router.get("/users/{user_id}/items")
def titles(session: SessionDep, user_id: int):
    query = session.query(Item).filter(Item.owner_id == user_id)
    return {
        "titles": [i.title for i in session.query(Item).filter(Item.owner_id == user_id).order_by(Item.id).all()],
        "count": len(query.all()),
        "first": select(Item.title).where(Item.owner_id == user_id) is not None,
    }


@router.get("/items/{item_id}/owner")
def owner(session: SessionDep, item_id: int):
    return {"email": session.get(Item, item_id).owner.email}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_select_phase_two_writes_for_sqlmodels_async_session_runs_on_exec(cli, project, kind):
    # A legacy query() and a get() given an eager load become a select of objects: SQLModel's
    # AsyncSession runs `scalars()` through the `execute()` it deprecates, so the select is
    # SQLModel's (the one the module imports) and runs on `exec()`.
    root = project({**files(), "api/items.py": LEGACY_ROUTES})
    document = apply(cli, root, subsystem=SUBSYSTEM)
    assert {h["function"]: h["action"] for h in document["handlers"]} == dict.fromkeys(("add", "titles", "owner"), "migrate")
    routes = read(root, "api/items.py")
    assert "scalars(" not in routes and "import select\n" not in routes.replace("from sqlmodel import select\n", "")
    assert "(await session.exec(select(User).where(User.id == user_id).limit(1))).first()" in routes
    assert "(await session.exec(query)).unique().all()" in routes
    assert "(await session.exec(select(Item).where(Item.id == item_id).options(selectinload(Item.owner)))).one_or_none()" in routes
    script = dedent(
        """
        import asyncio
        import json
        import warnings

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Item

        warnings.filterwarnings("error", message=r"(?s).*session\\\\.exec\\\\(\\\\)", category=DeprecationWarning)
        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            for title in ("Lamp", "Desk"):
                client.post("/users/7/items", params={"title": title}).raise_for_status()
            listed = client.get("/users/7/items").json()
            owner = client.get("/items/1/owner").json()
        with Session(db.engine) as s:
            stored = [(i.title, i.owner_id) for i in s.exec(select(Item).order_by(Item.id)).all()]
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({"listed": listed, "owner": owner, "stored": stored}))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {
        "listed": {"titles": ["Lamp", "Desk"], "count": 2, "first": True},
        "owner": {"email": "u7@example.com"},
        "stored": [["Lamp", 7], ["Desk", 7]],
    }


VALIDATED_MODELS = MODELS + '''

class ItemWithOwner(SQLModel):
    title: str
    owner: UserPublic | None = None
'''
VALIDATED_ROUTES = """
from fastapi import APIRouter

from db import SessionDep
from models import Item, ItemWithOwner

router = APIRouter()


@router.get("/items/{item_id}/owner")
def item_owner(session: SessionDep, item_id: int) -> dict:
    item = session.get(Item, item_id)
    out = ItemWithOwner.model_validate(item)
    return {"title": out.title, "email": out.owner.email if out.owner else None}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_field_of_a_schema_validated_from_an_object_is_no_lazy_load(cli, project, kind):
    # `out = ItemWithOwner.model_validate(item)` reads `item.owner` while validating (the eager
    # load goes on the query loading `item`); `out.owner` then reads the nested schema it stored,
    # no relationship: the route was blocked (AM220) as if `out` were an Item, with a fix
    # refreshing `out`, which no Session knows
    root = project({**files(models=VALIDATED_MODELS), "api/items.py": VALIDATED_ROUTES})
    document = apply(cli, root, subsystem=SUBSYSTEM)
    assert handler(document, "item_owner")["action"] == "migrate", handler(document, "item_owner")
    routes = (root / "api/items.py").read_text(encoding="utf-8")
    assert "options(selectinload(Item.owner))" in routes
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel

        import db
        from main import app
        from models import Item, User

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with Session(db.engine) as s:
            user = User(email="ann@example.com", hashed_password="x")
            s.add(user)
            s.commit()
            s.add(Item(title="Lamp", owner_id=user.id))
            s.commit()
        with TestClient(app) as client:
            answer = client.get("/items/1/owner").json()
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps(answer))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {"title": "Lamp", "email": "ann@example.com"}


def test_a_relationship_read_on_a_validated_table_model_still_blocks(cli, project):
    # `Item.model_validate(...)` builds a mapped object: `.owner` on it stays a relationship read
    routes = VALIDATED_ROUTES.replace("ItemWithOwner.model_validate(item)", "Item.model_validate(item)").replace(
        '"title": out.title, ', '"title": out.title, "again": out.owner_id, '
    )
    root = project({**files(models=VALIDATED_MODELS), "api/items.py": routes})
    document = run(cli, root)
    assert handler(document, "item_owner")["action"] == "blocked"


# The template's `CurrentUser` (a dependency on `SessionDep`) taken by each route, and listed
# again by the router, as `APIRouter(dependencies=[Depends(get_current_user)])` or through a
# dependency on it (`get_current_active_superuser`). FastAPI runs it once a request: the
# router's list must name the same async twin as the routes, or the request holds two Sessions.
AUTH = """
from typing import Annotated

from fastapi import Depends, Header, HTTPException

from db import SessionDep
from models import User


def get_current_user(session: SessionDep, x_user: Annotated[int, Header()]) -> User:
    user = session.get(User, x_user)
    if not user:
        raise HTTPException(status_code=403, detail="who")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_active_user(current_user: CurrentUser) -> User:
    return current_user
"""
ROUTER_GUARDED = """
from typing import Any

from fastapi import APIRouter, Depends
from sqlmodel import func, select

from auth import CurrentUser, GUARD
from db import SessionDep
from models import Item, ItemCreate, ItemPublic

router = APIRouter(prefix="/items", dependencies=[Depends(GUARD)])


@router.post("/", response_model=ItemPublic)
def create_item(session: SessionDep, current_user: CurrentUser, item_in: ItemCreate) -> Any:
    item = Item.model_validate(item_in.model_dump(exclude={"tags"}), update={"owner_id": current_user.id})
    session.add(item)
    session.commit()
    session.refresh(item)
    return item


@router.get("/count")
def count_items(session: SessionDep, current_user: CurrentUser) -> int:
    return session.exec(select(func.count()).select_from(Item).where(Item.owner_id == current_user.id)).one()
"""
ROUTER_MAIN = """
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)
"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("guard", ["get_current_user", "get_current_active_user"])
def test_a_router_listing_the_current_user_dependency_the_routes_take_moves_to_its_twin(cli, project, kind, guard):
    routes = ROUTER_GUARDED.replace("GUARD", guard)
    root = project({**files(), "auth.py": AUTH, "api/items.py": routes, "main.py": ROUTER_MAIN})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_item": "migrate", "count_items": "migrate",
    }
    source = read(root, "api/items.py")
    assert f'router = APIRouter(prefix="/items", dependencies=[Depends({guard}_async)])' in source
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Item, User

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with Session(db.engine) as s:
            s.add(User(id=1, email="ann@example.com", hashed_password="x"))
            s.commit()
        with TestClient(app) as client:
            created = client.post("/items/", headers={"x-user": "1"}, json={"title": "Lamp"}).json()
            count = client.get("/items/count", headers={"x-user": "1"}).json()
            stranger = client.post("/items/", headers={"x-user": "9"}, json={"title": "Desk"}).status_code
        with Session(db.engine) as s:
            stored = [(i.title, i.owner_id) for i in s.exec(select(Item)).all()]
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({"created": created, "count": count, "stranger": stranger, "stored": stored}))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {
        "created": {"id": 1, "title": "Lamp", "owner_id": 1}, "count": 1, "stranger": 403,
        "stored": [["Lamp", 1]],
    }


# The template's create_item: `Item.model_validate(item_in, update={"owner_id": ...})`, added,
# committed, refreshed and returned, in the route or in crud, through a response model nesting
# the owner. SQLModel builds a new object there, as `Item(...)` does: the refresh naming the
# relationship is added after the last Session statement (it was blocked, AM222).
BUILT_ROUTES = """
from typing import Any

from fastapi import APIRouter

import crud
from db import SessionDep
from models import Item, ItemCreate, ItemWithOwner

router = APIRouter()


@router.post("/users/{user_id}/items", response_model=ItemWithOwner)
def create_item(session: SessionDep, user_id: int, item_in: ItemCreate) -> Any:
    item = Item.model_validate(item_in.model_dump(exclude={"tags"}), update={"owner_id": user_id})
    session.add(item)
    session.commit()
    session.refresh(item)
    return item


@router.post("/users/{user_id}/crud-items", response_model=ItemWithOwner)
def create_item_by_crud(session: SessionDep, user_id: int, item_in: ItemCreate) -> Any:
    return crud.create_item(session=session, item_in=item_in, owner_id=user_id)
"""
WITH_OWNER = MODELS + '''

class ItemWithOwner(SQLModel):
    id: int
    title: str
    owner: UserPublic
'''


@pytest.mark.parametrize("kind", KINDS)
def test_an_object_built_by_model_validate_gets_the_refresh_of_the_relationship_it_returns(cli, project, kind):
    root = project({**files(models=WITH_OWNER), "api/items.py": BUILT_ROUTES})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_item": "migrate", "create_item_by_crud": "migrate",
    }
    assert 'await session.refresh(item, attribute_names=["owner"])\n    return item' in read(root, "api/items.py")
    assert 'await session.refresh(db_item, attribute_names=["owner"])\n    return db_item' in read(root, "crud.py")
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Item, User

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with Session(db.engine) as s:
            s.add(User(id=1, email="ann@example.com", hashed_password="x"))
            s.commit()
        with TestClient(app) as client:
            direct = client.post("/users/1/items", json={"title": "Lamp"}).json()
            through = client.post("/users/1/crud-items", json={"title": "Desk"}).json()
        with Session(db.engine) as s:
            stored = sorted((i.title, i.owner_id) for i in s.exec(select(Item)).all())
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({"direct": direct, "through": through, "stored": stored}))
        """
    )
    with database(kind) as url:
        env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": url or f"sqlite:///{root / 'app.db'}"}
        result = run_python(script, cwd=root, env=env, timeout=180, warnings=("error::RuntimeWarning",))
    assert result.returncode == 0, result.stdout + result.stderr
    owner = {"email": "ann@example.com", "id": 1}
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "direct": {"id": 1, "title": "Lamp", "owner": owner},
        "through": {"id": 2, "title": "Desk", "owner": owner},
        "stored": [["Desk", 1], ["Lamp", 1]],
    }


def test_an_object_from_an_overridden_model_validate_returned_with_a_relationship_still_blocks(cli, project):
    models = WITH_OWNER.replace(
        '''class Item(SQLModel, table=True):
    __tablename__ = "tpl_item"''',
        '''class Item(SQLModel, table=True):
    __tablename__ = "tpl_item"

    @classmethod
    def model_validate(cls, obj, *args, **kwargs):
        return super().model_validate(obj, *args, **kwargs)
''',
    )
    root = project({**files(models=models), "api/items.py": BUILT_ROUTES})
    document = run(cli, root)
    for name in ("create_item", "create_item_by_crud"):
        assert handler(document, name)["action"] == "blocked"
        assert "AM222" in handler(document, name)["codes"]


# The template's read_items: `statement = select(Item)...` in each branch of an `if`, run by
# `session.exec(statement)` in each; the response model nests the owner. Each query gets one
# eager load, and the report says so once a query (it said each twice).
BRANCHED_PAGE_ROUTES = """
from typing import Any

from fastapi import APIRouter
from sqlmodel import func, select

from db import SessionDep
from models import Item, ItemsWithOwner

router = APIRouter()


@router.get("/items", response_model=ItemsWithOwner)
def read_items(session: SessionDep, mine: int | None = None, skip: int = 0, limit: int = 100) -> Any:
    if mine is None:
        count = session.exec(select(func.count()).select_from(Item)).one()
        statement = select(Item).offset(skip).limit(limit)
        items = session.exec(statement).all()
    else:
        count = session.exec(select(func.count()).select_from(Item).where(Item.owner_id == mine)).one()
        statement = select(Item).where(Item.owner_id == mine).offset(skip).limit(limit)
        items = session.exec(statement).all()
    return ItemsWithOwner(data=items, count=count)
"""


def test_each_query_of_a_paged_read_is_reported_once_for_its_eager_load(cli, project):
    models = WITH_OWNER + '''

class ItemsWithOwner(SQLModel):
    data: list[ItemWithOwner]
    count: int
'''
    root = project({**files(models=models), "api/items.py": BRANCHED_PAGE_ROUTES})
    found = handler(run(cli, root), "read_items")
    assert found["action"] == "migrate"
    eager = [r for r, code in zip(found["reasons"], found["codes"], strict=True) if code == "AM246"]
    assert len(eager) == 2 and len(set(eager)) == 2, eager
