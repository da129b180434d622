"""The Session an ORM object belongs to, reached through SQLAlchemy's own APIs, and read by FastAPI's serialiser.

`Session.object_session(obj)` (the classmethod), `inspect(obj).session` and
`instance_state(obj).session` are the Session that loaded `obj`, as `object_session(obj)` is. A
route that only receives the object (from a `def` dependency) and reaches that Session through
one of them, in a helper, a model method or a property, blocks the event loop as an `async def`.
So does a route whose response model reads a property of what it returns that does Session work
(`UserOut.item_total` on a User), or whose returned pydantic model has a computed field that does:
FastAPI serialises the response on the loop for an `async def` route, nowhere in its body.

`check` reports each, phase one converts each, and the converted application is RUN. Phase two
blocks a route whose helper commits through `inspect(obj).session` on an object the route's
AsyncSession loaded (migrated, that is the synchronous Session inside the AsyncSession: the
commit raised MissingGreenlet), or whose response model reads such a property on an object it
builds; the unchanged routes still write and read, and the near miss migrates and runs.
"""

from __future__ import annotations

import json
import os

import pytest
from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import KINDS, MODELS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MEMBERS = """

    def item_count(self) -> int:
        session = Session.object_session(self)
        return len(session.scalars(select(Item).where(Item.owner_id == self.id)).all())

    @property
    def item_total(self) -> int:
        return inspect(self).session.scalar(select(func.count(Item.id)).where(Item.owner_id == self.id))

    @property
    def shout(self) -> str:
        return self.name.upper()
"""
HELPERS = """
from sqlalchemy import inspect
from sqlalchemy.orm.attributes import instance_state

from models import Item, User


def rename(user: User, name: str) -> User:
    user.name = name
    inspect(user).session.commit()
    return user


def add_item(user: User, name: str) -> None:
    session = instance_state(user).session
    session.add(Item(name=name, owner_id=user.id))
    session.commit()
"""
SCHEMAS = """
from pydantic import BaseModel, ConfigDict, Field, computed_field

from models import User


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    item_total: int


class PlainOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    shout: str


class Summary(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    user: User = Field(exclude=True)

    @computed_field
    @property
    def items(self) -> int:
        return self.user.item_count()
"""
ROUTES = """
def current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


@router.get("/count")
async def count(user: User = Depends(current_user)):
    return {"n": user.item_count()}


@router.get("/me", response_model=UserOut)
async def me(user: User = Depends(current_user)):
    return user


@router.get("/summary", response_model=Summary)
async def summary(user: User = Depends(current_user)):
    return Summary(user=user)


@router.post("/rename")
async def rename_me(name: str, user: User = Depends(current_user)):
    rename(user, name)
    return {"name": user.name}


@router.post("/items")
async def add(name: str, user: User = Depends(current_user)):
    add_item(user, name)
    return {"ok": True}


@router.get("/plain", response_model=PlainOut)
async def plain(user: User = Depends(current_user)):
    return user
"""
BLOCKING = {"count", "me", "summary", "rename_me", "add"}


def _models() -> str:
    source = dedent(MODELS).replace(
        "from sqlalchemy import ForeignKey, String", "from sqlalchemy import ForeignKey, String, func, inspect, select"
    )
    source = source.replace("from sqlalchemy.orm import DeclarativeBase", "from sqlalchemy.orm import DeclarativeBase, Session")
    user, rest = source.split("\n\n\nclass Item(Base):")
    return user + MEMBERS.rstrip() + "\n\n\nclass Item(Base):" + rest + "\n"


def _files(routes_text: str) -> dict[str, str]:
    return {
        "models.py": _models(),
        "helpers.py": dedent(HELPERS) + "\n",
        "schemas.py": dedent(SCHEMAS) + "\n",
        SUBSYSTEM: "from helpers import add_item, rename\nfrom schemas import PlainOut, Summary, UserOut\n" + routes_text,
    }


def test_the_objects_session_through_sqlalchemy_apis_and_the_serialiser_is_found_and_converted(cli, service):
    root = service(_files(routes(ROUTES)))
    checked = cli("check", root, "--format", "json")
    findings = {f["function"]: f["code"] for f in json.loads(checked.stdout)["findings"]}
    assert findings == dict.fromkeys(BLOCKING, "AM301"), checked.stdout
    document = json.loads(cli("phase1", root, "--apply", "--format", "json").stdout)
    for name in BLOCKING:
        assert handler(document, name)["action"] == "convert", handler(document, name)
        assert function(root, SUBSYSTEM, name).startswith(f"def {name}("), function(root, SUBSYSTEM, name)
    me = handler(document, "me")
    assert "AM285" in me["codes"] and "UserOut.item_total" in " ".join(me["reasons"]), me
    assert "Summary.items" in " ".join(handler(document, "summary")["reasons"])
    # near miss: the response model reads a property touching only the object's own columns
    assert handler(document, "plain")["action"] == "keep"
    assert function(root, SUBSYSTEM, "plain").startswith("async def plain(")
    # the computed field still runs on the loop, where FastAPI serialises a def route's result too
    after = json.loads(cli("check", root, "--format", "json").stdout)["findings"]
    assert [(f["function"], f["code"]) for f in after] == [("summary", "AM334")], after
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2)])
            s.commit()
        added = client.post("/items", params={"name": "ink"}).json()
        renamed = client.post("/rename", params={"name": "Ada"}).json()
        with Sync() as s:
            stored = [s.get(User, 1).name, sorted(s.scalars(select(Item.name).where(Item.owner_id == 1)))]
        print(json.dumps([
            added, renamed, stored, client.get("/count").json(), client.get("/me").json(),
            client.get("/summary").json(), client.get("/plain").json(),
        ]))
    """)
    assert result == [
        {"ok": True}, {"name": "Ada"}, ["Ada", ["ink", "pen"]], {"n": 2},
        {"id": 1, "name": "Ada", "item_total": 2}, {"items": 2}, {"id": 1, "name": "Ada", "shout": "ADA"},
    ]


PHASE2_ROUTES = """
@router.post("/users/{user_id}/rename")
def rename_user(user_id: int, name: str, db: Session = Depends(get_db_session)):
    user = db.get(User, user_id)
    rename(user, name)
    return {"name": user.name}


