"""Packages that re-export what they hold, as most real layouts do (`app/crud/__init__.py`,
`app/models/__init__.py`).

A helper that gets an async twin, called through a package re-exporting it (`from
services.books import title_of` in `services/__init__.py`): the migrated call must reach the
twin, which the package did not re-export (`services.title_of_async` raised AttributeError),
also when it re-exports the helper under another name.
A model class named through its package (`db.get(Book, pk)` with `from models import Book`,
read after a commit) crashed the analysis (KeyError)."""

from __future__ import annotations

from test_phase2_rules import MODELS, RUNTIME_ENGINE, handler, run_python

BOOKS = """
from sqlalchemy.orm import Session

from models import Book


def title_of(session: Session, book_id: int) -> str:
    return session.get(Book, book_id).title


def rename(session: Session, book_id: int, title: str) -> None:
    session.get(Book, book_id).title = title
    session.commit()
"""
PACKAGE = """
from services.books import rename as retitle
from services.books import title_of

__all__ = ["retitle", "title_of"]
"""
# Outside the subsystem, still synchronous: the helpers get twins, the originals stay.
JOBS = """
from db.engine import database_sessionmaker
import services


def nightly() -> str:
    with database_sessionmaker() as session:
        services.retitle(session, 2, "Gamma")
        return services.title_of(session, 2)
"""
ROUTER = """
from fastapi import APIRouter

import services
from core.dependencies import session_dependency
from services import title_of

router = APIRouter()


@router.get("/title")
def title(session: session_dependency):
    return {"title": title_of(session, 1)}


@router.get("/title-again")
def title_again(session: session_dependency):
    return {"title": services.title_of(session, 1)}


@router.post("/rename")
def rename_book(session: session_dependency):
    services.retitle(session, 1, "Omega")
    return {"ok": True}
"""


def test_twins_reached_through_a_package_that_re_exports_the_helper(cli, project, app_files):
    root = project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS, "api/__init__.py": "",
        "services/__init__.py": PACKAGE, "services/books.py": BOOKS, "jobs.py": JOBS, "api/items.py": ROUTER,
    })
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    actions = [handler(document, n)["action"] for n in ("title", "title_again", "rename_book")]
    assert actions == ["migrate"] * 3, document
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router
        from jobs import nightly

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            got = [client.get("/title").json(), client.get("/title-again").json(), client.post("/rename").json()]
        with database_sessionmaker() as s:
            got.append(s.get(Book, 1).title)
        got.append(nightly())
        print(json.dumps(got))
    """)
    assert result == [{"title": "Alpha"}, {"title": "Alpha"}, {"ok": True}, "Omega", "Gamma"]


RETITLE = """
from sqlalchemy.orm import Session

from models import Book


def retitle(session: Session, book_id: int, title: str) -> Book | None:
    book = session.get(Book, book_id)
    if book is None:
        return None
    book.title = title
    session.commit()
    return book
"""
PACKAGED_ROUTER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services.retitle import retitle

router = APIRouter()


@router.post("/retitle")
async def retitle_first(session: session_dependency):
    book = retitle(session, 1, "Delta")
    return {"title": book.title}
"""


def test_a_model_named_through_its_package_and_read_after_a_commit(cli, project, app_files):
    root = project({
        # the sessionmaker expires on commit (the default): reads after a commit are analysed
        **app_files, "db/engine.py": RUNTIME_ENGINE.replace(", expire_on_commit=False", ""), "models/__init__.py": "from models.book import Author, Base, Book\n",
        "models/book.py": MODELS, "api/__init__.py": "", "api/items.py": PACKAGED_ROUTER,
        "services/__init__.py": "", "services/retitle.py": RETITLE,
    })
    assert cli.json("scan", root)["errors"] == []
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    assert handler(document, "retitle_first")["action"] == "migrate", document
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            got = [client.post("/retitle").json()]
        with database_sessionmaker() as s:
            got.append(s.get(Book, 1).title)
        print(json.dumps(got))
    """)
    assert result == [{"title": "Delta"}, "Delta"]


AUTH_DEPS = """
from typing import Annotated

from fastapi import Depends

from core.dependencies import session_dependency
from models import Author


def current_author(session: session_dependency) -> Author:
    return session.get(Author, 1)


CurrentAuthor = Annotated[Author, Depends(current_author)]
"""
AUTH_ROUTER = """
from fastapi import APIRouter, Depends
from sqlalchemy import select

import auth
from auth import CurrentAuthor
from core.dependencies import session_dependency
from models import Book

router = APIRouter()


@router.get("/me")
def me(session: session_dependency, author: CurrentAuthor):
    return {"name": author.name, "books": len(session.scalars(select(Book)).all())}


@router.get("/me-too")
def me_too(session: session_dependency, author=Depends(auth.current_author)):
    return {"name": author.name, "books": len(session.scalars(select(Book)).all())}
"""


def test_dependency_twins_reached_through_a_package_that_re_exports_them(cli, project, app_files):
    # `from auth import CurrentAuthor` left `CurrentAuthor_async` unbound (NameError), and
    # `Depends(auth.current_author)` became `auth.current_author_async` (AttributeError).
    root = project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS, "api/__init__.py": "",
        "auth/__init__.py": "from auth.deps import CurrentAuthor, current_author\n", "auth/deps.py": AUTH_DEPS,
        "api/items.py": AUTH_ROUTER,
    })
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    assert [handler(document, n)["action"] for n in ("me", "me_too")] == ["migrate", "migrate"], document
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            print(json.dumps([client.get("/me").json(), client.get("/me-too").json()]))
    """)
    assert result == [{"name": "Ann", "books": 2}] * 2


