"""AM250 lazy-load-in-model-code: a model property reading a relationship, on an object from a dependency."""

from __future__ import annotations

from test_phase2_rules import MODELS

PROPERTY_MODELS = MODELS + """
    @property
    def author_name(self) -> str:
        return self.author.name

    @property
    def shout(self) -> str:
        return self.title.upper()
"""

ROUTER = """
from fastapi import Depends


# an object the dependency does not load on the route's Session: no query to add an option to
# (a dependency loading it moves with the route, and its twin's query gets the eager load)
PINNED: dict[int, Book] = {{}}


def current_book() -> Book:
    return PINNED[1]


@router.get("/name")
def name(session: session_dependency, book: Book = Depends(current_book)):
    count = session.scalar(select(func.count()).select_from(Book))
    return {{"value": book.{attribute}, "count": count}}
"""


def test_a_property_reading_a_relationship_of_a_dependency_object_blocks_naming_both(phase2, entry):
    document = phase2(ROUTER.format(attribute="author_name"), {"models.py": PROPERTY_MODELS})
    found = entry(document, "name")
    assert found["action"] == "blocked" and found["codes"] == ["AM250"], found
    reason = found["reasons"][0]
    assert "property Book.author_name" in reason and "relationship Book.author" in reason
    assert "the dependency api.items.current_book" in reason


def test_near_miss_a_property_reading_only_columns_migrates(phase2, entry):
    document = phase2(ROUTER.format(attribute="shout"), {"models.py": PROPERTY_MODELS})
    found = entry(document, "name")
    assert found["action"] == "migrate" and "AM250" not in found["codes"], found
