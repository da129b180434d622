"""Phase two on SQLModel's paging shape: a statement kept in a local name, extended in branches
(`statement = statement.where(...)`), and paged in the query's own argument,
`session.exec(statement.offset(offset).limit(limit)).all()`; and a repository method
loading by key on the Session it holds, `self.session.get(Item, item_id)`.

- The objects of `session.exec(statement.offset(n).limit(k))` are those of the select the name
  is bound to: a relationship the response model reads gets its eager load where the name is
  bound (on every binding that may reach the query), and an option the chain writes itself
  counts. The route was blocked (AM222, "not eager-loaded in the route's queries") although
  the query was one phase two rewrites; a helper sharing it with a route that reads nothing
  loads a little more, as it does for an inline select.
- A relationship read on what `self.session.get(...)` hands back in a repository method stays
  blocked (the query is not one phase two adds options to), and the reason now names that
  method and line (AM245), as it did for a `select()` there; before it said only "not
  eager-loaded in the route's queries". A `get()`'s `options=` credit nothing: an object the
  Session holds already is handed back as it is.

The migrated paging routes are RUN with TestClient on the generated stack (aiosqlite, and
PostgreSQL and MariaDB when a server answers): what the routes wrote is read back.
"""

from __future__ import annotations

import pytest
from phase2_kit import run_app
from test_phase2_rules import apply, dedent, function, handler, run
from test_phase2_soundness import KINDS
from test_phase2_sqlmodel_template import MAIN, MODELS

DB = """
import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session, create_engine

engine = create_engine(os.environ["DATABASE_URL"])


def get_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
"""

SCHEMAS = MODELS + """

class ItemWithOwner(SQLModel):
    id: int
    title: str
    owner: UserPublic
"""

CRUD = """
from sqlmodel import Session, select

from models import Item, User


def list_items(session: Session, offset: int = 0, limit: int = 100, min_quantity: int | None = None):
    statement = select(Item).order_by(Item.id)
    if min_quantity is not None:
        statement = statement.where(Item.quantity >= min_quantity)
    return session.exec(statement.offset(offset).limit(limit)).all()


def add_item(session: Session, owner_id: int, title: str, quantity: int) -> Item:
    item = Item(title=title, quantity=quantity, owner_id=owner_id)
    session.add(item)
    session.commit()
    session.refresh(item)
    return item


def add_user(session: Session, email: str) -> User:
    user = User(email=email, hashed_password="x")
    session.add(user)
    session.commit()
    session.refresh(user)
    return user
"""

ROUTES = """
from fastapi import APIRouter
from sqlalchemy.orm import selectinload
from sqlmodel import select

import crud
from db import SessionDep
from models import Item, ItemPublic, ItemWithOwner, UserPublic

router = APIRouter()


@router.post("/users", response_model=UserPublic)
async def create_user(session: SessionDep, email: str):
    return crud.add_user(session, email)


@router.post("/users/{user_id}/items", response_model=ItemPublic)
async def create_item(session: SessionDep, user_id: int, title: str, quantity: int = 0):
    return crud.add_item(session, user_id, title, quantity)


@router.get("/items", response_model=list[ItemWithOwner])
async def read_items(session: SessionDep, offset: int = 0, limit: int = 100, min_quantity: int | None = None):
    return crud.list_items(session, offset=offset, limit=limit, min_quantity=min_quantity)


@router.get("/items/plain", response_model=list[ItemPublic])
async def read_plain_items(session: SessionDep, offset: int = 0, limit: int = 100):
    return crud.list_items(session, offset=offset, limit=limit)


@router.get("/items/newest", response_model=list[ItemWithOwner])
async def read_newest(session: SessionDep, limit: int = 2, oldest: bool = False):
    if oldest:
        statement = select(Item).order_by(Item.id)
    else:
        statement = select(Item).order_by(Item.id.desc())
    return session.exec(statement.limit(limit)).all()


@router.get("/items/loaded", response_model=list[ItemWithOwner])
async def read_loaded(session: SessionDep, offset: int = 0):
    statement = select(Item).order_by(Item.id)
    return session.exec(statement.options(selectinload(Item.owner)).offset(offset)).all()
"""


