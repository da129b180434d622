"""AM304: a dependency whose callable the analysis cannot resolve to a project function or class
(a copy a project helper makes, a call's result, a subscript) is unverified, never clean."""

from __future__ import annotations

import pytest

HELPERS = """
import types


def copy_func(f):
    return types.FunctionType(f.__code__, f.__globals__, name=f.__name__, argdefs=f.__defaults__, closure=f.__closure__)


def build(f):
    return make_it(f)
"""

ROUTES = """
from fastapi import Depends, Security
from fastapi.security import HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from core.helpers import build, copy_func


async def get_async_session():
    yield AsyncSession()


def verify(session: session_dependency) -> int:
    return 1


verify_prod = copy_func(verify)
built = build(verify)
TABLE = make_table()
bearer = HTTPBearer()


@router.put("/direct", dependencies=[Security(verify)])
async def direct(db: AsyncSession = Depends(get_async_session)):
    await db.commit()


@router.put("/copied", dependencies=[Security(verify_prod)])
async def copied(db: AsyncSession = Depends(get_async_session)):
    await db.commit()


@router.put("/copied_param")
async def copied_param(user: int = Depends(verify_prod), db: AsyncSession = Depends(get_async_session)):
    await db.commit()


@router.put("/built", dependencies=[Depends(built)])
async def built_route(db: AsyncSession = Depends(get_async_session)):
    await db.commit()


@router.put("/subscript", dependencies=[Depends(TABLE["x"])])
async def subscript(db: AsyncSession = Depends(get_async_session)):
    await db.commit()


@router.put("/attr", dependencies=[Depends(TABLE.verify)])
async def attr(db: AsyncSession = Depends(get_async_session)):
    await db.commit()


@router.put("/inline", dependencies=[Depends(build(verify))])
async def inline(db: AsyncSession = Depends(get_async_session)):
    await db.commit()


@router.put("/library", dependencies=[Depends(bearer), Depends(HTTPBearer())])
async def library(db: AsyncSession = Depends(get_async_session)):
    await db.commit()


@router.put("/plain")
async def plain(db: AsyncSession = Depends(get_async_session)):
    await db.commit()
"""

INCLUDED = """
from fastapi import Depends, FastAPI

from api.items import built, router

app = FastAPI()
app.include_router(router, dependencies=[Depends(built)])
"""


@pytest.fixture
def routes(app):
    return app(ROUTES, {"core/helpers.py": HELPERS})


@pytest.mark.parametrize("function", ["copied", "copied_param"])
def test_a_copy_a_project_helper_makes_is_followed_to_am319(routes, findings, function):
    (finding,) = findings(routes, function)
    assert finding["code"] == "AM319" and "api.items.verify" in finding["message"]


@pytest.mark.parametrize(
    ("function", "written"),
    [
        ("built_route", "Depends(built)"),
        ("subscript", 'Depends(TABLE["x"])'),
        ("attr", "Depends(TABLE.verify)"),
        ("inline", "Depends(build())"),
    ],
)
def test_a_dependency_the_analysis_cannot_resolve_is_unverified(routes, findings, function, written):
    (finding,) = findings(routes, function)
    assert finding["code"] == "AM304" and f"`{written}`" in finding["message"]


def test_near_miss_a_library_dependency_is_no_finding(routes, findings):
    assert findings(routes, "library") == []


def test_an_include_router_dependency_the_analysis_cannot_resolve_is_unverified(app, findings):
    root = app(ROUTES, {"core/helpers.py": HELPERS, "main.py": INCLUDED})
    (finding,) = findings(root, "plain")
    assert finding["code"] == "AM304" and "`Depends(built)`" in finding["message"]


def test_scan_says_an_unresolved_dependency_is_unverified(routes, reported):
    entry = reported(routes, "built_route")
    assert "`Depends(built)` cannot be resolved" in entry["reasons"][0]
    assert "Depends(verify_prod)" not in str(reported(routes, "copied")["reasons"])


# Phase two cannot point a copy, or what it cannot resolve, at an async twin: the route stays.
PHASE2 = """
from fastapi import Depends, Security

from core.helpers import build, copy_func


def verify(db: session_dependency) -> int:
    return 1


verify_prod = copy_func(verify)
built = build(verify)


@router.get("/copied", dependencies=[Security(verify_prod)])
def copied(db: session_dependency):
    return db.scalar(select(func.count(Book.id)))


@router.get("/built", dependencies=[Depends(built)])
def built_route(db: session_dependency):
    return db.scalar(select(func.count(Book.id)))


@router.get("/direct", dependencies=[Security(verify)])
def direct(db: session_dependency):
    return db.scalar(select(func.count(Book.id)))
"""


@pytest.mark.parametrize("function", ["copied", "built_route"])
def test_phase2_blocks_a_route_with_a_dependency_it_cannot_twin(phase2, function):
    document = phase2(PHASE2, {"core/helpers.py": HELPERS})
    (entry,) = [h for h in document["handlers"] if h["function"] == function]
    assert entry["action"] == "blocked" and "AM296" in entry["codes"], entry


def test_near_miss_phase2_twins_the_dependency_named_itself(phase2):
    document = phase2(PHASE2, {"core/helpers.py": HELPERS})
    (entry,) = [h for h in document["handlers"] if h["function"] == "direct"]
    assert entry["action"] == "migrate", entry


FACTORY = """
from typing import Annotated, Type, TypeVar

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.orm import Session


class Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ping(self) -> int:
        return self.session.scalar(text("select 1"))


T = TypeVar("T", bound=Repo)


def repository(cls{declared}):
    def _build(session: session_dependency) -> T:
        return cls(session)
    return _build


async def get_service(repo: Annotated[Repo, Depends(repository(Repo))]) -> Repo:
    return repo


@router.get("/ping")
def ping(repo: Annotated[Repo, Depends(get_service)]) -> int:
    return repo.ping()
"""


def test_a_factory_calling_what_it_is_handed_is_unverified_and_named_as_written(app, findings):
    # Undeclared, `cls` may be a function the factory wraps: what `_build` runs is unseen. The
    # message wrote `Depends(repository())`, dropping the argument that tells the calls apart.
    root = app(FACTORY.replace("{declared}", ""))
    (finding,) = findings(root, "get_service")
    assert finding["code"] == "AM304" and "`Depends(repository(Repo))`" in finding["message"], finding["message"]


def test_near_miss_a_factory_building_the_class_it_is_handed_is_followed(app, findings):
    # `cls: type[T]` holds a class, so `_build` is the dependency FastAPI runs (a plain `def`,
    # in the threadpool), read as phase one reads it: check resolved nothing and failed CI.
    for declared in (": type[T]", ": Type[Repo]"):
        root = app(FACTORY.replace("{declared}", declared))
        assert findings(root, "get_service") == [], declared
