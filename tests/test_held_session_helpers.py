"""Session helpers reached through what holds them rather than by name: a class used as a
decorator whose instance opens the Session in `__call__` (`@provide_session` as a class), and a
`functools.partial` of a helper opening its own Session (or a module-level lambda calling it),
kept in a local or module-level name and called later, called in place (`partial(f, 2)()`,
`partial(Svc)().count()`), or handed to what calls it in place (`map()`, a call of the graph). None is read as doing no Session work; phase two never rewrites a call through a
partial as a call of the function (its arguments are not the function's).
"""

from __future__ import annotations

DB = """
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


def get_db():
    with SessionLocal() as db:
        yield db


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    price: Mapped[int]
"""
HELPERS = """
import functools

from sqlalchemy import func, select

from db import Item, SessionLocal


class provide_session:
    def __init__(self, fn):
        functools.update_wrapper(self, fn)
        self.fn = fn

    def __call__(self, *args, **kwargs):
        with SessionLocal() as session:
            return self.fn(*args, session=session, **kwargs)


@provide_session
def count(session=None):
    return session.scalar(select(func.count()).select_from(Item))


def run_in_session(fn, *args):
    with SessionLocal() as session:
        return fn(session, *args)


def count_with(session):
    return session.scalar(select(func.count()).select_from(Item))


def over(price):
    with SessionLocal() as s:
        return s.scalar(select(func.count()).select_from(Item).where(Item.price > price))


def double(x):
    return 2 * x


COUNT = functools.partial(run_in_session, count_with)
COUNT_LATER = lambda: run_in_session(count_with)  # noqa: E731
TWICE = lambda: double(2)  # noqa: E731
"""
MAIN = """
import functools

from fastapi import Depends, FastAPI

import helpers
from db import Item, get_db

app = FastAPI()


@app.get("/class")
async def by_class():
    return helpers.count()


@app.get("/module")
async def by_module_partial():
    return helpers.COUNT()


@app.get("/lambda")
async def by_module_lambda():
    return helpers.COUNT_LATER()


@app.get("/twice")
async def twice():
    return helpers.TWICE()


@app.get("/map")
async def by_map():
    return list(map(helpers.run_in_session, [helpers.count_with]))


@app.get("/doubled")
async def doubled():
    return sorted(map(helpers.double, [1, 2]), key=helpers.double)


@app.get("/local")
async def by_local_partial():
    runner = functools.partial(helpers.run_in_session, helpers.count_with)
    return runner()


@app.get("/plain")
async def plain():
    twice = functools.partial(helpers.double, 2)
    return twice()


@app.get("/held")
def held(db=Depends(get_db)):
    db.get(Item, 1)
    f = functools.partial(helpers.over, 5)
    return f()
"""


def build(project):  # type: ignore[no-untyped-def]
    return project({"db.py": DB, "helpers.py": HELPERS, "main.py": MAIN})


def _handler(document: dict, name: str) -> dict:
    return next(h for h in document["handlers"] if h["function"] == name)


def test_a_class_decorator_opening_a_session_is_session_work(cli, project):
    root = build(project)
    converted = _handler(cli.json("phase1", root), "by_class")
    assert converted["action"] == "convert", converted
    assert "opens its own synchronous Session" in converted["reasons"][0], converted
    blocked = _handler(cli.json("phase2", root, "--subsystem", "main.py"), "by_class")
    assert blocked["action"] == "blocked", blocked
    assert "decorator @provide_session" in blocked["reasons"][0], blocked


def test_a_partial_of_a_session_helper_is_no_all_clear(cli, project):
    root = build(project)
    document = cli.json("phase1", root)
    for name in ("by_module_partial", "by_module_lambda", "by_local_partial"):
        kept = _handler(document, name)
        assert kept["action"] == "keep" and kept["codes"] == ["AM125"], kept
        assert "run_in_session" in kept["reasons"][0], kept
    # handed to what calls it in place: a call of the graph (tests/rules/test_am123_handed_to_call_in_place.py)
    # (kept for the in-memory database each worker thread would have of its own)
    mapped = _handler(document, "by_map")
    assert mapped["codes"] == ["AM142", "AM116"], mapped
    assert [b["call"] for b in mapped["blocking"]] == ["helpers.run_in_session(...)"], mapped
    findings = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    # near miss: a partial or lambda of a helper doing no Session work
    assert findings == {
        "by_class": "AM301", "by_module_partial": "AM304", "by_module_lambda": "AM304", "by_local_partial": "AM304",
        "by_map": "AM301",
    }


def test_phase_two_never_rewrites_a_call_through_a_partial_as_the_function(cli, project):
    root = build(project)
    document = cli.json("phase2", root, "--subsystem", "main.py")
    assert "over_async()" not in document["diff"]
    # as a coroutine the route would run the helper's synchronous Session work on the loop
    held = _handler(document, "held")
    assert held["action"] == "blocked" and held["codes"] == ["AM272"], held
    assert "`f()` runs over through what holds it" in held["reasons"][0], held
    assert "async def held" not in document["diff"]


INLINE_HELPERS = """


class Counter:
    def count(self):
        with SessionLocal() as s:
            return s.scalar(select(func.count()).select_from(Item))


class Plain:
    def value(self):
        return 1
"""
INLINE_MAIN = """
import functools
from functools import partial

from fastapi import Depends, FastAPI

import helpers
from db import Item, get_db

app = FastAPI()


@app.get("/inline")
async def inline():
    return functools.partial(helpers.run_in_session, helpers.count_with)()


@app.get("/inline-args")
async def inline_args():
    return {"n": partial(helpers.over, 5)()}


@app.get("/inline-instance")
async def inline_instance():
    return partial(helpers.Counter)().count()


@app.get("/inline-plain")
async def inline_plain():
    return partial(helpers.double, 2)() + partial(helpers.Plain)().value()


@app.get("/inline-held")
def inline_held(db=Depends(get_db)):
    db.get(Item, 1)
    return partial(helpers.over, 5)()
"""


def test_a_partial_called_in_place_is_no_all_clear(cli, project):
    # `partial(f, 2)()` runs f as `runner = partial(f, 2); runner()` does: unverified, never clean
    root = project({"db.py": DB, "helpers.py": HELPERS + INLINE_HELPERS, "main.py": INLINE_MAIN})
    document = cli.json("phase1", root)
    for name, helper in (("inline", "run_in_session"), ("inline_args", "over"), ("inline_instance", "Counter.count")):
        kept = _handler(document, name)
        assert kept["action"] == "keep" and kept["codes"] == ["AM125"], kept
        assert helper in kept["reasons"][0] and "partial(" in kept["reasons"][0], kept
    findings = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    # near miss: partials of what does no Session work
    assert findings == {"inline": "AM304", "inline_args": "AM304", "inline_instance": "AM304"}, findings
    moved = cli.json("phase2", root, "--subsystem", "main.py")
    assert "over_async(" not in moved["diff"]
    held = _handler(moved, "inline_held")
    assert held["action"] == "blocked" and "runs over through what holds it" in " ".join(held["reasons"]), held
