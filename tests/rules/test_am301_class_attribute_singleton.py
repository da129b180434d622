"""AM301 blocking-session: a singleton kept in a class attribute (`_instance = None` in the
class body, set by `cls._instance = Service()` in a classmethod or `Holder._instance = Service()`
in a staticmethod, both unannotated) holds what is stored there: the class-body `None` alone
made `Holder.get().count()` read as no work. Near miss: the same singleton of a class doing no
Session work."""

from __future__ import annotations

ROUTES = """
from sqlalchemy import select

from db.engine import database_sessionmaker


class Service:
    def count(self):
        with database_sessionmaker() as s:
            return s.scalar(select(1))


class Plain:
    def count(self):
        return 1


class Holder:
    _instance = None

    @classmethod
    def get(cls):
        if cls._instance is None:
            cls._instance = Service()
        return cls._instance


class Named:
    _instance = None

    @staticmethod
    def get():
        if Named._instance is None:
            Named._instance = Service()
        return Named._instance


class PlainHolder:
    _instance = None

    @classmethod
    def get(cls):
        if cls._instance is None:
            cls._instance = Plain()
        return cls._instance


@router.get("/singleton")
async def singleton():
    return Holder.get().count()


@router.get("/named")
async def named():
    return Named.get().count()


@router.get("/plain")
async def plain():
    return PlainHolder.get().count()
"""


def test_a_class_attribute_set_on_the_class_holds_what_is_stored(app, findings):
    root = app(ROUTES)
    for route in ("singleton", "named"):
        found = findings(root, route)
        assert [f["code"] for f in found] == ["AM301"], (route, found)


def test_near_miss_a_singleton_doing_no_session_work(app, findings):
    assert findings(app(ROUTES), "plain") == []
