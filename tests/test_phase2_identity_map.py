"""Loader options phase two adds must load the relationship even when the Session holds
the object already: `get()` returns that object and ignores `options=`, so a dependency
sharing the request's Session that loaded the row first left the route a lazy load
(MissingGreenlet, a 500). Each shape is migrated and RUN, as in test_phase2_soundness."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_models import user_item_models
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import SUBSYSTEM, dedent, serve

service = test_phase2_soundness.service

MODELS = user_item_models('owner: Mapped[User] = relationship(back_populates="items")', user='items: Mapped[list["Item"]] = relationship(back_populates="owner")')

ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False{extra})


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""

ROUTES = """
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import User

router = APIRouter()


class ItemOut(BaseModel):
    name: str
    model_config = {{"from_attributes": True}}


class UserOut(BaseModel):
    id: int
    name: str
    items: list[ItemOut]
    model_config = {{"from_attributes": True}}


{extra}

def current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


@router.get("/users/{{user_id}}", response_model=UserOut)
def read_user(user_id: int, me: User = Depends(current_user), db: Session = Depends(get_db_session)):
    me.name = me.name + "?"
    user = db.{method}(User, user_id)
    if user is None:
        raise HTTPException(status_code=404)
    return user
"""

SCRIPT = """
with Sync() as s:
    s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2)])
    s.commit()
own = client.get("/users/1")
other = client.get("/users/2")
missing = client.get("/users/9").status_code if {missing} else None
print(json.dumps({{"own": [own.status_code, own.json()], "other": [other.status_code, other.json()],
                  "missing": missing}}))
"""


@pytest.mark.parametrize(("method", "autoflush"), [("get", ""), ("get", ", autoflush=False"), ("get_one", "")])
def test_an_eager_load_on_a_get_loads_an_object_a_dependency_loaded_first(cli, service, method, autoflush):
    root = service({
        "db/engine.py": dedent(ENGINE.format(extra=autoflush)),
        "models.py": dedent(MODELS),
        SUBSYSTEM: dedent(ROUTES.format(method=method, extra="")),
    })
    document = apply(cli, root)
    assert handler(document, "read_user")["action"] == "migrate"
    result = serve(root, "sqlite", SCRIPT.format(missing=method == "get"))
    terminal = "one" if method == "get_one" else "one_or_none"
    assert (
        f"    user = (await db.scalars(select(User).where(User.id == user_id).options(selectinload(User.items))))"
        f".{terminal}()\n"
    ) in function(root, SUBSYSTEM, "read_user")
    # the change the route made before the load is kept, flushed or not
    assert result["own"] == [200, {"id": 1, "name": "Ann?", "items": [{"name": "pen"}]}]
    assert result["other"] == [200, {"id": 2, "name": "Bob", "items": [{"name": "cup"}]}]
    assert result["missing"] == (404 if method == "get" else None)


JOINED_MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    badges: Mapped[list["Badge"]] = relationship(lazy="joined", order_by="Badge.id")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    items: Mapped[list["Item"]] = relationship(back_populates="owner")
    {user_extra}


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner: Mapped[User] = relationship(back_populates="items")


class Badge(Base):
    __tablename__ = "badges"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
"""


@pytest.mark.parametrize("method", ["get", "get_one"])
@pytest.mark.parametrize("user_extra", [
    # a joined eager collection on the class itself
    'badges: Mapped[list["Badge"]] = relationship(lazy="joined", order_by="Badge.id")',
    # one on what a joined many-to-one leads to
    'team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)\n'
    '    team: Mapped[Team | None] = relationship(lazy="joined")',
])
def test_a_get_made_a_select_of_a_class_with_a_joined_eager_collection_is_made_unique(
    cli, service, method, user_extra
):
    # `get()` de-duplicates the rows a joined eager collection repeats; a 2.0 select raises
    # InvalidRequestError ("unique() must be invoked") on every request without `.unique()`.
    models = dedent(JOINED_MODELS).replace("{user_extra}", user_extra)
    root = service({"models.py": models, SUBSYSTEM: dedent(ROUTES.format(method=method, extra=""))})
    document = apply(cli, root)
    assert handler(document, "read_user")["action"] == "migrate", handler(document, "read_user")
    result = serve(root, "sqlite", """
        from models import Badge, Team
        with Sync() as s:
            s.add(Team(id=1))
            s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2)])
            s.add_all([Badge(user_id=1, team_id=1), Badge(user_id=1, team_id=1), Badge(user_id=2, team_id=1)])
            s.flush()
            if hasattr(User, "team_id"):
                s.get(User, 1).team_id = 1
            s.commit()
        own = client.get("/users/1")
        other = client.get("/users/2")
        print(json.dumps({"own": [own.status_code, own.json()], "other": [other.status_code, other.json()]}))
    """)
    assert result["own"] == [200, {"id": 1, "name": "Ann?", "items": [{"name": "pen"}]}]
    assert result["other"] == [200, {"id": 2, "name": "Bob", "items": [{"name": "cup"}]}]
    assert ".unique()." in function(root, SUBSYSTEM, "read_user")


