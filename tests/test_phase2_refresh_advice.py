"""Phase two's refresh and eager-load advice follows what the code holds, and what it plans runs.

Each application is migrated with `phase2 --apply` and RUN on aiosqlite, PostgreSQL and MariaDB:

1. a refresh naming the attributes the route reads after its commit (`db.refresh(user, ["name"])`)
   already makes the read fresh: phase two adds no whole refresh beside it, and the migrated route
   answers what a raw UPDATE wrote;
2. a synchronous sessionmaker a module-level instance holds (`self.SessionLocal =
   sessionmaker(..., expire_on_commit=False)` in `__init__`) keeps objects on commit, as the
   generated async one does: a dependency's object read after the commit is no stale read, and the
   route migrates;
3. a response model field named like a relationship (`UserOut.items: int`) filled from a count
   query through a dict the route validates: no relationship is read, the route migrates with no
   eager load and answers the count;
4. SQLModel's `sa_relationship_kwargs=` given as a module-level dict name (`{"lazy": "selectin"}`):
   the relationship loads eagerly by the mapper, phase two adds no option, and the migrated route
   serves the list;
5. a route building an object whose last Session statement already refreshes the relationship its
   response model reads (`db.refresh(item, ["owner"])`): phase two adds no second refresh, and the
   migrated route serves the owner;
6. a method of a service holding the Session reads, after its commit, a parameter annotated with a
   pydantic model (no ORM object, which a refresh would reject): the route migrates and answers
   what it was given, with the row updated.
"""

from __future__ import annotations

import pytest
from phase2_kit import run_app
from test_phase2_expired_reads import EXPIRING_ENGINE
from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import ENGINE, KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

# ------------------------------------------- 1. a refresh naming the attributes read


PARTIAL = """
@router.put("/users/{user_id}/raw")
def rename_raw(user_id: int, name: str, db: session_dependency):
    user = db.get(User, user_id)
    db.execute(text("UPDATE users SET name = :n WHERE id = :i"), {"n": name, "i": user_id})
    db.commit()
    db.refresh(user, ["name"])
    return {"name": user.name}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_1_a_refresh_naming_the_attribute_read_gets_no_second_refresh_and_answers_the_update(cli, service, kind):
    source = routes(PARTIAL).replace("from sqlalchemy import func, select", "from sqlalchemy import func, select, text")
    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), SUBSYSTEM: source})
    document = apply(cli, root)
    assert handler(document, "rename_raw")["action"] == "migrate", document["handlers"]
    migrated = function(root, SUBSYSTEM, "rename_raw")
    assert migrated.count("refresh(") == 1 and 'await db.refresh(user, ["name"])' in migrated, migrated
    result = serve(root, kind, """
        answer = client.put("/users/1/raw", params={"name": "Zoe"})
        print(json.dumps([answer.status_code, answer.json()]))
    """)
    assert result == [200, {"name": "Zoe"}]


# ------------------------------------------- 2. a held sessionmaker keeping objects


HELD_ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker


class Database:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.SessionLocal = sessionmaker(bind=self.engine, expire_on_commit=False)


db = Database(os.environ["DATABASE_URL"])


def get_db_session() -> Iterator[Session]:
    with db.SessionLocal() as session:
        yield session
"""
HELD_ROUTES = """
def first_user(db: Session = Depends(get_db_session)) -> User:
    return db.scalars(select(User).order_by(User.id)).all()[0]


@router.put("/me")
def rename_me(name: str, user: User = Depends(first_user), db: Session = Depends(get_db_session)):
    user.name = name
    db.commit()
    return {"name": user.name}
"""
HELD_SCRIPT = """
import json

from fastapi.testclient import TestClient
from sqlalchemy import select

import db.engine as stack
from main import app
from models import Base, User

Base.metadata.drop_all(stack.db.engine)
Base.metadata.create_all(stack.db.engine)
with stack.db.SessionLocal() as s:
    s.add_all([User(id=1, name="Ann"), User(id=2, name="Bob")])
    s.commit()
with TestClient(app) as client:
    answer = client.put("/me", params={"name": "Zoe"})
    if hasattr(stack, "async_engine"):
        client.portal.call(stack.async_engine.dispose)
with stack.db.SessionLocal() as s:
    names = list(s.scalars(select(User.name).order_by(User.id)))
Base.metadata.drop_all(stack.db.engine)
stack.db.engine.dispose()
print(json.dumps({"answer": [answer.status_code, answer.json()], "names": names}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_2_a_held_sessionmaker_keeping_objects_lets_the_route_read_its_dependencys_object_after_commit(
    cli, service, kind
):
    root = service({"db/engine.py": dedent(HELD_ENGINE), SUBSYSTEM: routes(HELD_ROUTES)})
    document = apply(cli, root)
    found = handler(document, "rename_me")
    assert found["action"] == "migrate" and "AM259" not in found["codes"], found
    assert "refresh(" not in function(root, SUBSYSTEM, "rename_me")
    result = run_app(root, kind, dedent(HELD_SCRIPT))
    assert result == {"answer": [200, {"name": "Zoe"}], "names": ["Zoe", "Bob"]}


# ------------------------------------------- 3. a field named like a relationship, given a count


COUNTED_MODELS_ITEM = 'owner: Mapped["User"] = relationship(back_populates="items")'
COUNTED_MODELS_USER = 'items: Mapped[list["Item"]] = relationship(back_populates="owner")'
COUNTED_SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    items: int
"""
COUNTED = """
@router.get("/users/{user_id}", response_model=UserOut)
def read_user(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    n = db.scalar(select(func.count(Item.id)).where(Item.owner_id == user_id))
    return UserOut.model_validate({"id": user.id, "name": user.name, "items": n})
"""


