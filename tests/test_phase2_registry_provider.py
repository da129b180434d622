"""A session dependency handing out a `scoped_session` registry's Session (`session =
db_session()`): where a middleware commits that registry's Session after the response, the
route's `session.add(...)` is saved by that commit, and an async dependency opening a Session of
its own would drop it with a 201; phase two blocks the stack (AM271). Where nothing but the
dependency reaches the registry (a middleware only scoping and removing it), the route migrates,
and served on the async stack (aiosqlite) its write is in the database."""

from __future__ import annotations

import json
import os

import sample
from test_phase2_rules import MODELS, apply, dedent, run, run_python

ENGINE = """
import os
from collections.abc import Iterator
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
request_scope: ContextVar[str] = ContextVar("request_scope", default="-")
db_session = scoped_session(database_sessionmaker, scopefunc=request_scope.get)


def get_db_session() -> Iterator[Session]:
    session = db_session()
    try:
        yield session
        session.commit()
    finally:
        db_session.remove()
"""
MIDDLEWARE = """
from uuid import uuid4

from fastapi import FastAPI, Request

from api.items import router
from db.engine import db_session, request_scope

app = FastAPI()
app.include_router(router)


@app.middleware("http")
async def request_session(request: Request, call_next):
    token = request_scope.set(uuid4().hex)
    try:
        response = await call_next(request)
        {commit}
        return response
    finally:
        db_session.remove()
        request_scope.reset(token)
"""
ROUTER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from models import Book

router = APIRouter()


@router.post("/books", status_code=201)
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    return {"ok": True}
"""
SERVE = """
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from main import app

with TestClient(app) as client:
    status = client.post("/books", params={"title": "Gamma"}).status_code
    {dispose}
with database_sessionmaker() as s:
    titles = s.scalars(select(Book.title).order_by(Book.id)).all()
print(json.dumps({"status": status, "titles": titles}))
"""


def served_before(root):  # type: ignore[no-untyped-def]
    """SERVE on the synchronous stack as written, on a fresh SQLite file with one author."""
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{root / 'before.db'}"}
    prelude = (
        "import json\nfrom db.engine import database_sessionmaker, engine\nfrom models import Author, Base, Book\n"
        "Base.metadata.create_all(engine)\nwith database_sessionmaker() as s:\n"
        "    s.add(Author(id=1, name='Ann'))\n    s.commit()\n"
    )
    result = sample.run_python(prelude + dedent(SERVE.replace("{dispose}", "pass")), cwd=root, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def build(project, app_files, commit: str):  # type: ignore[no-untyped-def]
    return project({
        **app_files, "api/__init__.py": "", "models.py": MODELS, "db/engine.py": ENGINE,
        "api/items.py": ROUTER, "main.py": MIDDLEWARE.replace("{commit}", commit),
    })


def test_a_registry_a_middleware_commits_blocks_the_stack(cli, project, app_files):
    root = build(project, app_files, "db_session.commit()")
    # as written, the middleware's commit saves the route's write
    assert served_before(root) == {"status": 201, "titles": ["Gamma"]}
    document = run(cli, root)
    found = next(h for h in document["handlers"] if h["function"] == "create_book")
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    assert "main.py:17 `db_session.commit()`" in " ".join(found["reasons"]), found


def test_near_miss_a_registry_only_the_dependency_uses_migrates_and_the_write_is_saved(cli, project, app_files):
    root = build(project, app_files, "pass")
    document = apply(cli, root)
    found = next(h for h in document["handlers"] if h["function"] == "create_book")
    assert found["action"] == "migrate", found
    assert "async def create_book" in (root / "api/items.py").read_text(encoding="utf-8")
    assert run_python(root, SERVE.replace("{dispose}", "client.portal.call(async_engine.dispose)")) == {"status": 201, "titles": ["Alpha", "Beta", "Gamma"]}