@router.put("/users/{user_id}", response_model=UserOut)
def create_user(user_id: int, name: str, db: Session = Depends(get_db_session)):
    # the id given: a database's sequence knows nothing of the rows the test inserts by id
    user = User(id=user_id, name=name)
    db.add(user)
    db.commit()
    return user


@router.post("/users/{user_id}/plain", response_model=PlainOut)
def plain_user(user_id: int, db: Session = Depends(get_db_session)):
    user = db.get(User, user_id)
    user.name = user.name + "!"
    db.commit()
    return user
"""


@pytest.mark.parametrize("kind", KINDS)
def test_phase_two_blocks_work_on_the_objects_own_session_and_the_unchanged_routes_still_write(cli, service, kind):
    root = service(_files(routes(PHASE2_ROUTES)))
    document = apply(cli, root)
    renamed = handler(document, "rename_user")
    assert renamed["action"] == "blocked", renamed["reasons"]
    assert "inspect().session.commit()" in " ".join(renamed["reasons"]), renamed
    created = handler(document, "create_user")
    assert created["action"] == "blocked" and "AM241" in created["codes"], created
    [reason] = [r for r, c in zip(created["reasons"], created["codes"], strict=True) if c == "AM241"]
    assert "response model field UserOut.item_total runs property User.item_total" in reason, reason
    assert "on the Session the object belongs to" in reason and "MissingGreenlet" in reason, reason
    # near miss: only columns are read off what it returns
    assert handler(document, "plain_user")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "plain_user").startswith("async def plain_user(")
    assert function(root, SUBSYSTEM, "rename_user").startswith("def rename_user(")
    result = serve(root, kind, """
        renamed = client.post("/users/2/rename", params={"name": "Bea"})
        created = client.put("/users/3", params={"name": "Cy"})
        plain = client.post("/users/1/plain")
        with Sync() as s:
            names = sorted(s.scalars(select(User.name)))
        print(json.dumps([renamed.json(), created.json(), plain.json(), names]))
    """)
    assert result == [
        {"name": "Bea"}, {"id": 3, "name": "Cy", "item_total": 0}, {"id": 1, "name": "Ann!", "shout": "ANN!"},
        ["Ann!", "Bea", "Cy"],
    ]


ASYNC_APP = """
import asyncio
import json
import os
import os

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["DATABASE_URL"])
maker = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]

    @property
    def total(self) -> int:
        return inspect(self).session.scalar(select(func.count(Thing.id)))

    @property
    def shout(self) -> str:
        return self.name.upper()


class CountedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    total: int


class ShoutOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    shout: str


async def get_db():
    async with maker() as db:
        yield db


app = FastAPI()


@app.get("/counted", response_model=CountedOut)
async def counted(db: AsyncSession = Depends(get_db)):
    return await db.get(Thing, 1)


@app.get("/total")
async def total(db: AsyncSession = Depends(get_db)):
    thing = await db.get(Thing, 1)
    return {"n": thing.total}


@app.get("/shout", response_model=ShoutOut)
async def shout(db: AsyncSession = Depends(get_db)):
    return await db.get(Thing, 1)


if __name__ == "__main__":
    async def setup():
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with maker() as db:
            db.add(Thing(id=1, name="pen"))
            await db.commit()

    asyncio.run(setup())
    with TestClient(app, raise_server_exceptions=False) as client:
        print(json.dumps([client.get(p).status_code for p in ("/counted", "/total", "/shout")]))
"""


def test_check_reports_model_code_on_the_objects_own_session_under_an_async_session(cli, project):
    # Hand-migrated routes on an AsyncSession: the property reaches the synchronous Session inside
    # it, and the query there raises MissingGreenlet, in the body or while the response is serialised.
    root = project({"app.py": dedent(ASYNC_APP) + "\n"})
    from sample import run_python

    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{root / 'app.db'}"}
    ran = run_python("import runpy; runpy.run_path('app.py', run_name='__main__')", cwd=root, env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == [500, 500, 200]
    findings = json.loads(cli("check", root, "--format", "json").stdout)["findings"]
    reported = {f["function"]: f for f in findings}
    assert set(reported) == {"counted", "total"}, findings
    for name in ("counted", "total"):
        assert reported[name]["code"] == "AM314", reported[name]
        assert "the synchronous Session behind the AsyncSession" in reported[name]["message"], reported[name]
    assert "CountedOut.total (runs Thing.total while the response is serialised" in reported["counted"]["message"]
