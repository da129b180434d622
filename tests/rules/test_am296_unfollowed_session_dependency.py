"""AM296 unfollowed-session-dependency: a route receiving the Session through a `Depends(...)`
expression (a lambda, a call) is blocked in phase two, never migrated with the expression still
handing over the synchronous Session; the same route on the session dependency itself migrates,
and the migrated route writes its row."""

from __future__ import annotations

from test_phase2_rules import MODELS, RUNTIME_ENGINE, handler, run_python

ROUTER = """
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Author

router = APIRouter()


def make_dependency():
    return get_db_session


@router.get("/by-next")
async def by_next(db=Depends(lambda: next(get_db_session()))):
    return {"n": db.scalar(select(func.count(Author.id)))}


@router.get("/annotated")
async def annotated(db: Session = Depends(lambda db=Depends(get_db_session): db)):
    return {"n": db.scalar(select(func.count(Author.id)))}


@router.get("/in-a-dict")
async def in_a_dict(ctx: dict = Depends(lambda db=Depends(get_db_session): {"db": db})):
    return {"n": ctx["db"].scalar(select(func.count(Author.id)))}


@router.get("/made")
async def made(db: Session = Depends(make_dependency())):
    return {"n": db.scalar(select(func.count(Author.id)))}


@router.post("/authors")
async def add_author(name: str, db: Session = Depends(get_db_session)):
    db.add(Author(name=name))
    db.commit()
    return {"n": db.scalar(select(func.count(Author.id)))}
"""


def _root(project, app_files):  # type: ignore[no-untyped-def]
    return project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS, "api/__init__.py": "",
        "api/items.py": ROUTER,
    })


def test_a_session_from_a_dependency_expression_blocks_with_am296(cli, project, app_files):
    document = cli.json("phase2", _root(project, app_files), "--subsystem", "api/items.py")
    for name, param, written in (
        ("by_next", "db", "`Depends(lambda: next(get_db_session()))`"),
        ("annotated", "db", "`Depends(lambda db=Depends(get_db_session): db)`"),
        ("in_a_dict", "ctx", '`Depends(lambda db=Depends(get_db_session): {"db": db})`'),
    ):
        found = handler(document, name)
        assert found["action"] == "blocked", found
        assert "AM296" in found["codes"], found
        assert any(f"`{param}` of api.items.{name} receives the Session from {written}" in r
                   for r in found["reasons"]), found["reasons"]
    # what a call returns is read as the dependency it returns: blocked as wrapping the provider
    assert handler(document, "made")["action"] == "blocked"


def test_near_miss_the_session_dependency_itself_migrates_and_the_route_writes(cli, project, app_files):
    root = _root(project, app_files)
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    found = handler(document, "add_author")
    assert found["action"] == "migrate" and "AM296" not in found["codes"], found
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            got = [client.post("/authors", params={"name": "Ada"}).json(), client.get("/by-next").json()]
        with database_sessionmaker() as s:
            got.append([a.name for a in s.query(Author).order_by(Author.id)])
        print(json.dumps(got))
    """)
    added, counted, names = result  # type: ignore[misc]
    assert added["n"] == counted["n"] == len(names)
    assert names[-1] == "Ada"
