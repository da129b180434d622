"""AM254 held-session-shared: a class holding the Session that code staying synchronous also
uses blocks the migrating routes, naming that code."""

from __future__ import annotations

REPO = """
from fastapi import Depends
from sqlalchemy.orm import Session

from core.dependencies import session_dependency
from models import Book
from sqlalchemy import select


class Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def titles(self):
        return list(self.session.scalars(select(Book.title)))


def get_repo(session: session_dependency) -> Repo:
    return Repo(session)
"""
ROUTE = """
from repo import Repo, get_repo
from fastapi import Depends


@router.get("/titles")
def read_titles(repo: Repo = Depends(get_repo)):
    return repo.titles()
"""
OTHER = """
from fastapi import APIRouter, Depends

from repo import Repo, get_repo

router = APIRouter()


@router.get("/admin/titles")
def admin_titles(repo: Repo = Depends(get_repo)):
    return repo.titles()
"""


DIRECT = """
from repo import Repo


@router.get("/titles")
def read_titles(session: session_dependency):
    return Repo(session).titles()
"""
OTHER_DIRECT = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from repo import Repo

router = APIRouter()


@router.get("/admin/titles")
def admin_titles(session: session_dependency):
    return Repo(session).titles()
"""


def test_a_repository_another_subsystem_uses_blocks_with_am254_under_shared_block(phase2, entry):
    document = phase2(DIRECT, {"repo.py": REPO, "api/admin.py": OTHER_DIRECT}, "--shared", "block")
    found = entry(document, "read_titles")
    assert found["action"] == "blocked"
    assert "AM254" in found["codes"]
    assert any("api.admin.admin_titles" in r for r in found["reasons"]), found


def test_near_miss_a_repository_only_this_subsystem_uses_moves(phase2, entry):
    # Without get_repo, which would build the class synchronously.
    document = phase2(DIRECT, {"repo.py": REPO.split("\n\ndef get_repo")[0] + "\n"}, "--shared", "block")
    found = entry(document, "read_titles")
    assert found["action"] == "migrate"
    assert "AM254" not in found["codes"]