def test_a_re_export_by_assignment_blocks_through_the_self_check(cli, project, app_files):
    # `title_of = books.title_of` in the package: no import the twin can follow; the renamed call
    # `services.title_of_async` would raise AttributeError, so the self-check blocks the route.
    package = "from services import books\n\nretitle = books.rename\ntitle_of = books.title_of\n"
    root = project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS, "api/__init__.py": "",
        "services/__init__.py": package, "services/books.py": BOOKS, "jobs.py": JOBS,
        "api/items.py": ROUTER.replace("from services import title_of\n", "").replace(
            '"title": title_of(', '"title": services.title_of('
        ),
    })
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    found = handler(document, "title_again")
    assert (found["action"], found["codes"]) == ("blocked", ["AM223"]), found
    assert "calls `services.title_of_async()`, which the rewrite introduces and nothing defines" in found["reasons"][0]


def test_an_alias_twin_left_unimported_blocks_through_the_self_check(cli, project, app_files, monkeypatch):
    # The planner "forgets" how the route imports the alias: `author: CurrentAuthor_async` unbound.
    from async_migrate.codemods.phase2 import plan

    monkeypatch.setattr(plan, "_imported", lambda *args: None)
    root = project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS, "api/__init__.py": "",
        "auth/__init__.py": "from auth.deps import current_author\n", "auth/deps.py": AUTH_DEPS,
        "api/items.py": AUTH_ROUTER.replace("from auth import CurrentAuthor", "from auth.deps import CurrentAuthor"),
    })
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    found = handler(document, "me")
    assert (found["action"], found["codes"]) == ("blocked", ["AM223"]), found
    assert "parameter `author` is annotated with `CurrentAuthor_async`, which the rewrite introduces" in found["reasons"][0]


EAGER_ROUTER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from models import Book

router = APIRouter()


@router.get("/books/{book_id}/author")
def book_author(book_id: int, session: session_dependency):
    book = session.get(Book, book_id)
    return {"title": book.title, "author": book.author.name}
"""


def test_an_eager_load_names_the_class_as_the_module_imports_it_through_its_package(cli, project, app_files):
    # `Book` comes from the package re-exporting it: the option reads `Book.author`, where it
    # imported the class a second time from its home (`from models.book import Book as Book_2`)
    root = project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models/__init__.py": "from models.book import Author, Base, Book\n",
        "models/book.py": MODELS, "api/__init__.py": "", "api/items.py": EAGER_ROUTER,
    })
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    found = handler(document, "book_author")
    assert found["action"] == "migrate" and "AM246" in found["codes"], found
    text = (root / "api/items.py").read_text(encoding="utf-8")
    assert "selectinload(Book.author)" in text and "models.book" not in text and "Book_2" not in text, text
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            print(json.dumps(client.get("/books/2/author").json()))
    """)
    assert result == {"title": "Beta", "author": "Ann"}


# A package layout reaching its dependencies through relative imports and a star re-export
# (`from .deps import *` with `__all__`), the router importing the package itself (`from . import deps`).
STAR_DEPS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Author

__all__ = ["Db", "current_author", "CurrentAuthor"]

Db = Annotated[Session, Depends(get_db_session)]


def current_author(session: Db) -> Author:
    return session.get(Author, 1)


CurrentAuthor = Annotated[Author, Depends(current_author)]
"""
STAR_ROUTER = """
from fastapi import APIRouter, Depends
from sqlalchemy import select

from models import Book

from . import CurrentAuthor, current_author, deps

router = APIRouter()


@router.get("/me")
def me(session: deps.Db, author=Depends(current_author)):
    return {"name": author.name, "books": len(session.scalars(select(Book)).all())}


@router.get("/me-too")
def me_too(session: deps.Db, author: CurrentAuthor):
    return {"name": author.name, "books": len(session.scalars(select(Book)).all())}


@router.get("/count")
def count(session: deps.Db):
    return {"books": len(session.scalars(select(Book)).all())}
"""


def test_twins_through_a_star_re_export_join_all_and_leave_no_unused_relative_import(cli, project, app_files):
    root = project({
        **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS,
        "api/__init__.py": "from .deps import *  # noqa: F403\nfrom .deps import __all__  # noqa: F401\n",
        "api/deps.py": STAR_DEPS, "api/items.py": STAR_ROUTER,
    })
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    assert [handler(document, n)["action"] for n in ("me", "me_too", "count")] == ["migrate"] * 3, document
    deps = (root / "api/deps.py").read_text()
    # the star import in the package follows `__all__`: each twin joins its original there
    exported = deps.split("__all__ = ", 1)[1].split("\n", 1)[0]
    assert exported == '["Db", "current_author", "current_author_async", "CurrentAuthor", "CurrentAuthor_async"]', deps
    router = (root / "api/items.py").read_text()
    # neither name the rewrite stopped reading is left imported (ruff's F401)
    assert "current_author," not in router and "import current_author\n" not in router, router
    assert "from . import deps\n" in router and "CurrentAuthor," not in router, router
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        import api
        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            got = [client.get("/me").json(), client.get("/me-too").json(), client.get("/count").json()]
        got.append(callable(getattr(api, "current_author_async", None)))
        print(json.dumps(got))
    """)
    assert result == [{"name": "Ann", "books": 2}, {"name": "Ann", "books": 2}, {"books": 2}, True]
