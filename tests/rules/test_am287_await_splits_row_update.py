"""AM287 await-splits-row-update: phase two migrating an `async def` route that loads a row and writes
it back from its own value (or claims it) with no await before its commit says the awaits it adds
let other requests run in between; no note where the race predates phase two."""

from __future__ import annotations

import pytest

MODELS = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(default="")
    stock: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(default="pending")
"""

CRUD = """
from sqlalchemy.orm import Session

from models import Book


def restock(db: Session, bid: int, qty: int) -> None:
    book = db.get(Book, bid)
    book.stock += qty
    db.commit()
"""

ROUTE = """
from models import Book
import crud


async def notify(bid: int) -> None: ...


@router.post("/books/{{bid}}/cancel")
{kind} cancel(bid: int, session: session_dependency, qty: int = 1):
    {body}
"""

LINE = 20  # of the body's first statement


def _run(phase2, body: str, kind: str = "async def") -> dict:  # type: ignore[no-untyped-def]
    return phase2(ROUTE.format(kind=kind, body=body), {"models.py": MODELS, "crud.py": CRUD})


def test_a_route_updating_a_loaded_row_before_its_commit_gets_the_note(phase2, entry):
    body = "book = session.get(Book, bid)\n    book.stock += qty\n    session.commit()\n    await notify(bid)"
    found = entry(_run(phase2, body), "cancel")
    assert found["action"] == "migrate" and "AM287" in found["codes"], found
    note = found["reasons"][found["codes"].index("AM287")]
    assert note.startswith(
        f"loads `book` (a Book, api/items.py:{LINE}) and writes `book.stock` back from its own value at "
        f"api/items.py:{LINE + 1}, with no await from the load to the commit, so on the event loop no other "
        "request ran in between; phase two awaits its Session calls (the load, `await session.commit()`), "
        "and other requests run at those awaits: two can read the same value and one update is lost"
    ), note
    assert "`await session.execute(update(Book).where(Book.id == book.id).values(stock=Book.stock + 1))`" in note
    assert note.endswith("or lock the row as it loads: `session.get(Book, ..., with_for_update=True)`"), note


def test_a_claim_before_the_commit_gets_the_note(phase2, entry):
    body = (
        "for book in session.scalars(select(Book).where(Book.status == 'pending')).all():\n"
        "        book.status = 'sent'\n    session.commit()"
    )
    found = entry(_run(phase2, body), "cancel")
    assert found["action"] == "migrate" and "AM287" in found["codes"], found
    note = found["reasons"][found["codes"].index("AM287")]
    assert note.startswith(
        f"loads `book` (a Book, api/items.py:{LINE}) by a query whose WHERE tests `Book.status`, and assigns "
        f"`book.status` at api/items.py:{LINE + 1}: a claim, with no await from the load to the commit"
    ), note
    assert f"`.with_for_update(skip_locked=True)` on the select of api/items.py:{LINE}" in note, note


def test_a_helper_called_in_place_is_followed(phase2, entry):
    found = entry(_run(phase2, "crud.restock(session, bid, qty)\n    await notify(bid)"), "cancel")
    assert found["action"] == "migrate" and "AM287" in found["codes"], found
    assert found["reasons"][found["codes"].index("AM287")].startswith(
        f"calls `crud.restock` (line {LINE}), which loads `book` (a Book, crud.py:7)"
    ), found


@pytest.mark.parametrize("body, kind", [
    # an await between the load and the commit: the race predates phase two
    ("book = session.get(Book, bid)\n    await notify(bid)\n    book.stock += qty\n    session.commit()", "async def"),
    ("book = session.get(Book, bid)\n    book.stock += qty\n    await notify(bid)\n    session.commit()", "async def"),
    # a def route ran in the threadpool already
    ("book = session.get(Book, bid)\n    book.stock += qty\n    session.commit()", "def"),
    ("crud.restock(session, bid, qty)", "def"),
    # a plain assignment, a locked load, an UPDATE statement
    ("book = session.get(Book, bid)\n    book.title = 'x'\n    session.commit()", "async def"),
    ("book = session.get(Book, bid, with_for_update=True)\n    book.stock += qty\n    session.commit()", "async def"),
    ("for book in session.scalars(select(Book).where(Book.status == 'pending')"
     ".with_for_update(skip_locked=True)).all():\n        book.status = 'sent'\n    session.commit()", "async def"),
])
def test_near_miss_migrates_without_the_note(phase2, entry, body, kind):
    found = entry(_run(phase2, body, kind), "cancel")
    assert found["action"] == "migrate" and "AM287" not in found["codes"], found
