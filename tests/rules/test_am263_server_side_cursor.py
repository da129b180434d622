"""AM263 server-side-cursor: a statement with yield_per / stream_results blocks the route."""

from __future__ import annotations

ROUTER = """
@router.get("/titles")
def titles(session: session_dependency):
    return [book.title for book in session.scalars(select(Book).order_by(Book.id){options})]
"""


def test_yield_per_blocks_the_route(phase2, entry):
    found = entry(phase2(ROUTER.format(options=".execution_options(yield_per=2)")), "titles")
    assert found["action"] == "blocked" and found["codes"] == ["AM263"], found
    assert "`execution_options(yield_per=...)` streams rows from a server-side cursor" in found["reasons"][0]


def test_near_miss_other_execution_options_migrate(phase2, entry):
    found = entry(phase2(ROUTER.format(options=".execution_options(populate_existing=True)")), "titles")
    assert found["action"] == "migrate", found