def files(routes: str = ROUTES, crud: str = CRUD) -> dict[str, str]:
    return {
        "db.py": DB,
        "models.py": SCHEMAS,
        "crud.py": crud,
        "api/__init__.py": "",
        "api/items.py": routes,
        "main.py": MAIN,
    }


def test_a_statement_paged_in_the_query_gets_the_eager_load_where_it_is_bound(cli, project):
    root = project(files())
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_user": "migrate", "create_item": "migrate", "read_items": "migrate", "read_plain_items": "migrate",
        "read_newest": "migrate", "read_loaded": "migrate",
    }
    assert "AM246" in handler(document, "read_items")["codes"]
    assert function(root, "crud.py", "list_items") == dedent(
        """
        async def list_items(session: AsyncSession, offset: int = 0, limit: int = 100, min_quantity: int | None = None):
            statement = select(Item).order_by(Item.id).options(selectinload(Item.owner))
            if min_quantity is not None:
                statement = statement.where(Item.quantity >= min_quantity)
            return (await session.exec(statement.offset(offset).limit(limit))).all()
        """
    )
    # bound in branches: the option goes on each binding that reaches the query
    assert function(root, "api/items.py", "read_newest") == dedent(
        """
        async def read_newest(session: async_session_dependency, limit: int = 2, oldest: bool = False):
            if oldest:
                statement = select(Item).order_by(Item.id).options(selectinload(Item.owner))
            else:
                statement = select(Item).order_by(Item.id.desc()).options(selectinload(Item.owner))
            return (await session.exec(statement.limit(limit))).all()
        """
    )
    # the near miss: the chain loads the relationship itself, and no second option is added
    assert "AM246" not in handler(document, "read_loaded")["codes"]
    assert function(root, "api/items.py", "read_loaded") == dedent(
        """
        async def read_loaded(session: async_session_dependency, offset: int = 0):
            statement = select(Item).order_by(Item.id)
            return (await session.exec(statement.options(selectinload(Item.owner)).offset(offset))).all()
        """
    )


@pytest.mark.parametrize("kind", KINDS)
def test_migrated_paging_routes_write_and_serve_the_owners(cli, project, kind):
    root = project(files())
    document = apply(cli, root)
    assert {h["action"] for h in document["handlers"]} == {"migrate"}
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Item

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            ann = client.post("/users", params={"email": "ann@example.com"}).json()
            bob = client.post("/users", params={"email": "bob@example.com"}).json()
            for title, owner, quantity in [("Lamp", ann, 1), ("Desk", bob, 5), ("Sofa", ann, 9)]:
                client.post(f"/users/{owner['id']}/items", params={"title": title, "quantity": quantity})
            paged = client.get("/items", params={"offset": 1, "limit": 2}).json()
            many = client.get("/items", params={"min_quantity": 5}).json()
            plain = client.get("/items/plain", params={"limit": 1}).json()
            newest = client.get("/items/newest").json()
            oldest = client.get("/items/newest", params={"oldest": True, "limit": 1}).json()
            loaded = client.get("/items/loaded", params={"offset": 2}).json()
        with Session(db.engine) as s:
            stored = [(i.title, i.owner.email, i.quantity) for i in s.exec(select(Item).order_by(Item.id)).all()]
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)

        def owners(rows):
            return [(row["title"], row["owner"]["email"]) for row in rows]

        print(json.dumps({
            "paged": owners(paged), "many": owners(many), "plain": [row["title"] for row in plain],
            "newest": owners(newest), "oldest": owners(oldest), "loaded": owners(loaded), "stored": stored,
        }))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {
        "paged": [["Desk", "bob@example.com"], ["Sofa", "ann@example.com"]],
        "many": [["Desk", "bob@example.com"], ["Sofa", "ann@example.com"]],
        "plain": ["Lamp"],
        "newest": [["Sofa", "ann@example.com"], ["Desk", "bob@example.com"]],
        "oldest": [["Lamp", "ann@example.com"]],
        "loaded": [["Sofa", "ann@example.com"]],
        "stored": [["Lamp", "ann@example.com", 1], ["Desk", "bob@example.com", 5], ["Sofa", "ann@example.com", 9]],
    }


