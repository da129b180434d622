"""AM251 deferred-column-read: a deferred column read on a loaded object blocks the route."""

from __future__ import annotations

from test_phase2_rules import MODELS

DEFERRED_MODELS = MODELS.replace(
    "    title: Mapped[str]\n", "    title: Mapped[str]\n    blurb: Mapped[str] = mapped_column(deferred=True, default=\"\")\n"
)

ROUTER = """
from sqlalchemy.orm import undefer


@router.get("/blurb")
def blurb(session: session_dependency, book_id: int):
    book = session.get(Book, book_id{options})
    return {{"blurb": book.blurb}}
"""


def test_a_deferred_column_read_blocks_the_route_naming_it(phase2, entry):
    document = phase2(ROUTER.format(options=""), {"models.py": DEFERRED_MODELS})
    found = entry(document, "blurb")
    assert found["action"] == "blocked" and found["codes"] == ["AM251"], found
    assert "`book.blurb` reads Book.blurb, a deferred column" in found["reasons"][0]
    assert "fix: add `undefer(Book.blurb)`" in found["reasons"][0]


def test_near_miss_an_undeferred_column_migrates(phase2, entry):
    document = phase2(ROUTER.format(options=", options=[undefer(Book.blurb)]"), {"models.py": DEFERRED_MODELS})
    found = entry(document, "blurb")
    assert found["action"] == "migrate" and "AM251" not in found["codes"], found
