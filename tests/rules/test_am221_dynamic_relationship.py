"""AM221 dynamic-relationship: a `lazy="dynamic"` relationship read under AsyncSession blocks the
route, whatever loader option the query names."""

from __future__ import annotations

from test_phase2_rules import MODELS

DYNAMIC_MODELS = MODELS.replace("author: Mapped[Author] = relationship()", "").replace(
    "    name: Mapped[str]\n",
    '    name: Mapped[str]\n    books: Mapped[list["Book"]] = relationship(lazy="{lazy}")\n',
)
ROUTE = """
from sqlalchemy.orm import selectinload

from models import Author


@router.get("/titles")
def titles(session: session_dependency) -> list[str]:
    author = session.scalars(select(Author).options(selectinload(Author.books))).one()
    return [b.title for b in author.books]
"""


def test_a_dynamic_relationship_blocks_the_route_with_am221(phase2, entry):
    found = entry(phase2(ROUTE, {"models.py": DYNAMIC_MODELS.replace("{lazy}", "dynamic")}), "titles")
    assert found["action"] == "blocked" and "AM221" in found["codes"], found


def test_near_miss_a_select_relationship_loaded_by_the_option_migrates(phase2, entry):
    found = entry(phase2(ROUTE, {"models.py": DYNAMIC_MODELS.replace("{lazy}", "select")}), "titles")
    assert found["action"] == "migrate" and "AM221" not in found["codes"], found
