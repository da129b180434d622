"""AM222 lazy-load-in-response: a response model field reading a relationship the route's query
does not eager-load blocks the route."""

from __future__ import annotations

from test_phase2_rules import SCHEMAS

ROUTE = """
from sqlalchemy.orm import selectinload

from schemas import BookOut


@router.get("/model", response_model=BookOut)
def model(session: session_dependency, book_id: int):
    # a dict lookup: the data flow does not follow it to the query, so no option is added
    books = {b.id: b for b in session.scalars(select(Book).{options}where(Book.id == book_id))}
    return books[book_id]
"""


def test_a_response_model_reading_a_lazy_relationship_blocks_with_am222(phase2, entry):
    found = entry(phase2(ROUTE.replace("{options}", ""), {"schemas.py": SCHEMAS}), "model")
    assert found["action"] == "blocked" and "AM222" in found["codes"], found
    # the fix names both ways: an option on the query, or a refresh of an object the route built
    reason = " ".join(found["reasons"])
    assert "selectinload(Book.author)" in reason, reason
    assert 'await session.refresh(obj, attribute_names=["author"])' in reason, reason


def test_near_miss_the_relationship_loaded_for_the_response_migrates(phase2, entry):
    route = ROUTE.replace("{options}", "options(selectinload(Book.author)).").replace(
        "    books = {b.id: b for b in session.scalars(", "    return session.scalars("
    ).replace("))}\n    return books[book_id]", ")).one()")
    assert "return session.scalars(select(Book).options(selectinload(Book.author))" in route, route
    found = entry(phase2(route, {"schemas.py": SCHEMAS}), "model")
    assert found["action"] == "migrate" and "AM222" not in found["codes"], found


def test_an_option_in_a_query_the_flow_does_not_follow_to_still_blocks(phase2, entry):
    """The dict is built from the query carrying `selectinload(Book.author)`, but the flow cannot show
    the returned Book comes from it: an option credits the objects traced to its own query only."""
    route = ROUTE.replace("{options}", "options(selectinload(Book.author)).")
    found = entry(phase2(route, {"schemas.py": SCHEMAS}), "model")
    assert found["action"] == "blocked" and "AM222" in found["codes"], found
