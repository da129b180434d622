"""AM264 session-from-request-state: a session dependency returning the Session a middleware opened on
`request.state` blocks the routes reaching it (an async dependency would be a second Session per request),
naming the middleware; a dependency opening its own Session migrates."""

from __future__ import annotations

ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    session.flush()
"""
ENGINE = """
from collections.abc import Iterator

from fastapi import Request
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


{provider}
"""
FROM_STATE = """
def get_db_session(request: Request) -> Session:
    return request.state.db
"""
OWN = """
def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
MAIN = """
from fastapi import FastAPI, Request

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(router)


@app.middleware("http")
async def open_session(request: Request, call_next):
    request.state.db = database_sessionmaker()
    try:
        return await call_next(request)
    finally:
        request.state.db.close()
"""


def test_a_dependency_returning_the_middleware_session_blocks_with_am264(phase2, entry):
    document = phase2(ROUTE, {"db/engine.py": ENGINE.format(provider=FROM_STATE), "main.py": MAIN})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM264" in found["codes"], found
    assert "AM271" not in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM264")]
    line = next(n for n, t in enumerate(MAIN.strip().splitlines(), 1) if "request.state.db =" in t)
    assert f"`open_session` (main.py:{line}: `request.state.db = database_sessionmaker()`)" in reason, reason
    assert "second Session" in reason, reason
    assert document["files_changed"] == []


def test_near_miss_a_dependency_opening_its_own_session_migrates(phase2, entry):
    document = phase2(ROUTE, {"db/engine.py": ENGINE.format(provider=OWN), "main.py": MAIN})
    found = entry(document, "create_book")
    assert found["action"] == "migrate" and "AM264" not in found["codes"], found
