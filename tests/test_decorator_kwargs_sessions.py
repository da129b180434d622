"""A decorator handing its Session to the function it wraps through the keywords dict
(`kwargs["session"] = session; return await func(*args, **kwargs)`, `kwargs.setdefault(...)`,
`kwargs.update(...)`, `func(**{"session": s})`) rather than writing the keyword: the wrapped
coroutine's Session work blocks the loop of every route awaiting it, and `check` never reads
such a route as doing no Session work.
"""

from __future__ import annotations

DB = """
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Entry(Base):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str]
"""
DECORATORS = """
import contextlib
import functools

from db import SessionLocal


@contextlib.contextmanager
def create_session():
    session = SessionLocal()
    try:
        yield session
        session.commit()
    finally:
        session.close()


def by_item(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        with create_session() as session:
            kwargs["session"] = session
            return await func(*args, **kwargs)
    return wrapper


def by_setdefault(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        with create_session() as session:
            kwargs.setdefault("session", session)
            return await func(*args, **kwargs)
    return wrapper


def by_update(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        with create_session() as session:
            kwargs.update(session=session)
            return await func(*args, **kwargs)
    return wrapper


def by_display(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        with create_session() as session:
            return await func(*args, **{**kwargs, "session": session})
    return wrapper
"""
AUDIT = """
from sqlalchemy import func, select

from db import Entry
from decorators import by_display, by_item, by_setdefault, by_update


@by_item
async def record(action, session=None):
    session.add(Entry(action=action))


@by_setdefault
async def record_default(action, session=None):
    session.add(Entry(action=action))


@by_update
async def record_update(action, session=None):
    session.add(Entry(action=action))


@by_display
async def count(session=None):
    return session.scalar(select(func.count()).select_from(Entry))
"""
MAIN = """
from fastapi import FastAPI

import audit

app = FastAPI()


@app.post("/item")
async def item():
    await audit.record("item")


@app.post("/default")
async def default():
    await audit.record_default("default")


@app.post("/update")
async def update():
    await audit.record_update("update")


@app.get("/count")
async def count():
    return {"count": await audit.count()}


@app.get("/health")
async def health():
    return {"ok": True}
"""
ROUTES = ("item", "default", "update", "count")


def test_a_session_put_in_the_keywords_dict_is_no_all_clear(cli, project):
    root = project({"db.py": DB, "decorators.py": DECORATORS, "audit.py": AUDIT, "main.py": MAIN})
    document = cli.json("phase1", root)
    for name in ROUTES:
        found = next(h for h in document["handlers"] if h["function"] == name)
        assert found["action"] == "keep", found
        assert not any("does no synchronous Session work" in r for r in found["reasons"]), found
    result = cli.json("check", root)
    findings = {f["function"] for f in result["findings"]}
    assert findings == set(ROUTES)  # near miss: `health` hands nothing on
