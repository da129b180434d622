"""AM239 unfollowed-holder-dependency: a class holding the Session that FastAPI builds through a
dependency phase two cannot rewrite blocks the route; the same class through a project
dependency migrates, and the migrated route writes its row."""

from __future__ import annotations

from test_phase2_rules import MODELS, RUNTIME_ENGINE, handler, run_python

SERVICE = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Book


class BookService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self) -> int:
        return self.session.scalar(select(func.count(Book.id))) or 0

    def add(self, title: str) -> int:
        book = Book(title=title, author_id=1)
        self.session.add(book)
        self.session.commit()
        return book.id
"""

PROVIDERS = """
from typing import Callable

from core.dependencies import session_dependency
from services import BookService


def provide_books(db: session_dependency) -> BookService:
    return BookService(db)


PROVIDERS = {"books": provide_books}


class _Provide:
    def __getitem__(self, name: str) -> Callable:
        return PROVIDERS[name]


Provide = _Provide()


def provider(name: str) -> Callable:
    return PROVIDERS[name]
"""

ROUTER = """
from typing import Annotated

from fastapi import APIRouter, Depends

from container import PROVIDERS, Provide, provide_books, provider
from services import BookService

router = APIRouter()


@router.get("/by-key")
async def by_key(books: BookService = Depends(PROVIDERS["books"])):
    return {"n": books.count()}


@router.get("/by-marker")
async def by_marker(books: Annotated[BookService, Depends(Provide["books"])]):
    return {"n": books.count()}


@router.get("/by-factory")
async def by_factory(books: BookService = Depends(provider("books"))):
    return {"n": books.count()}


@router.post("/add")
async def add(books: BookService = Depends(provide_books)):
    return {"id": books.add("Zeta"), "n": books.count()}
"""


def _root(project, app_files):  # type: ignore[no-untyped-def]
    return project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS, "api/__init__.py": "",
        "services.py": SERVICE, "container.py": PROVIDERS, "api/items.py": ROUTER,
    })


def test_a_holder_from_an_unfollowed_dependency_blocks_with_am239(cli, project, app_files):
    document = cli.json("phase2", _root(project, app_files), "--subsystem", "api/items.py")
    for name, written in (
        ("by_key", '`Depends(PROVIDERS["books"])`'),
        ("by_marker", '`Depends(Provide["books"])`'),
        ("by_factory", '`Depends(provider("books"))`'),
    ):
        found = handler(document, name)
        assert found["action"] == "blocked", found
        assert "AM239" in found["codes"], found
        assert any(f"`books` of api.items.{name} is a BookService, which holds the Session, made by {written}" in r
                   for r in found["reasons"]), found["reasons"]


def test_near_miss_a_project_dependency_migrates_and_the_route_writes(cli, project, app_files):
    root = _root(project, app_files)
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    found = handler(document, "add")
    assert found["action"] == "migrate" and "AM239" not in found["codes"], found
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            got = [client.post("/add").json(), client.get("/by-key").json(), client.get("/by-marker").json()]
        with database_sessionmaker() as s:
            got.append([b.title for b in s.query(Book).order_by(Book.id)])
        print(json.dumps(got))
    """)
    added, by_key, by_marker, titles = result  # type: ignore[misc]
    assert added["n"] == by_key["n"] == by_marker["n"] == len(titles)
    assert titles[-1] == "Zeta"


VIEW = """
from fastapi import APIRouter, Depends
from fastapi_utils.cbv import cbv

from container import provide_books
from services import BookService

router = APIRouter()


@cbv(router)
class BookViews:
    books: BookService = Depends(provide_books)

    @router.get("/count")
    async def count(self):
        return {"n": self.books.count()}
"""


def test_a_holder_a_class_based_view_declares_on_the_class_blocks_with_am239(cli, project, app_files):
    root = project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS, "api/__init__.py": "",
        "services.py": SERVICE, "container.py": PROVIDERS, "api/items.py": VIEW,
    })
    found = handler(cli.json("phase2", root, "--subsystem", "api/items.py"), "BookViews.count")
    assert found["action"] == "blocked" and "AM239" in found["codes"], found
    assert any("`books` of the class-based view BookViews is a BookService, which holds the Session, made by "
               "`Depends(provide_books)` on the class" in r for r in found["reasons"]), found["reasons"]
