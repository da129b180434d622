"""AM301 lists the reads after a commit on the event loop of an object the commit expired: `book =
Book(...)`, `db.session.add(book)`, `db.session.commit()`, `return book_out(book)` (a new-user
trial, the Session behind a `db.session` ContextVar proxy). The fix named only the add and the
commit; offloading those as it said still refreshed the book on the loop where `book_out` reads it
(`expire_on_commit=True`). Now the read is a blocking line too, at the handler's line (in the
helper, at its own line), with its own advice. Near misses: a sessionmaker written
`expire_on_commit=False`, a refresh after the commit, a read before it. The premise test offloads
the add and the commit as the old fix said and records the SELECT left on the loop."""

from __future__ import annotations

import asyncio

from sample import imported, statements_on_this_thread

DB = """
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

engine = create_engine("{url}")
SessionLocal = sessionmaker(bind=engine{maker})
_session: ContextVar[Session | None] = ContextVar("_session", default=None)


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]


class _Proxy:
    @property
    def session(self) -> Session:
        return _session.get()


db = _Proxy()


def get_db():
    with SessionLocal() as session:
        yield session


class SessionMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        session = SessionLocal()
        token = _session.set(session)
        try:
            await self.app(scope, receive, send)
        finally:
            _session.reset(token)
            session.close()
"""
MAIN = """
import asyncio

from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session

from reads_db import Book, SessionMiddleware, db, get_db

app = FastAPI()
app.add_middleware(SessionMiddleware)


def book_out(book: Book) -> dict:
    return {"id": book.id, "title": book.title}


def get_book(book_id: int) -> Book:
    return db.session.get(Book, book_id)


@app.post("/books")
async def create_book(title: str):
    await asyncio.sleep(0)
    book = Book(title=title)
    db.session.add(book)
    db.session.commit(){refresh}
    return book_out(book)


@app.put("/books/{book_id}")
async def rename_book(book_id: int, title: str, session: Session = Depends(get_db)):
    await asyncio.sleep(0)
    book = get_book(book_id)
    book.title = title
    session.commit()
    return {"title": book.title}


@app.post("/read-before")
async def read_before(title: str):
    await asyncio.sleep(0)
    book = Book(title=title)
    db.session.add(book)
    out = book_out(book)
    db.session.commit()
    return out
"""


def _root(project, maker: str = "", refresh: str = ""):  # type: ignore[no-untyped-def]
    return project({
        "reads_db.py": DB.format(url="sqlite:///./app.db", maker=maker),
        "reads_main.py": MAIN.replace("{refresh}", refresh),
    })


def _lines(finding: dict) -> list[int]:
    return [b["line"] for b in finding["blocking"]]


def test_a_read_in_a_helper_after_the_commit_is_a_blocking_line_with_its_advice(project, findings):
    (finding,) = findings(_root(project), "create_book")
    assert finding["code"] == "AM301", finding
    assert _lines(finding) == [25, 26], finding["blocking"]
    message = finding["message"]
    assert "line 26 (`book.id` in reads_main.book_out(...) at reads_main.py:13, expired by the commit at line 25" in message
    assert "the reads at line 26 refresh what the commit before them expired" in message, message


def test_a_read_in_the_route_after_a_session_parameters_commit_is_a_blocking_line(project, findings):
    (finding,) = findings(_root(project), "rename_book")
    assert finding["code"] == "AM301", finding
    assert 35 in _lines(finding) and "`book.title`, expired by the commit at line 34" in finding["message"], finding


def test_near_miss_the_sessionmaker_does_not_expire_on_commit(project, findings):
    root = _root(project, maker=", expire_on_commit=False")
    assert _lines(findings(root, "create_book")[0]) == [25]
    assert "expired" not in findings(root, "rename_book")[0]["message"]


def test_near_misses_a_refresh_after_the_commit_and_a_read_before_it(project, findings):
    (finding,) = findings(_root(project, refresh="\n    db.session.refresh(book)"), "create_book")
    assert "expired" not in finding["message"] and 27 not in _lines(finding), finding
    (before,) = findings(_root(project), "read_before")
    assert "expired" not in before["message"], before["message"]


def test_the_premise_offloading_the_add_and_the_commit_leaves_a_select_on_the_loop(tmp_path):
    from fastapi.concurrency import run_in_threadpool

    with imported(tmp_path, {"reads_db": DB.format(url=f"sqlite:///{tmp_path / 'r.db'}", maker="")}) as (rdb,):
        rdb.Base.metadata.create_all(rdb.engine)

        def save(book) -> None:  # type: ignore[no-untyped-def]
            rdb.db.session.add(book)
            rdb.db.session.commit()

        async def create() -> list[str]:
            session = rdb.SessionLocal()
            token = rdb._session.set(session)
            try:
                with statements_on_this_thread(rdb.engine) as on_loop:
                    book = rdb.Book(title="a")
                    await run_in_threadpool(save, book)
                    assert {"id": book.id, "title": book.title} == {"id": 1, "title": "a"}
                    return list(on_loop)
            finally:
                rdb._session.reset(token)
                session.close()

        try:
            assert asyncio.run(create()) == ["SELECT"]
        finally:
            rdb.engine.dispose()
