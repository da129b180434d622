"""AM301/AM304 beside a repository reached through a local container or a held bound method: an
item of a dict or list display (`repos = {"users": UserRepo(db)}` then `repos["users"].list()`),
an item of a project registry whose `__getitem__` says what it hands out, and a
`functools.partial` of a repository's method (`partial(repo.get, 1)`, `partial(UserRepo(db).list)`)
called later. The call graph had no edge for any of them, so the route read as doing no Session
work (AM105) and passed `check` (a new-user trial: a false all-clear)."""

from __future__ import annotations

import pytest

REPOS = """
from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Book


class BookRepo:
    def __init__(self, db: Session):
        self.db = db

    def count(self) -> int:
        return self.db.scalar(select(func.count(Book.id)))


class Echo:
    def count(self) -> int:
        return 3


class Repos:
    def __init__(self, db: Session):
        self._by_name = {"books": BookRepo(db)}

    def __getitem__(self, name: str) -> BookRepo:
        return self._by_name[name]


class Echoes:
    def __getitem__(self, name: str) -> Echo:
        return Echo()


def get_repo(db: Session = Depends(get_db_session)) -> BookRepo:
    return BookRepo(db)


def get_repos(db: Session = Depends(get_db_session)) -> Repos:
    return Repos(db)
"""

ROUTES = """
import functools

from fastapi import Depends

from repos import BookRepo, Echo, Echoes, Repos, get_repo, get_repos


@router.get("/count")
async def count(repo: BookRepo = Depends(get_repo), registry: Repos = Depends(get_repos)):
    BODY
"""

BLOCKING = {
    "dict display": "repos = {'books': repo}\n    return {'n': repos['books'].count()}",
    "list display": "repos = [repo]\n    return {'n': repos[0].count()}",
    "item held": "repos = {'books': repo}\n    held = repos['books']\n    return {'n': held.count()}",
    "registry": "return {'n': registry['books'].count()}",
}
UNVERIFIED = {
    "partial of a repository's method": "fetch = functools.partial(repo.count)\n    return {'n': fetch()}",
    "bound method held": "fetch = repo.count\n    return {'n': fetch()}",
}


def _routes(body: str) -> str:
    # the route never names the Session: the repositories its dependencies build hold it
    return ROUTES.replace("BODY", body)


@pytest.mark.parametrize("shape", sorted(BLOCKING))
def test_a_repository_taken_from_a_local_container_blocks(app, findings, reported, shape):
    root = app(_routes(BLOCKING[shape]), {"repos.py": REPOS})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "repos.BookRepo.count(...)" in found[0]["message"], found
    assert reported(root, "count", "phase1")["action"] == "convert"


@pytest.mark.parametrize("shape", sorted(UNVERIFIED))
def test_a_partial_of_a_repository_method_called_later_is_reported(app, findings, shape):
    found = findings(app(_routes(UNVERIFIED[shape]), {"repos.py": REPOS}), "count")
    assert [f["code"] for f in found] in (["AM301"], ["AM304"]), found
    assert "BookRepo.count" in found[0]["message"], found


@pytest.mark.parametrize("body", [
    "repos = {'echo': Echo()}\n    return {'n': repos['echo'].count()}",
    "repos = Echoes()\n    return {'n': repos['echo'].count()}",
    "fetch = functools.partial(Echo().count)\n    return {'n': fetch()}",
    "fetch = Echo().count\n    return {'n': fetch()}",
])
def test_near_miss_the_container_or_partial_holds_no_session_work(app, findings, body):
    assert findings(app(_routes(body), {"repos.py": REPOS}), "count") == []
