"""AM272 unverified-session-work: a route whose Session the analysis cannot type is not migrated,
and not reported as doing no Session work."""

from __future__ import annotations

ROUTES = """
from fastapi import Request


@router.post("/books")
async def add_book(title: str, request: Request):
    db = request.state.db
    db.add(Book(title=title))
    db.commit()


@router.get("/hits")
async def hits(request: Request):
    return {"hits": request.state.hits + 1}
"""


def test_work_on_an_untyped_session_blocks_with_am272(phase2, entry):
    found = entry(phase2(ROUTES), "add_book")
    assert (found["action"], found["codes"]) == ("blocked", ["AM272"]), found
    assert "`db.commit()` is called on `db`, which the analysis cannot type" in found["reasons"][0]


def test_near_miss_a_route_reading_request_state_without_calls_is_unchanged(phase2, entry):
    found = entry(phase2(ROUTES), "hits")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"]), found


# The untyped Session reached through the coroutines a route awaits: they run on the event loop as
# the route does, and the route was "does no synchronous Session work".
AWAITED = """
import asyncio

from fastapi import Request


def count_rows(request: Request) -> int:
    return request.state.db.scalar(select(func.count(Book.id)))


async def counted(request: Request) -> int:
    return count_rows(request)


async def labelled(request: Request) -> str:
    return request.state.label


@router.get("/books/count")
async def book_count(request: Request):
    (n,) = await asyncio.gather(counted(request))
    return {"n": n}


@router.get("/label")
async def label(request: Request):
    return {"label": await labelled(request)}
"""


def test_untyped_session_work_below_an_awaited_coroutine_blocks_with_am272(phase2, entry):
    document = phase2(AWAITED, None)
    found = entry(document, "book_count")
    assert (found["action"], found["codes"]) == ("blocked", ["AM272"]), found
    assert "calls counted -> count_rows -> " in found["reasons"][0], found
    # near miss: an awaited coroutine that makes no call on an untyped value
    found = entry(document, "label")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"]), found


# zenml's routers hand a store's bound method to a permission helper that calls it
# (`verify_permissions_and_create_entity(create_method=zen_store().create_tag)`), the store
# method opening its own Session (`with Session(self.engine) as session:`): Session work the
# call graph does not follow, never "does no synchronous Session work" (AM205).
STORE = """
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import engine
from models import Book


class SqlStore:
    def __init__(self) -> None:
        self.engine = engine

    def create_book(self, title: str) -> int:
        with Session(self.engine) as session:
            book = Book(title=title)
            session.add(book)
            session.commit()
            return book.id

    def list_titles(self) -> list[str]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Book.title)))

    def version(self) -> str:
        return "1"


_store: Optional[SqlStore] = None


def store() -> SqlStore:
    if _store is None:
        raise RuntimeError("the store is not set up")
    return _store
"""
VERIFY = """
from typing import Any, Callable


def verify_and_create(request_model: Any, create_method: Callable[[Any], Any]) -> Any:
    return create_method(request_model)


def verify_and_list(list_method: Callable[[], Any]) -> Any:
    return list_method()
"""
HANDED = """
from api.verify import verify_and_create, verify_and_list
from core.store import store


@router.post("/books")
def create_book(title: str):
    return verify_and_create(request_model=title, create_method=store().create_book)


@router.get("/titles")
def list_titles():
    return verify_and_list(store().list_titles)


@router.get("/version")
def version():
    return verify_and_list(store().version)
"""


def test_a_store_method_handed_to_a_helper_calling_it_is_session_work(phase2, entry):
    document = phase2(HANDED, {"core/store.py": STORE, "api/verify.py": VERIFY})
    for function, method, where in (("create_book", "create_book", "api/verify.py:5"),
                                    ("list_titles", "list_titles", "api/verify.py:9")):
        found = entry(document, function)
        assert (found["action"], found["codes"]) == ("blocked", ["AM272"]), found
        assert f"hands SqlStore.{method} to `" in found["reasons"][0], found
        assert f"which calls it ({where};" in found["reasons"][0], found
        assert "does synchronous Session work: with Session() as session" in found["reasons"][0], found


def test_near_miss_a_handed_method_doing_no_session_work_is_unchanged(phase2, entry):
    found = entry(phase2(HANDED, {"core/store.py": STORE, "api/verify.py": VERIFY}), "version")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"]), found
