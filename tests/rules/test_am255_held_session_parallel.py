"""AM255 held-session-parallel: a repository holding the Session that another subsystem also
uses gets a parallel async class; the migrated route uses it."""

from __future__ import annotations

from rules.test_am254_held_session_shared import OTHER, REPO, ROUTE


def test_a_repository_another_subsystem_uses_gets_a_parallel_class_with_am255(phase2, entry):
    document = phase2(ROUTE, {"repo.py": REPO, "api/admin.py": OTHER})
    assert entry(document, "read_titles")["action"] == "migrate"
    found = entry(document, "Repo.titles", "helpers")
    assert (found["action"], found["codes"]) == ("twin", ["AM255"])
    assert "the migrated code uses the parallel class RepoAsync" in found["reasons"][0]


def test_near_miss_a_repository_only_this_subsystem_uses_moves_in_place(phase2, entry):
    document = phase2(ROUTE, {"repo.py": REPO})
    assert entry(document, "read_titles")["action"] == "migrate"
    assert entry(document, "Repo.titles", "helpers")["codes"] == ["AM252"]


EXPIRING_ENGINE = """
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
database_sessionmaker = sessionmaker(engine)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
RENAME = """
from repo import Repo, get_repo
from fastapi import Depends


@router.put("/titles/{book_id}")
def rename(book_id: int, title: str, session: session_dependency, repo: Repo = Depends(get_repo)):
    book = session.get(Book, book_id)
    book.title = title
    session.commit()
    return {"title": book.title, "titles": repo.titles()}
"""


def test_a_route_beside_a_parallel_class_keeps_its_refresh_after_commit(project, app_files, cli):
    # The synchronous stack reloads objects after a commit; the async one does not: the read of
    # `book.title` after the commit needs its refresh also when the route uses a parallel class.
    import textwrap

    from test_phase2_rules import MODELS

    from rules.conftest import PHASE2_HEAD

    root = project({
        **app_files, "db/engine.py": EXPIRING_ENGINE, "api/__init__.py": "", "models.py": MODELS,
        "repo.py": REPO, "api/admin.py": OTHER, "api/items.py": PHASE2_HEAD + textwrap.dedent(RENAME),
    })
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    actions = {h["function"]: h["action"] for h in document["handlers"]}
    assert actions["rename"] == "migrate", document["handlers"]
    assert {h["function"]: h["codes"] for h in document["subsystem"]["helpers"]}["Repo.titles"] == ["AM255"]
    diff = cli("phase2", root, "--subsystem", "api/items.py").stdout
    assert "+    await session.commit()\n+    if book is not None:\n+        await session.refresh(book)\n" in diff, diff


SERVICE = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Book


class Titles:
    def __init__(self, db: Session = Depends(get_db_session)) -> None:
        self.db = db

    def titles(self):
        return list(self.db.scalars(select(Book.title)))
"""
SERVICE_ROUTE = """
from fastapi import Depends

from titles import Titles


@router.get("/titles")
def read_titles(svc: Titles = Depends()):
    return svc.titles()
"""
FEED = """
import httpx


async def ping():
    async with httpx.AsyncClient() as client:
        await client.titles()
"""


def test_a_parallel_class_for_a_method_name_used_elsewhere_says_where_not_synchronous_users(phase2, entry):
    # Nothing synchronous uses Titles; `client.titles()` in another module might be its method.
    document = phase2(SERVICE_ROUTE, {"titles.py": SERVICE, "feed.py": FEED})
    found = entry(document, "Titles.titles", "helpers")
    assert (found["action"], found["codes"]) == ("twin", ["AM255"]), found
    assert "its methods are named where the tool cannot tell which method runs (feed.py:6: `titles`" in found["reasons"][0]
    assert "is also used by code that stays synchronous" not in found["reasons"][0]


def test_near_miss_without_the_name_used_elsewhere_the_class_dependency_moves_in_place(phase2, entry):
    document = phase2(SERVICE_ROUTE, {"titles.py": SERVICE})
    assert entry(document, "Titles.titles", "helpers")["codes"] == ["AM252"]


def test_near_miss_the_name_in_a_string_is_no_use_of_the_method():
    """`audit("book.titles")`, an event name: no method is named there; `getattr(x, "titles")` is."""
    from async_migrate.codemods.astcollect import collect
    from async_migrate.codemods.phase2 import methods
    from async_migrate.codemods.project import Project

    texts = {
        "titles.py": SERVICE,
        "feed.py": 'audit("book.titles")\nprint(f"{x}.titles", \'a.titles\')\n',
        "hooks.py": 'handler = getattr(svc, "titles")\ncallbacks = [svc.titles]\n',
    }
    project = Project([collect(path, text) for path, text in texts.items()])
    assert methods.value_uses(texts.__getitem__, project, "titles") == ["hooks.py:1", "hooks.py:2"]
