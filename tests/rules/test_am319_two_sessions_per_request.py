"""AM319 two-sessions-per-request: an `async def` route on an AsyncSession whose dependency still
receives the synchronous Session holds two Sessions a request."""

from __future__ import annotations

ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import get_db_session


async def get_async_session():
    yield AsyncSession()


def get_current_user(session: session_dependency) -> int:
    return 1


def get_request_id() -> str:
    return "r"


@router.put("/me")
async def rename_me(user: int = Depends(get_current_user), db: AsyncSession = Depends(get_async_session)):
    db.add(user)
    await db.commit()


@router.put("/other")
async def other(request_id: str = Depends(get_request_id), db: AsyncSession = Depends(get_async_session)):
    await db.commit()
"""


def test_a_sync_session_dependency_of_an_async_session_route_is_am319(app, findings):
    (finding,) = findings(app(ROUTES), "rename_me")
    assert finding["code"] == "AM319"
    assert "api.items.get_current_user" in finding["message"] and "db.add(user)" in finding["message"]


def test_near_miss_a_dependency_without_the_session(app, findings):
    assert findings(app(ROUTES), "other") == []


# The dependency is listed above the route's router: a parent router including it, or the include.
ABOVE = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import get_db_session


async def get_async_session():
    yield AsyncSession()


class RoleChecker:
    def __init__(self, role: str) -> None:
        self.role = role

    def __call__(self, session: session_dependency) -> None:
        return None


def get_current_user(session: session_dependency) -> int:
    return 1


@router.put("/me")
async def rename_me(db: AsyncSession = Depends(get_async_session)):
    await db.commit()
"""
PARENT = """
from fastapi import APIRouter, Depends, FastAPI

from api.items import RoleChecker, router

api = APIRouter(dependencies=[Depends(RoleChecker("admin"))])
api.include_router(router)
app = FastAPI()
app.include_router(api)
"""
INCLUDED = """
from fastapi import APIRouter, Depends, FastAPI

from api.items import get_current_user, router

other = APIRouter()
app = FastAPI()
app.include_router(router, dependencies=[Depends(get_current_user)])
app.include_router(other, dependencies=[Depends(get_current_user)])
"""


def test_a_callable_instance_a_parent_router_lists_is_am319(app, findings):
    (finding,) = findings(app(ABOVE, {"main.py": PARENT}), "rename_me")
    assert finding["code"] == "AM319" and "api.items.RoleChecker.__call__" in finding["message"]


def test_an_include_router_dependency_is_am319(app, findings):
    (finding,) = findings(app(ABOVE, {"main.py": INCLUDED}), "rename_me")
    assert finding["code"] == "AM319" and "api.items.get_current_user" in finding["message"]


def test_near_miss_an_include_router_dependency_of_another_router(app, findings):
    main = INCLUDED.replace("app.include_router(router, dependencies=[Depends(get_current_user)])", "app.include_router(router)")
    assert findings(app(ABOVE, {"main.py": main}), "rename_me") == []
