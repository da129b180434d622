"""A parameter declared with a union admitting a Session among other types (`obj: Union[str,
Session, Engine]`, Prefect's `get_dialect`) holds what its callers hand it: a Session only where
one does. It was read as a Session whatever it was given, so an async def route on an
AsyncSession calling `get_dialect(URL)` reached "synchronous session helpers" (AM302), and the
helper's `make_url(obj)` was a Session handed to a library (AM304). `Optional[Session]` and
`Session | None` admit nothing else and stay declared Sessions. Once some caller hands such a
parameter the Session, its Session work counts for every caller (one summary per function)."""

from __future__ import annotations

HELPERS = """
from typing import Optional, Union

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

URL = "sqlite://"


def get_dialect(obj: Union[str, Session, Engine]) -> str:
    if isinstance(obj, Session):
        obj.execute(text("select 1"))
        obj = obj.get_bind().url
    elif isinstance(obj, Engine):
        obj = obj.url
    return make_url(obj).get_dialect().name


def dialect() -> str:
    return get_dialect(URL)


def count(db: Optional[Session] = None) -> int:
    return db.execute(text("select 1")).scalar_one()
"""
ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.engine import get_db_session
from services.dialects import count, dialect, get_dialect


async def get_async_db() -> AsyncSession: ...


@router.get("/dialect")
async def by_url(db: AsyncSession = Depends(get_async_db)):
    return {"dialect": dialect()}


@router.get("/count")
async def counted(db: AsyncSession = Depends(get_async_db)):
    return {"n": count()}
"""
BY_SESSION = """

@router.get("/dialect-of-session")
async def by_session(db: Session = Depends(get_db_session)):
    return {"dialect": get_dialect(db)}
"""
FILES = {"services/__init__.py": "", "services/dialects.py": HELPERS}


def test_a_union_parameter_given_a_string_is_no_session(app, findings):
    assert findings(app(ROUTES, FILES), "by_url") == []


def test_near_miss_a_union_parameter_handed_the_session_does_its_session_work(app, findings):
    found = findings(app(ROUTES + BY_SESSION, FILES), "by_session")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "get_dialect" in found[0]["message"], found


def test_near_miss_an_optional_session_parameter_stays_a_declared_session(app, findings):
    found = findings(app(ROUTES, FILES), "counted")
    assert [f["code"] for f in found] == ["AM302"], found
    assert "services.dialects.count" in found[0]["message"], found