REPO_CRUD = CRUD + """

class ItemRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, item_id: int) -> Item | None:
        return self.session.get(Item, item_id)

    def get_loaded(self, item_id: int) -> Item | None:
        return self.session.get(Item, item_id, options=[selectinload(Item.owner)])
"""
REPO_ROUTES = """
from typing import Annotated

from fastapi import APIRouter, Depends

from crud import ItemRepo
from db import SessionDep
from models import ItemPublic, ItemWithOwner

router = APIRouter()


def get_repo(session: SessionDep) -> ItemRepo:
    return ItemRepo(session)


@router.get("/items/{item_id}", response_model=ItemWithOwner)
async def read_item(item_id: int, repo: Annotated[ItemRepo, Depends(get_repo)]):
    return repo.get(item_id)


@router.get("/items/{item_id}/loaded", response_model=ItemWithOwner)
async def read_loaded_item(item_id: int, repo: Annotated[ItemRepo, Depends(get_repo)]):
    return repo.get_loaded(item_id)


@router.get("/items/{item_id}/owner")
async def read_owner(item_id: int, repo: Annotated[ItemRepo, Depends(get_repo)]):
    item = repo.get(item_id)
    return {"owner": item.owner.email}


@router.get("/items/{item_id}/plain", response_model=ItemPublic)
async def read_plain(item_id: int, repo: Annotated[ItemRepo, Depends(get_repo)]):
    return repo.get(item_id)
"""


