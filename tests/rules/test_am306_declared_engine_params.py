"""A helper parameter annotated as a synchronous engine (`engine: Engine`) or a session factory
(`factory: Callable[[], Session]`) hides nothing: the annotation says what the helper connects
with, as `db: Session` does, so a route calling it is flagged. A callable taking a Session
(`Callable[[Session], int]`) opens none and stays clean."""

from __future__ import annotations

ROUTES = """
from typing import Callable

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker, engine


def use(engine: Engine) -> None:
    with engine.connect() as c:
        c.execute(text("select 1"))


def schemas(engine: Engine) -> list:
    return inspect(engine).get_schema_names()


def count(factory: Callable[[], Session]) -> int:
    with factory() as s:
        return s.execute(text("select count(*) from t")).scalar()


def apply(callback: Callable[[Session], int]) -> int:
    return 1


@router.get("/use")
async def by_engine():
    use(engine)


@router.get("/schemas")
async def by_inspect():
    return schemas(engine)


@router.get("/count")
async def by_factory():
    return count(database_sessionmaker)


@router.get("/apply")
async def by_callback():
    return apply(lambda s: 1)
"""


def test_engine_annotated_parameters_are_engine_work(app, findings):
    root = app(ROUTES)
    for route in ("by_engine", "by_inspect"):
        found = findings(root, route)
        assert [f["code"] for f in found] == ["AM306"], (route, found)


def test_session_factory_annotated_parameter_is_session_work(app, findings):
    found = findings(app(ROUTES), "by_factory")
    assert [f["code"] for f in found] == ["AM301"], found


def test_near_miss_a_callable_taking_a_session_opens_none(app, findings):
    assert findings(app(ROUTES), "by_callback") == []