@pytest.mark.parametrize("written", [
    "db.get(User, user_id, options=[selectinload(User.items)])",
    "db.query(User).get(user_id)",
    "db.query(User).options(selectinload(User.items)).get(user_id)",
])
def test_a_get_the_project_writes_with_options_or_as_a_legacy_query_blocks(cli, service, written):
    routes = ROUTES.format(method="get", extra="from sqlalchemy.orm import selectinload\n").replace(
        "db.get(User, user_id)", written
    )
    root = service({"models.py": dedent(MODELS), SUBSYSTEM: dedent(routes)})
    document = apply(cli, root)
    found = handler(document, "read_user")
    result = serve(root, "sqlite", SCRIPT.format(missing=True))
    assert result["own"] == [200, {"id": 1, "name": "Ann?", "items": [{"name": "pen"}]}], found
    assert result["other"] == [200, {"id": 2, "name": "Bob", "items": [{"name": "cup"}]}]
    # the unchanged route works; a migrated one would keep `get()`, which ignores the options
    assert found["action"] == "blocked" and found["codes"] == ["AM247"], found
    assert "`get()` ignores loader options" in found["reasons"][0] or "which `get()` ignores" in found["reasons"][0]


def test_a_get_on_a_model_without_one_known_primary_key_column_blocks(cli, service):
    # mapper arguments the tool cannot read may name another key (`"primary_key": [...]`)
    models = MODELS.replace(
        '    __tablename__ = "users"\n', '    __tablename__ = "users"\n    __mapper_args__ = MAPPER_ARGS\n'
    ).replace("class User(Base):", 'MAPPER_ARGS = {"eager_defaults": True}\n\n\nclass User(Base):')
    root = service({"models.py": dedent(models), SUBSYSTEM: dedent(ROUTES.format(method="get", extra=""))})
    found = handler(apply(cli, root), "read_user")
    assert found["action"] == "blocked" and found["codes"] == ["AM247"], found
    assert "does not find the one primary key column of User" in found["reasons"][0]
    result = serve(root, "sqlite", SCRIPT.format(missing=True))
    assert result["own"] == [200, {"id": 1, "name": "Ann?", "items": [{"name": "pen"}]}]


@pytest.mark.parametrize("mapper_args", [
    '{"eager_defaults": True}',
    '{"polymorphic_on": "kind", "polymorphic_identity": "user", "version_id_col": version}',
])
def test_a_get_on_a_model_whose_mapper_args_leave_its_key_alone_migrates(cli, service, mapper_args):
    """`__mapper_args__` written as a dict without `primary_key` (inheritance, versioning,
    eager defaults) keeps the declared key: `get()` becomes a `select` on it and the route
    migrates, where any `__mapper_args__` used to block it with 'does not find the one
    primary key column'."""
    models = MODELS.replace(
        '    name: Mapped[str] = mapped_column(String(100))\n    items',
        '    name: Mapped[str] = mapped_column(String(100))\n    kind: Mapped[str] = mapped_column(String(20), default="user")\n'
        '    version: Mapped[int] = mapped_column(default=1)\n'
        f'    __mapper_args__ = {mapper_args}\n    items',
    )
    root = service({"models.py": dedent(models), SUBSYSTEM: dedent(ROUTES.format(method="get", extra=""))})
    found = handler(apply(cli, root), "read_user")
    assert found["action"] == "migrate", found
    assert "select(User).where(User.id == user_id)" in (root / SUBSYSTEM).read_text()
    result = serve(root, "sqlite", SCRIPT.format(missing=True))
    assert result["own"] == [200, {"id": 1, "name": "Ann?", "items": [{"name": "pen"}]}]
    assert result["other"] == [200, {"id": 2, "name": "Bob", "items": [{"name": "cup"}]}]
    assert result["missing"] == 404


def test_a_legacy_query_written_over_several_lines_is_no_get(cli, service):
    """A parenthesised chain over several lines (`(db.query(User)\n.options(...)\n.first())`) runs
    its loader options like any query; read as text outside its parentheses it failed to parse
    and was taken for a legacy `.get()`, which blocked the route with a reason about `get()`."""
    written = (
        "(\n        db.query(User)\n        .options(selectinload(User.items))\n"
        "        .filter(User.id == user_id)\n        .first()\n    )"
    )
    routes = ROUTES.format(method="get", extra="from sqlalchemy.orm import selectinload\n").replace(
        "db.get(User, user_id)", written
    )
    root = service({"models.py": dedent(MODELS), SUBSYSTEM: dedent(routes)})
    found = handler(apply(cli, root), "read_user")
    assert found["action"] == "migrate", found
    result = serve(root, "sqlite", SCRIPT.format(missing=True))
    assert result["own"] == [200, {"id": 1, "name": "Ann?", "items": [{"name": "pen"}]}]
    assert result["other"] == [200, {"id": 2, "name": "Bob", "items": [{"name": "cup"}]}]
    assert result["missing"] == 404
