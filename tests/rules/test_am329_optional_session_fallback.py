"""AM329 optional-session-fallback: a helper rebinding its optional Session parameter to a
Session it opens when given none, never closed, blocks the routes reaching it; the same fallback
opened in an `if` and closed in the `finally` after it is twinned on the async sessionmaker."""

from __future__ import annotations

HELPER = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Book


def titles(db: Session | None = None) -> list[str]:
    db = db or database_sessionmaker()
    return list(db.scalars(select(Book.title)))
"""
FLAGGED = HELPER.replace(
    "    db = db or database_sessionmaker()\n    return list(db.scalars(select(Book.title)))\n",
    "    own = False\n    if db is None:\n        db = database_sessionmaker()\n        own = True\n"
    "    try:\n        return list(db.scalars(select(Book.title)))\n    finally:\n        if own:\n            db.close()\n",
)
ROUTE = """
from books import titles


@router.get("/titles")
def read_titles(db: session_dependency):
    return titles(db)
"""


def test_a_fallback_opening_never_closed_blocks_with_am329(phase2, entry):
    found = entry(phase2(ROUTE, {"books.py": HELPER}), "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM329"])
    assert found["reasons"][0].startswith(
        "books.py:9: falls back on a Session of its own when called without one (`db` bound to "
        "`database_sessionmaker()` at line 9)"
    ), found["reasons"]


def test_near_miss_a_fallback_closed_in_the_finally_under_its_flag_migrates(phase2, entry):
    document = phase2(ROUTE, {"books.py": FLAGGED})
    assert entry(document, "read_titles")["action"] == "migrate", entry(document, "read_titles")["reasons"]
    assert entry(document, "titles", "helpers")["action"] == "migrate"


def test_near_miss_a_finally_closing_under_another_flag_or_a_false_one_still_blocks(phase2, entry):
    # Only the flag set with the opening (to a true value) stands for it: either miss leaks the AsyncSession.
    for changed in (
        FLAGGED.replace("        if own:\n            db.close()", "        if done:\n            db.close()")
        .replace("    own = False\n", "    own = False\n    done = False\n"),
        FLAGGED.replace("        own = True\n", "        own = 0\n"),
        # opened under `if own:` inside the `try`, closed under another flag
        FLAGGED.replace("    own = False\n    if db is None:\n        db = database_sessionmaker()\n        own = True\n    try:\n",
                        "    own = db is None\n    done = False\n    try:\n        if own:\n            db = database_sessionmaker()\n")
        .replace("        if own:\n            db.close()", "        if done:\n            db.close()"),
    ):
        found = entry(phase2(ROUTE, {"books.py": changed}), "read_titles")
        assert (found["action"], found["codes"]) == ("blocked", ["AM329"]), found
