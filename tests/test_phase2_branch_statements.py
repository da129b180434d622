"""Phase two on a statement bound to a name in branches, as the full-stack template's
`read_items` writes it:

    if current_user.is_superuser:
        statement = select(Item).offset(skip).limit(limit)
        items = session.exec(statement).all()
    else:
        statement = select(Item).where(Item.owner_id == current_user.id).offset(skip).limit(limit)
        items = session.exec(statement).all()
    return ItemsPublic(data=items, count=count)

The query loads what one of the bound statements selects: each is a load, and the eager load
the response model needs goes on every one of them (the route was blocked, AM222, as if no
query could take it). A statement run twice, its results read for different relationships,
takes both options at its one call. The migrated code is RUN.
"""

from __future__ import annotations

import json
import os

from sample import database, run_python
from test_phase2_rules import apply, dedent, handler
from test_phase2_sqlmodel_template import CRUD, DB, MAIN, MODELS

SCHEMAS = MODELS + """

class ItemDeep(SQLModel):
    title: str
    owner: UserPublic


class ItemsDeep(SQLModel):
    data: list[ItemDeep]
    count: int
"""

ROUTES = """
from typing import Any

from fastapi import APIRouter
from sqlmodel import select

from db import SessionDep
from models import Item, ItemsDeep

router = APIRouter()


@router.get("/items", response_model=ItemsDeep)
def read_items(session: SessionDep, mine: int = 0) -> Any:
    if mine:
        statement = select(Item).where(Item.owner_id == mine).order_by(Item.id)
        items = session.exec(statement).all()
    else:
        statement = select(Item).order_by(Item.id)
        items = session.exec(statement).all()
    return ItemsDeep(data=items, count=len(items))


@router.get("/titles")
def titles(session: SessionDep, mine: int = 0) -> list[str]:
    if mine:
        statement = select(Item).where(Item.owner_id == mine)
    else:
        statement = select(Item)
    statement = statement.order_by(Item.id)
    return [f"{i.title}:{i.owner.email}" for i in session.exec(statement).all()]


@router.get("/mixed")
def mixed(session: SessionDep) -> dict[str, list]:
    statement = select(Item).order_by(Item.id)
    owners = [i.owner.email for i in session.exec(statement).all()]
    tags = [len(i.tags) for i in session.exec(statement).all()]
    return {"owners": owners, "tags": tags}
"""


def test_a_statement_bound_in_branches_takes_the_eager_load_in_each(cli, project):
    root = project({
        "db.py": DB, "models.py": SCHEMAS, "crud.py": CRUD, "api/__init__.py": "", "api/items.py": ROUTES,
        "main.py": MAIN,
    })
    document = apply(cli, root, subsystem="api/items.py")
    for name in ("read_items", "titles", "mixed"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = (root / "api/items.py").read_text()
    assert text.count(".options(selectinload(Item.owner))") == 4, text
    assert ".options(selectinload(Item.owner), selectinload(Item.tags))" in text, text
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel

        import db
        from main import app
        from models import Item, Tag, User

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with Session(db.engine) as s:
            s.add_all([User(id=1, email="ann@x", hashed_password="p"), User(id=2, email="bob@x", hashed_password="p")])
            s.add_all([Item(id=1, title="Lamp", owner_id=1), Item(id=2, title="Desk", owner_id=2)])
            s.add(Tag(name="red", item_id=1))
            s.commit()
        with TestClient(app) as client:
            found = {
                "all": client.get("/items").json(),
                "mine": client.get("/items", params={"mine": 2}).json(),
                "titles": client.get("/titles").json(),
                "my_titles": client.get("/titles", params={"mine": 1}).json(),
                "mixed": client.get("/mixed").json(),
            }
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps(found))
        """
    )
    with database("sqlite") as url:
        env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": url or f"sqlite:///{root / 'app.db'}"}
        result = run_python(script, cwd=root, env=env, timeout=180, warnings=("error::RuntimeWarning",))
    assert result.returncode == 0, result.stdout + result.stderr
    ann, bob = {"email": "ann@x", "id": 1}, {"email": "bob@x", "id": 2}
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "all": {"data": [{"title": "Lamp", "owner": ann}, {"title": "Desk", "owner": bob}], "count": 2},
        "mine": {"data": [{"title": "Desk", "owner": bob}], "count": 1},
        "titles": ["Lamp:ann@x", "Desk:bob@x"],
        "my_titles": ["Lamp:ann@x"],
        "mixed": {"owners": ["ann@x", "bob@x"], "tags": [1, 0]},
    }
