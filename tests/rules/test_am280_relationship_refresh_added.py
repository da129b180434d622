"""AM280 relationship-refresh-added: an object the route builds, returned through a response model
nesting a relationship, gets `await db.refresh(obj, attribute_names=[...])` and the route migrates;
where the refresh cannot be shown to run on every path to the return, AM222 keeps blocking.
(The migrated routes are run in tests/test_phase2_rules.py, `test_runtime_a_built_object_...`.)"""

from __future__ import annotations

import pytest
from test_phase2_rules import BUILT_SCHEMAS, app_root, line_of

HEAD = """
from schemas import BookIn, BookOut


def notify(book_id: int) -> None:
    print(book_id)


"""
BUILT = HEAD + """
@router.post("/books", response_model=BookOut)
def create_book(payload: BookIn, session: session_dependency):
    book = Book(**payload.model_dump())
    session.add(book)
{commit}
    return book
"""


def test_a_built_object_gets_its_response_relationships_refreshed_and_migrates(phase2, entry):
    document = phase2(BUILT.format(commit="    session.commit()\n    session.refresh(book)"), {"schemas.py": BUILT_SCHEMAS})
    found = entry(document, "create_book")
    assert found["action"] == "migrate" and found["codes"] == ["AM201", "AM280"], found
    line = line_of(app_root(document), "api/items.py", "session.refresh(book)")
    assert found["reasons"][1] == (
        f'api/items.py:{line}: adds `await session.refresh(book, attribute_names=["author"])` after this line in '
        "api.items.create_book, for the relationships its response model reads (BookOut.author) on the Book it builds"
    )
    assert (
        "+    await session.commit()\n+    await session.refresh(book)\n"
        '+    await session.refresh(book, attribute_names=["author"])\n     return book'
    ) in document["diff"]


NEAR_MISSES = {
    # committed on one path only: after the branch the object may be pending, never loaded
    "commit in a branch": BUILT.format(commit="    if payload.title:\n        session.commit()"),
    # added but never flushed: a refresh of a pending object raises
    "never flushed": BUILT.format(commit="    print(book.title)"),
    # expired after its commit: a refresh of `author` alone would leave the columns expired
    "expired": BUILT.format(commit="    session.commit()\n    session.expire_all()"),
    # a call after the last Session statement may reach the Session another way
    "a call after the commit": BUILT.format(commit="    session.commit()\n    notify(book.id)"),
    # the object a function outside the migration builds
    "built elsewhere": HEAD + """
def make(payload: BookIn) -> Book:
    return Book(**payload.model_dump())


@router.post("/books", response_model=BookOut)
def create_book(payload: BookIn, session: session_dependency):
    book = make(payload)
    session.add(book)
    session.commit()
    return book
""",
    # the Session is used after the helper built the object: it may expire it again
    "work after the helper": HEAD + """
def store(session: Session, payload: BookIn) -> Book:
    book = Book(**payload.model_dump())
    session.add(book)
    session.commit()
    return book


@router.post("/books", response_model=BookOut)
def create_book(payload: BookIn, session: session_dependency):
    book = store(session, payload)
    session.commit()
    return book
""",
}


@pytest.mark.parametrize("router", NEAR_MISSES.values(), ids=NEAR_MISSES)
def test_near_miss_a_refresh_that_might_not_run_keeps_the_am222_block(phase2, entry, router):
    found = entry(phase2(router, {"schemas.py": BUILT_SCHEMAS}), "create_book")
    assert found["action"] == "blocked" and "AM222" in found["codes"] and "AM280" not in found["codes"], found
    assert any("response model BookOut.author reads relationship Book.author" in r for r in found["reasons"]), found


def test_near_miss_an_object_from_a_query_gets_the_option_on_its_query(phase2, entry):
    router = HEAD + """
@router.get("/books/{book_id}", response_model=BookOut)
def read_book(book_id: int, session: session_dependency):
    book = session.get(Book, book_id)
    return book
"""
    found = entry(phase2(router, {"schemas.py": BUILT_SCHEMAS}), "read_book")
    assert found["action"] == "migrate" and "AM246" in found["codes"] and "AM280" not in found["codes"], found


@pytest.mark.parametrize("refresh", [
    'session.refresh(book, ["author"])', 'session.refresh(book, attribute_names=["author", "title"])',
])
def test_near_miss_the_routes_own_refresh_of_the_relationship_gets_no_second_one(phase2, entry, refresh):
    document = phase2(BUILT.format(commit=f"    session.commit()\n    {refresh}"), {"schemas.py": BUILT_SCHEMAS})
    found = entry(document, "create_book")
    assert (found["action"], found["codes"]) == ("migrate", ["AM201"]), found
    assert document["diff"].count("refresh(") == 2, document["diff"]  # the route's own, made async
