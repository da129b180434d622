"""AM245 lazy-load-outside-reach: a relationship read on an object from a dependency blocks the route."""

from __future__ import annotations

ROUTER = """
from fastapi import Depends

# Kept across requests, loaded once by another Session: no query of the request loads it.
PINNED: dict[int, Book] = {{}}


def pinned_book() -> Book:
    return PINNED[1]


def current_book(session: session_dependency) -> Book:
    return session.get(Book, 1)


@router.get("/name")
def name(session: session_dependency, {param}):
    count = session.scalar(select(func.count()).select_from(Book))
    {load}
    return {{"author": book.author.name, "count": count}}
"""


def test_a_relationship_read_on_a_dependency_result_blocks_the_route_naming_it(phase2, entry):
    document = phase2(ROUTER.format(param="book: Book = Depends(pinned_book)", load="pass"))
    found = entry(document, "name")
    assert found["action"] == "blocked" and "AM245" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM245")]
    assert "the dependency api.items.pinned_book" in reason and "`book.author`" in reason


def test_near_miss_a_dependency_moving_with_the_route_gets_the_eager_load_in_its_twin(phase2, entry):
    # current_book shares the route's Session: its async twin moves with the route, and its query
    # is one phase two rewrites
    document = phase2(ROUTER.format(param="book: Book = Depends(current_book)", load="pass"))
    found = entry(document, "name")
    assert found["action"] == "migrate" and "AM245" not in found["codes"], found
    assert "selectinload(Book.author)" in document["diff"] and "current_book_async" in document["diff"]


def test_near_miss_the_route_loading_the_object_itself_gets_the_eager_load(phase2, entry):
    document = phase2(ROUTER.format(param="book_id: int", load="book = session.get(Book, book_id)"))
    found = entry(document, "name")
    assert found["action"] == "migrate" and "AM245" not in found["codes"], found
    assert ".options(selectinload(Book.author))" in document["diff"]


def test_a_query_whose_options_both_load_and_leave_lazy_the_relationship_is_am245_not_unverified(phase2, entry):
    # SQLAlchemy refuses such a query whatever the tool adds to it: no eager load can be added
    # there, which is no read the analysis cannot see into (AM247)
    document = phase2(
        """
        from sqlalchemy.orm import lazyload, selectinload


        @router.get("/names")
        def names(session: session_dependency):
            books = session.scalars(select(Book).options(lazyload(Book.author), selectinload(Book.author))).all()
            return [book.author.name for book in books]
        """
    )
    found = entry(document, "names")
    assert found["action"] == "blocked", found
    (code,) = [c for c, r in zip(found["codes"], found["reasons"]) if "both eager-loads and leaves lazy `author`" in r]
    assert code == "AM245", found
