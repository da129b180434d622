"""AM207 helper-twin: a helper also called outside the subsystem gets an async twin; the sync
original stays for the other caller."""

from __future__ import annotations

SERVICE = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book


def titles(session: Session) -> list[str]:
    return list(session.scalars(select(Book.title)))
"""
OTHER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services.books import titles

router = APIRouter()


@router.get("/other")
def other(session: session_dependency):
    return titles(session)
"""
ROUTE = """
from services.books import titles


@router.get("/titles")
def read_titles(session: session_dependency):
    return titles(session)
"""


def test_a_helper_shared_with_another_router_gets_a_twin_with_am207(phase2, entry):
    files = {"services/__init__.py": "", "services/books.py": SERVICE, "api/other.py": OTHER}
    found = entry(phase2(ROUTE, files), "titles", "helpers")
    assert found["action"] == "twin" and "AM207" in found["codes"], found


def test_near_miss_a_helper_only_the_subsystem_calls_migrates_in_place(phase2, entry):
    files = {"services/__init__.py": "", "services/books.py": SERVICE}
    found = entry(phase2(ROUTE, files), "titles", "helpers")
    assert found["action"] == "migrate" and "AM207" not in found["codes"], found
