"""AM301 blocking-session (and phase one's AM116) through a method a project Session subclass adds,
called on a Session an object holds: `self.db.get_or_404(...)` in a repository method an `async def`
route calls, and `repo.db.get_or_404(...)` in the route itself. The parameter case
(`db.get_or_404(...)`, test_am301_session_subclass_methods) was reported; these were not: check said
nothing of either route, and phase one named no line, only "still blocks the event loop through `db`".

Near misses: a method of the subclass doing no Session I/O (`self.db.label(...)`), and a method named
like a working one on an object that holds no Session (`self.tally.count(...)`), stay unreported."""

from __future__ import annotations

import pytest

from rules.test_am301_session_subclass_methods import MODELS, SESSIONS

ROUTES = """
import asyncio

from sqlalchemy.orm import Session

from db.sessions import DbDep, Tally
from models import Item


class ItemRepo:
    def __init__(self, db: Session):
        self.db = db
        self.tally = Tally()

    def fetch(self, item_id: int) -> Item:
        return self.db.get_or_404(Item, item_id)

    def label(self) -> str:
        return self.db.label(Item)

    def tallied(self) -> int:
        return self.tally.count(Item)


@router.get("/fetched/{item_id}")
async def fetched(item_id: int, db: DbDep):
    await asyncio.sleep(0)
    item = ItemRepo(db).fetch(item_id)
    return {"name": item.name}


@router.get("/direct/{item_id}")
async def direct(item_id: int, db: DbDep):
    await asyncio.sleep(0)
    repo = ItemRepo(db)
    item = repo.db.get_or_404(Item, item_id)
    return {"name": item.name}


@router.get("/labelled")
async def labelled(db: DbDep):
    await asyncio.sleep(0)
    repo = ItemRepo(db)
    return {"label": repo.label(), "direct": repo.db.label(Item), "n": repo.tallied()}
"""


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, {"db/sessions.py": SESSIONS, "models.py": MODELS})


def _line(root, text: str) -> int:  # type: ignore[no-untyped-def]
    lines = (root / "api/items.py").read_text().splitlines()
    (found,) = [n for n, line in enumerate(lines, 1) if text in line]
    return found


def _calls(findings, root, route: str) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    (finding,) = findings(root, route)
    assert finding["code"] == "AM301", finding
    return [(b["line"], b["call"]) for b in finding["blocking"]]


def test_check_lists_the_repository_method_calling_it_on_its_held_session(findings, root):
    line = _line(root, "item = ItemRepo(db).fetch(item_id)")
    assert _calls(findings, root, "fetched") == [(line, "api.items.ItemRepo.fetch(...)")]


def test_check_lists_it_called_on_the_session_an_instance_holds(findings, root):
    line = _line(root, "item = repo.db.get_or_404(Item, item_id)")
    assert _calls(findings, root, "direct") == [(line, "repo.db.get_or_404()")]


def test_phase_one_names_the_line_that_still_blocks(reported, root):
    line = _line(root, "item = repo.db.get_or_404(Item, item_id)")
    entry = reported(root, "direct", "phase1")
    still = entry["reasons"][entry["codes"].index("AM116")]
    assert f"line {line} (repo.db.get_or_404())" in still, still


def test_near_miss_no_session_work_and_an_object_holding_no_session(findings, root):
    assert findings(root, "labelled") == []
