"""AM301 blocking-session through a project subclass of a synchronous Session class: `class
AppSession(sqlmodel.Session)` (or of `sqlalchemy.orm.Session`, at any depth of project subclassing,
defined in another module, imported under any name or aliased) is a Session class as the one it derives
from. Opened directly (`with AppSession(engine) as s`, `s = AppSession(bind=engine)`), opened by a
`functools.wraps` decorator, or declared as a parameter's type (`db: AppSession`), its work on the
event loop is reported, where it was "no synchronous Session work" and `check` was clean. A subclass
of AsyncSession is an AsyncSession: its coroutine methods called without `await` are reported.

Near misses: a class merely named like a Session (no Session base) and a subclass of something
else stay as they were, doing no Session work the analysis can see."""

from __future__ import annotations

SESSIONS = """
from sqlalchemy.orm import Session as OrmSession
import sqlmodel


class AuditedSession(OrmSession):
    pass


class ModelSession(sqlmodel.Session):
    pass


class ReportSession:
    \"\"\"Named like a Session, derives from nothing.\"\"\"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def execute(self, statement):
        return statement


class SessionLog(dict):
    def execute(self, statement):
        return statement
"""
# Two levels of project subclassing, in a module of its own.
TENANT = """
from db.sessions import AuditedSession


class TenantSession(AuditedSession):
    pass
"""
ASYNC = """
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite:///./app.db")


class TenantAsyncSession(AsyncSession):
    pass


async def get_tenant_db() -> AsyncIterator[TenantAsyncSession]:
    async with TenantAsyncSession(async_engine) as session:
        yield session
"""
JOBS = """
import functools

from sqlalchemy import text

from db.engine import engine
from db.sessions import ModelSession, ReportSession, SessionLog
from db.tenants import TenantSession as Tenant

Db = ModelSession  # a module-level alias of the class


def age_all() -> int:
    with Tenant(engine) as session:
        session.execute(text("update items set name = name"))
        session.commit()
        return 1


def count_by_keyword() -> int:
    session = Db(bind=engine)
    try:
        return session.execute(text("select count(*) from items")).scalar()
    finally:
        session.close()


def with_session(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with Tenant(engine) as s:
            return fn(*args, session=s, **kwargs)

    return wrapper


@with_session
def item_count(*, session) -> int:
    return session.execute(text("select count(*) from items")).scalar()


def report() -> int:
    with ReportSession() as session:
        return session.execute(1)


def logged() -> int:
    return SessionLog().execute(1)
"""
FILES = {"db/sessions.py": SESSIONS, "db/tenants.py": TENANT, "db/asyncs.py": ASYNC, "jobs.py": JOBS}

ROUTES = """
from fastapi import Depends
from sqlalchemy import text

import jobs
from db.asyncs import TenantAsyncSession, get_tenant_db
from db.sessions import ModelSession
from vendor.sessions import open_vendor_session


def provide():
    yield open_vendor_session()


@router.post("/age")
async def age_now():
    return {"aged": jobs.age_all()}


@router.get("/count")
async def count():
    return {"n": jobs.count_by_keyword()}


@router.get("/decorated")
async def decorated():
    return {"n": jobs.item_count()}


@router.get("/declared")
async def declared(db: ModelSession = Depends(provide)):
    return {"n": db.execute(text("select 1")).scalar()}


@router.get("/tenant")
async def tenant(db: TenantAsyncSession = Depends(get_tenant_db)):
    db.add(object())
    return {"n": db.execute(text("select 1"))}


@router.get("/tenant-awaited")
async def tenant_awaited(db: TenantAsyncSession = Depends(get_tenant_db)):
    return {"n": (await db.execute(text("select 1"))).scalar()}


@router.get("/report")
async def report():
    return {"n": jobs.report()}


@router.get("/logged")
async def logged():
    return {"n": jobs.logged()}
"""


def test_a_session_subclass_opened_in_a_helper_blocks_the_route(app, reported, findings):
    root = app(ROUTES, FILES)
    for route in ("age_now", "count", "decorated"):
        assert [f["code"] for f in findings(root, route)] == ["AM301"], route
        entry = reported(root, route, "phase1")
        assert entry["action"] == "convert", entry
    assert "opens its own synchronous Session" in " ".join(reported(root, "age_now", "phase1")["reasons"])


def test_a_parameter_declared_a_session_subclass_takes_a_synchronous_session(app, reported, findings):
    root = app(ROUTES, FILES)
    entry = reported(root, "declared", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM101"]), entry
    assert [f["code"] for f in findings(root, "declared")] == ["AM301"]


def test_a_subclass_of_async_session_is_an_async_session(app, reported, findings):
    root = app(ROUTES, FILES)
    assert [f["code"] for f in findings(root, "tenant")] == ["AM311"]
    assert findings(root, "tenant_awaited") == []
    entry = reported(root, "tenant_awaited", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM135"]), entry


def test_near_miss_a_class_named_like_a_session_or_deriving_from_another_is_no_session(app, reported, findings):
    root = app(ROUTES, FILES)
    for route in ("report", "logged"):
        assert findings(root, route) == [], route
        entry = reported(root, route, "phase1")
        assert (entry["action"], entry["codes"]) == ("keep", ["AM105"]), entry
