"""A router taking its session dependency and helpers from a star import (`from db.engine import
*`): the names phase two writes there (the async stack's dependency, a helper's twin) must be
bound in the router. A star brings only what the module's literal `__all__` lists, so relying
on it left `get_async_db_session` unbound (NameError at import); they are imported by name."""

from __future__ import annotations

from test_phase2_rules import MODELS, RUNTIME_ENGINE, apply, handler, run_python

ENGINE = RUNTIME_ENGINE + '\n\n__all__ = ["database_sessionmaker", "engine", "get_db_session"]\n'
BOOKS = """
from sqlalchemy.orm import Session

from models import Book

__all__ = ["title_of"]


def title_of(session: Session, book_id: int) -> str:
    return session.get(Book, book_id).title
"""
ROUTER = """
from fastapi import APIRouter, Depends

from db.engine import *  # noqa: F403
from models import Book
from services.books import *  # noqa: F403

router = APIRouter()


@router.get("/title")
async def title(db=Depends(get_db_session)):  # noqa: F405
    return {"title": db.get(Book, 1).title}


@router.get("/helper")
async def helper(db=Depends(get_db_session)):  # noqa: F405
    return {"title": title_of(db, 2)}  # noqa: F405
"""
# Outside the subsystem: keeps the synchronous helper.
JOBS = """
from db.engine import database_sessionmaker
from services.books import title_of


def nightly() -> str:
    with database_sessionmaker() as session:
        return title_of(session, 1)
"""


def test_names_phase_two_adds_beside_a_star_import_are_bound(cli, project, app_files):
    root = project({
        **app_files, "db/engine.py": ENGINE, "models.py": MODELS, "api/__init__.py": "",
        "services/__init__.py": "", "services/books.py": BOOKS, "jobs.py": JOBS, "api/items.py": ROUTER,
    })
    document = apply(cli, root, subsystem="api/items.py")
    assert [handler(document, n)["action"] for n in ("title", "helper")] == ["migrate", "migrate"], document
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router
        from jobs import nightly

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            got = [client.get("/title").json(), client.get("/helper").json()]
        got.append(nightly())
        print(json.dumps(got))
    """)
    assert result == [{"title": "Alpha"}, {"title": "Beta"}, "Alpha"]