@pytest.mark.parametrize("kind", KINDS)
def test_3_a_field_named_like_a_relationship_given_a_count_migrates_and_answers_the_count(cli, service, kind):
    from phase2_models import user_item_models

    models = user_item_models(COUNTED_MODELS_ITEM, user=COUNTED_MODELS_USER)
    source = routes(COUNTED).replace("from models import", "from schemas import UserOut\nfrom models import")
    root = service({"models.py": models, "schemas.py": dedent(COUNTED_SCHEMAS), SUBSYSTEM: source})
    document = apply(cli, root)
    found = handler(document, "read_user")
    assert (found["action"], found["codes"]) == ("migrate", ["AM201"]), found
    assert "selectinload" not in function(root, SUBSYSTEM, "read_user")
    result = serve(root, kind, """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=1)])
            s.commit()
        answer = client.get("/users/1")
        print(json.dumps([answer.status_code, answer.json()]))
    """)
    assert result == [200, {"id": 1, "name": "Ann", "items": 2}]


# ------------------------------------------- 4. SQLModel's relationship keywords through a name


SQLMODEL_ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlmodel import Session

engine = create_engine(os.environ["DATABASE_URL"])


def get_db_session() -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
"""
SQLMODEL_MODELS = """
from sqlmodel import Field, Relationship, SQLModel

SELECTIN = {"lazy": "selectin"}


class Author(SQLModel, table=True):
    __tablename__ = "named_authors"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    books: list["Book"] = Relationship(back_populates="author", sa_relationship_kwargs=SELECTIN)


class Book(SQLModel, table=True):
    __tablename__ = "named_books"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=50)
    author_id: int | None = Field(default=None, foreign_key="named_authors.id")
    author: Author | None = Relationship(back_populates="books")
"""
SQLMODEL_ROUTER = """
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from db.engine import get_db_session
from models import Author

router = APIRouter()


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    books: list[BookOut]


@router.get("/authors/{author_id}", response_model=AuthorOut)
def read_author(author_id: int, db: Session = Depends(get_db_session)):
    return db.get(Author, author_id)
"""
SQLMODEL_SCRIPT = """
import json

from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

import db.engine as stack
from main import app
from models import Author, Book

SQLModel.metadata.drop_all(stack.engine)
SQLModel.metadata.create_all(stack.engine)
with Session(stack.engine) as s:
    s.add(Author(id=1, name="Ann"))
    s.add_all([Book(title="Emma", author_id=1), Book(title="Persuasion", author_id=1)])
    s.commit()