def test_a_get_in_a_repository_method_gets_the_eager_load_its_routes_read(cli, project):
    crud = REPO_CRUD.replace("from sqlmodel import", "from sqlalchemy.orm import selectinload\nfrom sqlmodel import")
    root = project(files(routes=REPO_ROUTES, crud=crud))
    document = run(cli, root)
    # the repository's get on the held Session becomes a select loading what the routes read
    for name in ("read_item", "read_owner"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert (
        "(await self.session.exec(select(Item).where(Item.id == item_id).options(selectinload(Item.owner))))"
        ".one_or_none()" in document["diff"]
    ), document["diff"]
    # options given to a get() load nothing into an object the Session holds already
    loaded = handler(document, "read_loaded_item")
    assert loaded["action"] == "blocked", loaded
    assert "crud.py:38: `self.session.get(...)` at line 38 passes `options=`, which `get()` ignores" in loaded["reasons"][0]
    # the near miss: a response model reading no relationship migrates
    assert handler(document, "read_plain")["action"] == "migrate"


TWICE_ROUTES = """
from fastapi import APIRouter
from sqlmodel import select

import crud
from db import SessionDep
from models import Item, UserPublic

router = APIRouter()


@router.post("/users", response_model=UserPublic)
async def create_user(session: SessionDep, email: str):
    return crud.add_user(session, email)


@router.post("/users/{user_id}/items")
async def create_item(session: SessionDep, user_id: int, title: str, quantity: int = 0):
    return {"id": crud.add_item(session, user_id, title, quantity).id}


@router.get("/items/summary")
async def summary(session: SessionDep):
    statement = select(Item).order_by(Item.id)
    first = session.exec(statement).first()
    items = session.exec(statement).all()
    return {"owner": first.owner.email, "tags": [len(item.tags) for item in items]}


@router.get("/items/legacy")
async def legacy(session: SessionDep):
    query = session.query(Item).order_by(Item.id)
    first = query.first()
    items = query.all()
    return {"owner": first.owner.email, "tags": [len(item.tags) for item in items]}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_statement_run_by_two_queries_gets_the_options_both_need(cli, project, kind):
    # each query is a load of its own on the one select: the options of the second replaced the
    # first's, and `first.owner` raised MissingGreenlet (a 500) after the migration
    root = project(files(routes=TWICE_ROUTES))
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_user": "migrate", "create_item": "migrate", "summary": "migrate", "legacy": "migrate",
    }
    summary = function(root, "api/items.py", "summary")
    assert "statement = select(Item).order_by(Item.id).options(selectinload(Item.owner), selectinload(Item.tags))" \
        in summary, summary
    legacy = function(root, "api/items.py", "legacy")
    assert legacy.count("selectinload(Item.owner)") == 1 and legacy.count("selectinload(Item.tags)") == 1, legacy
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Item, Tag

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            ann = client.post("/users", params={"email": "ann@example.com"}).json()
            lamp = client.post(f"/users/{ann['id']}/items", params={"title": "Lamp"}).json()
            client.post(f"/users/{ann['id']}/items", params={"title": "Desk"})
            with Session(db.engine) as s:
                s.add(Tag(name="red", item_id=lamp["id"]))
                s.commit()
            summary = client.get("/items/summary").json()
            legacy = client.get("/items/legacy").json()
        with Session(db.engine) as s:
            stored = [i.title for i in s.exec(select(Item).order_by(Item.id)).all()]
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({"summary": summary, "legacy": legacy, "stored": stored}))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {
        "summary": {"owner": "ann@example.com", "tags": [1, 0]},
        "legacy": {"owner": "ann@example.com", "tags": [1, 0]},
        "stored": ["Lamp", "Desk"],
    }


RESULT_ROUTES = """
from fastapi import APIRouter, HTTPException
from sqlmodel import select

import crud
from db import SessionDep
from models import Item, ItemWithOwner, UserPublic

router = APIRouter()


@router.post("/users", response_model=UserPublic)
async def create_user(session: SessionDep, email: str):
    return crud.add_user(session, email)


@router.post("/users/{user_id}/items")
async def create_item(session: SessionDep, user_id: int, title: str, quantity: int = 0):
    return {"id": crud.add_item(session, user_id, title, quantity).id}


@router.get("/items", response_model=list[ItemWithOwner])
async def read_items(session: SessionDep):
    results = session.exec(select(Item).order_by(Item.id))
    return results.all()


@router.get("/items/first", response_model=ItemWithOwner)
async def read_first(session: SessionDep, newest: bool = False):
    if newest:
        results = session.exec(select(Item).order_by(Item.id.desc()))
    else:
        results = session.exec(select(Item).order_by(Item.id))
    item = results.first()
    if item is None:
        raise HTTPException(status_code=404, detail="none")
    return item


@router.get("/items/owners")
async def read_owners(session: SessionDep):
    result = session.execute(select(Item).order_by(Item.id))
    return [item.owner.email for item in result.scalars().all()]
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_result_kept_in_a_name_gets_the_eager_load_its_objects_need(cli, project, kind):
    # `results = session.exec(stmt)` then `results.all()`: the objects were traced to no query,
    # and the routes were blocked (AM222, AM220) though the query was one phase two rewrites
    root = project(files(routes=RESULT_ROUTES))
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_user": "migrate", "create_item": "migrate", "read_items": "migrate", "read_first": "migrate",
        "read_owners": "migrate",
    }
    assert function(root, "api/items.py", "read_items") == dedent(
        """
        async def read_items(session: async_session_dependency):
            results = await session.exec(select(Item).order_by(Item.id).options(selectinload(Item.owner)))
            return results.all()
        """
    )
    first = function(root, "api/items.py", "read_first")
    assert first.count(".options(selectinload(Item.owner))") == 2, first
    assert "result = await session.execute(select(Item).order_by(Item.id).options(selectinload(Item.owner)))" \
        in function(root, "api/items.py", "read_owners")
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Item

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            missing = client.get("/items/first").status_code
            ann = client.post("/users", params={"email": "ann@example.com"}).json()
            bob = client.post("/users", params={"email": "bob@example.com"}).json()
            client.post(f"/users/{ann['id']}/items", params={"title": "Lamp"})
            client.post(f"/users/{bob['id']}/items", params={"title": "Desk"})
            items = client.get("/items").json()
            first = client.get("/items/first").json()
            newest = client.get("/items/first", params={"newest": True}).json()
            owners = client.get("/items/owners").json()
        with Session(db.engine) as s:
            stored = [(i.title, i.owner.email) for i in s.exec(select(Item).order_by(Item.id)).all()]
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({
            "missing": missing, "items": [(i["title"], i["owner"]["email"]) for i in items],
            "first": first["owner"]["email"], "newest": newest["owner"]["email"], "owners": owners, "stored": stored,
        }))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {
        "missing": 404,
        "items": [["Lamp", "ann@example.com"], ["Desk", "bob@example.com"]],
        "first": "ann@example.com",
        "newest": "bob@example.com",
        "owners": ["ann@example.com", "bob@example.com"],
        "stored": [["Lamp", "ann@example.com"], ["Desk", "bob@example.com"]],
    }
