"""AM307 for an object read on the event loop after a commit run in the threadpool on the request's
Session reached through a module-level proxy (`db.session`, a property reading a ContextVar a
middleware sets), which no parameter names: `book = await run_in_threadpool(_retitle, id, t)`,
`_retitle` loading the book, committing `db.session` and returning it, then `return
book_out(book)`, `book_out` reading its columns. With `expire_on_commit` (the default) the commit
expired it and each read refreshes it, a SELECT on the loop, the primary key's too; scan said
"nothing blocks the event loop" (AM131) and `check` passed the route (found by a new-user trial,
caught by verify's guard). Near misses: a sessionmaker written `expire_on_commit=False`, a refresh
after the commit in the threadpool, a read before the commit, a helper committing a Session it
opens itself. The premise test runs the flagged shapes and records the SELECTs on the loop."""

from __future__ import annotations

import asyncio

import pytest
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
HELPERS = """
import asyncio

import anyio
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from proxy_db import Book, SessionLocal, SessionMiddleware, db

app = FastAPI()
app.add_middleware(SessionMiddleware)


def book_out(book: Book) -> dict:
    return {"id": book.id, "title": book.title}


def get_book(book_id: int) -> Book:
    return db.session.get(Book, book_id)


def _save() -> None:
    db.session.commit()


def retitle(book_id: int, title: str) -> Book:
    book = get_book(book_id)
    book.title = title
    _save(){refresh}
    return book


def audit(book_id: int) -> None:
    with SessionLocal() as session:
        session.commit()
"""
ROUTES = {
    "run_in_threadpool": """
@app.post("/retitle/{book_id}")
async def retitled(book_id: int, title: str):
    book = await run_in_threadpool(retitle, book_id, title)
    return book_out(book)
""",
    "to_thread": """
@app.post("/retitle/{book_id}")
async def retitled(book_id: int, title: str):
    book = await asyncio.to_thread(retitle, book_id, title)
    return book_out(book)
""",
    "run_in_executor": """
@app.post("/retitle/{book_id}")
async def retitled(book_id: int, title: str):
    loop = asyncio.get_running_loop()
    book = await loop.run_in_executor(None, retitle, book_id, title)
    return book_out(book)
""",
    "anyio": """
@app.post("/retitle/{book_id}")
async def retitled(book_id: int, title: str):
    book = await anyio.to_thread.run_sync(retitle, book_id, title)
    return book_out(book)
""",
}
OTHERS = """
@app.post("/commit-after/{book_id}")
async def commit_after(book_id: int, title: str):
    book = await run_in_threadpool(get_book, book_id)
    book.title = title
    await run_in_threadpool(_save)
    return {"title": book.title}


@app.post("/key/{book_id}")
async def key_only(book_id: int, title: str):
    book = await run_in_threadpool(retitle, book_id, title)
    return {"id": book.id}


@app.post("/read-before/{book_id}")
async def read_before(book_id: int, title: str):
    book = await run_in_threadpool(get_book, book_id)
    out = book_out(book)
    await run_in_threadpool(_save)
    return out


@app.post("/own-session/{book_id}")
async def own_session(book_id: int):
    book = await run_in_threadpool(get_book, book_id)
    await run_in_threadpool(audit, book_id)
    return book_out(book)
"""
REFRESH = "\n    db.session.refresh(book)"


def _root(project, route: str = "run_in_threadpool", maker: str = "", refresh: str = ""):  # type: ignore[no-untyped-def]
    main = HELPERS.replace("{refresh}", refresh) + ROUTES[route] + OTHERS
    return project({"proxy_db.py": DB.format(url="sqlite:///./app.db", maker=maker), "proxy_main.py": main})


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_helper_read_after_a_proxy_commit_in_the_threadpool_is_am307(project, findings, reported, route):
    root = _root(project, route)
    (finding,) = findings(root, "retitled")
    assert finding["code"] == "AM307", finding
    message = finding["message"]
    # the read (in the helper, at its line) and the commit (the offloaded call, and the commit it reaches)
    assert "`book.id` in proxy_main.book_out (proxy_main.py:14)" in message, message
    assert "after the commit it ran in the threadpool (proxy_main.py:" in message, message
    assert "proxy_main.py:22 (db.session.commit())" in message, message
    entry = reported(root, "retitled")
    assert entry["action"] == "keep" and "AM131" not in entry["codes"], entry
    assert not any("nothing blocks" in reason for reason in entry["reasons"]), entry


@pytest.mark.parametrize("name", ["commit_after", "key_only"])
def test_a_read_after_a_proxy_commit_in_the_route_and_of_the_key_alone_is_am307(project, findings, name):
    (finding,) = findings(_root(project), name)
    assert finding["code"] == "AM307" and "after the commit it ran in the threadpool" in finding["message"], finding


@pytest.mark.parametrize("name", ["read_before", "own_session"])
def test_near_misses_a_read_before_the_commit_and_a_helper_opening_its_own_session(project, findings, name):
    assert findings(_root(project), name) == []


def test_near_miss_the_sessionmaker_does_not_expire_on_commit(project, findings, reported):
    root = _root(project, maker=", expire_on_commit=False")
    for name in ("retitled", "commit_after", "key_only"):
        assert findings(root, name) == [], name
    assert "AM131" in reported(root, "retitled")["codes"]


def test_near_miss_the_helper_refreshes_after_its_commit(project, findings):
    root = _root(project, refresh=REFRESH)
    assert findings(root, "retitled") == []
    assert findings(root, "key_only") == []


def test_the_premise_reads_after_the_proxy_commit_query_on_the_loop(tmp_path):
    from fastapi.concurrency import run_in_threadpool

    def run_routes(refresh: str) -> list[list[str]]:
        source = DB.format(url=f"sqlite:///{tmp_path / 'p.db'}", maker="")
        main = HELPERS.replace("{refresh}", refresh).replace("app.add_middleware(SessionMiddleware)", "")
        with imported(tmp_path, {"proxy_db": source, "proxy_main": main}) as (pdb, pmain):
            pdb.Base.metadata.drop_all(pdb.engine)
            pdb.Base.metadata.create_all(pdb.engine)
            with pdb.SessionLocal() as session:
                session.add(pdb.Book(id=1, title="a"))
                session.commit()

            async def request(read) -> list[str]:  # type: ignore[no-untyped-def]
                session = pdb.SessionLocal()
                token = pdb._session.set(session)
                try:
                    with statements_on_this_thread(pdb.engine) as on_loop:
                        book = await run_in_threadpool(pmain.retitle, 1, "b")
                        read(book)
                        return list(on_loop)
                finally:
                    pdb._session.reset(token)
                    session.close()

            try:
                return [asyncio.run(request(pmain.book_out)), asyncio.run(request(lambda book: book.id))]
            finally:
                pdb.engine.dispose()

    assert run_routes("") == [["SELECT"], ["SELECT"]]  # the key alone refreshes too
    assert run_routes(REFRESH) == [[], []]