with TestClient(app) as client:
    answer = client.get("/authors/1")
    if hasattr(stack, "async_engine"):
        client.portal.call(stack.async_engine.dispose)
SQLModel.metadata.drop_all(stack.engine)
stack.engine.dispose()
print(json.dumps([answer.status_code, answer.json()]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_4_a_relationship_declared_eager_through_a_named_kwargs_dict_gets_no_option_and_is_served(
    cli, project, kind
):
    root = project({
        "db/__init__.py": "", "db/engine.py": dedent(SQLMODEL_ENGINE), "models.py": dedent(SQLMODEL_MODELS),
        "api/__init__.py": "", SUBSYSTEM: dedent(SQLMODEL_ROUTER),
        "main.py": "from fastapi import FastAPI\n\nfrom api.items import router\n\napp = FastAPI()\n"
                   "app.include_router(router)\n",
    })
    document = apply(cli, root)
    assert handler(document, "read_author")["action"] == "migrate", document["handlers"]
    assert "selectinload" not in function(root, SUBSYSTEM, "read_author")
    result = run_app(root, kind, dedent(SQLMODEL_SCRIPT))
    assert result[0] == 200 and sorted(b["title"] for b in result[1]["books"]) == ["Emma", "Persuasion"], result


# ------------------------------------------- 5. a built object's relationship refreshed by the route


BUILT_SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: OwnerOut
"""
BUILT = """
@router.post("/items", response_model=ItemOut)
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    db.refresh(item, ["owner"])
    return item
"""


@pytest.mark.parametrize("kind", KINDS)
def test_5_a_built_objects_relationship_the_route_refreshes_gets_no_second_refresh_and_is_served(
    cli, service, kind
):
    from phase2_models import user_item_models

    models = user_item_models('owner: Mapped["User"] = relationship()')
    source = routes(BUILT).replace("from models import", "from schemas import ItemOut\nfrom models import")
    root = service({"models.py": models, "schemas.py": dedent(BUILT_SCHEMAS), SUBSYSTEM: source})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert (found["action"], found["codes"]) == ("migrate", ["AM201"]), found
    migrated = function(root, SUBSYSTEM, "create_item")
    assert migrated.count("refresh(") == 1 and 'await db.refresh(item, ["owner"])' in migrated, migrated
    result = serve(root, kind, """
        answer = client.post("/items", params={"name": "pen"})
        print(json.dumps([answer.status_code, answer.json()]))
    """)
    assert result == [200, {"name": "pen", "owner": {"name": "Ann"}}]


# ------------------------------------------- 6. a pydantic parameter read after a held commit


PATCH_SERVICE = """
from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item


class Patch(BaseModel):
    name: str


class ItemService:
    def __init__(self, db: Session = Depends(get_db_session)):
        self.db = db

    def rename(self, item_id: int, data: Patch) -> dict:
        self.db.execute(update(Item).where(Item.id == item_id).values(name=data.name))
        self.db.commit()
        return {"name": data.name}
"""
PATCH_ROUTES = """
from services import ItemService, Patch


@router.put("/items/{item_id}")
def rename(item_id: int, data: Patch, service: ItemService = Depends(ItemService)):
    return service.rename(item_id, data)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_6_a_pydantic_parameter_read_after_a_held_commit_migrates_and_answers(cli, service, kind):
    engine = dedent(ENGINE).replace(*EXPIRING_ENGINE)
    root = service({"db/engine.py": engine, "services.py": dedent(PATCH_SERVICE), SUBSYSTEM: routes(PATCH_ROUTES)})
    document = apply(cli, root)
    found = handler(document, "rename")
    assert found["action"] == "migrate" and "AM259" not in found["codes"], found
    result = serve(root, kind, """
        with Sync() as s:
            s.add(Item(id=1, name="pen", owner_id=1))
            s.commit()
        answer = client.put("/items/1", json={"name": "cup"})
        with Sync() as s:
            stored = s.scalar(select(Item.name).where(Item.id == 1))
        print(json.dumps([answer.status_code, answer.json(), stored]))
    """)
    assert result == [200, {"name": "cup"}, "cup"]
