"""Phase two says what made the stack SQLModel's.

On a synchronous stack handing out `sqlmodel.Session`, the generated async sessionmaker makes
SQLModel's AsyncSession (`class_=`), and the migrated code is written for it (`await
db.exec(...)`). The plan said nothing of it; a follow-up now says so and names what made it
so: the sessionmaker's `class_=` or the session dependency opening SQLModel's Session, with its
file and line. A plain SQLAlchemy stack gets no such follow-up.
"""

from __future__ import annotations

from test_phase2_rules import run

DB = {
    "class_": '''
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

engine = create_engine("sqlite:///./app.db")
SessionLocal = sessionmaker(engine, class_=Session, expire_on_commit=False)


def get_db():
    with SessionLocal() as s:
        yield s
''',
    "opened": '''
from sqlmodel import Session, create_engine

engine = create_engine("sqlite:///./app.db")


def get_db():
    with Session(engine) as s:
        yield s
''',
    "sqlalchemy": '''
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./app.db")
SessionLocal = sessionmaker(engine, expire_on_commit=False)


def get_db():
    with SessionLocal() as s:
        yield s
''',
}
MODELS = '''
from sqlmodel import Field, SQLModel


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
'''
ROUTES = '''
from fastapi import APIRouter, Depends
from sqlmodel import Session, select

from db import get_db
from models import Item

router = APIRouter()


@router.get("/items")
def names(db: Session = Depends(get_db)):
    return [i.name for i in db.exec(select(Item)).all()]
'''
MAIN = '''
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)
'''
LEAD = "the async sessions are SQLModel's AsyncSession"


def _follow_ups(cli, project, db: str) -> list[str]:  # type: ignore[no-untyped-def]
    root = project({"db.py": DB[db], "models.py": MODELS, "api/__init__.py": "", "api/items.py": ROUTES, "main.py": MAIN})
    document = run(cli, root, subsystem="api/items.py")
    assert [h["action"] for h in document["handlers"]] == ["migrate"], document["handlers"]
    return document["subsystem"]["follow_ups"]


def test_a_sessionmaker_given_sqlmodels_session_is_named(cli, project):
    found = [f for f in _follow_ups(cli, project, "class_") if f.startswith(LEAD)]
    assert found == [
        f"{LEAD} (`class_=` sqlmodel.ext.asyncio.session.AsyncSession), since the synchronous ones are SQLModel's "
        "Session: db.py:5: the sessionmaker `SessionLocal` makes sqlmodel.Session (`class_=`)"
    ], found


def test_a_dependency_opening_sqlmodels_session_is_named(cli, project):
    found = [f for f in _follow_ups(cli, project, "opened") if f.startswith(LEAD)]
    assert found == [
        f"{LEAD} (`class_=` sqlmodel.ext.asyncio.session.AsyncSession), since the synchronous ones are SQLModel's "
        "Session: db.py:7: the session dependency db.get_db opens sqlmodel.Session"
    ], found


def test_near_miss_a_sqlalchemy_stack_gets_no_such_follow_up(cli, project):
    assert not [f for f in _follow_ups(cli, project, "sqlalchemy") if "SQLModel" in f]
