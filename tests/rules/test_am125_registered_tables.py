"""A table filled only by a registering decorator is read whole: a call out of it may run each
function the decorator registered (AM125's unverified outcome stays for any write not understood)."""

from __future__ import annotations

import json
import os

import pytest
import sample
from test_phase2_rules import MODELS, RUNTIME_ENGINE

# The registering decorator and the dispatch, per form: `{register}` is the decorator written
# over each handler, `{table}` the table `dispatch` reads.
FORMS = {
    "module": (
        """
HANDLERS: dict[type, Callable] = {}


def handles(kind):
    def register(fn):
        HANDLERS[kind] = fn
        return fn
    return register


def dispatch(cmd):
    return HANDLERS[type(cmd)](cmd)
""",
        "handles",
    ),
    "method": (
        """
class Bus:
    def __init__(self):
        self._handlers = {}

    def handles(self, kind):
        def register(fn):
            self._handlers[kind] = fn
            return fn
        return register

    def dispatch(self, cmd):
        return self._handlers[type(cmd)](cmd)


bus = Bus()


def dispatch(cmd):
    return bus.dispatch(cmd)
""",
        "bus.handles",
    ),
    "setdefault": (
        """
REGISTRY: dict[type, list[Callable]] = {}


def handles(kind):
    def register(fn):
        REGISTRY.setdefault(kind, []).append(fn)
        return fn
    return register


def dispatch(cmd):
    for handler in REGISTRY.get(type(cmd), []):
        result = handler(cmd)
    return result
""",
        "handles",
    ),
    "defaultdict": (
        """
from collections import defaultdict

REGISTRY = defaultdict(list)


def handles(kind):
    def register(fn):
        REGISTRY[kind].append(fn)
        return fn
    return register


def dispatch(cmd):
    for handler in REGISTRY[type(cmd)]:
        result = handler(cmd)
    return result
""",
        "handles",
    ),
}

HANDLER = """
class CreateBook:
    def __init__(self, title):
        self.title = title


class CountBooks:
    pass


@{register}(CreateBook)
def create_book(cmd):
    {work}


@{register}(CountBooks)
def count_books(cmd):
    return 0
"""

SESSION_WORK = """with database_sessionmaker() as db:
        db.add(Book(title=cmd.title, author_id=1))
        db.commit()
        return db.query(Book).count()"""

ROUTER = """
from bus import CreateBook, dispatch


@router.post("/books/{title}")
async def create(title: str):
    return {"n": dispatch(CreateBook(title))}
"""


HEAD = """from collections.abc import Callable

from db.engine import database_sessionmaker
from models import Book
"""


def bus(form: str, work: str = SESSION_WORK, extra: str = "") -> dict[str, str]:
    table, register = FORMS[form]
    source = HEAD + table
    source += HANDLER.replace("{register}", register).replace("{work}", work) + extra
    return {"bus.py": source, "models.py": MODELS}


def router(app, files):  # type: ignore[no-untyped-def]
    return app(ROUTER, files)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_table_filled_by_a_registering_decorator_is_read_whole(app, reported, findings, form):
    # Every write into the table is the decorator storing the function it decorates: the call out
    # of it may run create_book, which does synchronous Session work on the event loop.
    root = router(app, bus(form))
    entry = reported(root, "create", "phase1")
    assert entry["action"] == "convert", entry
    assert "AM125" not in entry["codes"], entry
    found = [f["code"] for f in findings(root, "create")]
    assert found and "AM304" not in found, found


@pytest.mark.parametrize("form", sorted(FORMS))
def test_near_miss_registered_handlers_doing_no_session_work_leave_the_route_async(app, reported, findings, form):
    root = router(app, bus(form, work="return 0"))
    entry = reported(root, "create", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM105"]), entry
    assert "AM304" not in [f["code"] for f in findings(root, "create")]


# Writes the analysis does not understand: the table (or the decorator) used otherwise.
ELSEWHERE = {
    "module": ["\nHANDLERS[str] = print\n", "\nhandles(str)(print)\n", "\nHANDLERS.update({str: print})\n"],
    "method": ["\nbus._handlers[str] = print\n", "\nbus.handles(str)(print)\n", "\nsetattr(bus, '_handlers', {})\n"],
    "setdefault": ["\nREGISTRY[str] = [print]\n", "\nalias = REGISTRY\n"],
    "defaultdict": ["\nREGISTRY[str].append(print)\n", "\nregister = handles\n"],
}


@pytest.mark.parametrize(("form", "extra"), [(f, e) for f, extras in sorted(ELSEWHERE.items()) for e in extras])
def test_near_miss_a_table_also_written_elsewhere_stays_unverified(app, reported, findings, form, extra):
    # the handlers' Session work: before, a route the analysis could not follow (AM125)
    root = router(app, bus(form, extra=extra))
    entry = reported(root, "create", "phase1")
    assert (entry["action"], "AM125" in entry["codes"]) == ("keep", True), entry


WRAPPING = HEAD + """
from functools import wraps

HANDLERS: dict[type, Callable] = {}


def handles(kind):
    def register(fn):
        @wraps(fn)
        def wrapper(*args):
            return fn(*args)
        HANDLERS[kind] = wrapper
        return fn
    return register


def dispatch(cmd):
    return HANDLERS[type(cmd)](cmd)
""" + HANDLER.replace("{register}", "handles").replace("{work}", SESSION_WORK)


def test_near_miss_a_registry_whose_decorator_wraps_the_function_stays_as_today(app, reported, findings):
    root = router(app, {"bus.py": WRAPPING, "models.py": MODELS})
    entry = reported(root, "create", "phase1")
    assert (entry["action"], "AM125" in entry["codes"]) == ("keep", True), entry


RUN = """
import json

from fastapi import FastAPI
from fastapi.testclient import TestClient

import api.items
from db.engine import database_sessionmaker, engine
from models import Author, Base, Book

Base.metadata.create_all(engine)
with database_sessionmaker() as s:
    s.add(Author(id=1, name="Ann"))
    s.commit()
app = FastAPI()
app.include_router(api.items.router)
with TestClient(app) as client:
    got = [client.post("/books/Zeta").json(), client.post("/books/Eta").json()]
with database_sessionmaker() as s:
    got.append(sorted(b.title for b in s.query(Book)))
print(json.dumps([api.items.create.__code__.co_flags & 0x80 != 0, got]))
"""


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_converted_route_still_runs_each_registered_handler(app, cli, tmp_path, form):
    root = router(app, {**bus(form), "db/engine.py": RUNTIME_ENGINE})
    assert cli("phase1", root, "--apply").exit_code == 0
    assert "async def create" not in (root / "api/items.py").read_text()
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}"}
    result = sample.run_python(RUN, cwd=root, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    is_coroutine, got = json.loads(result.stdout.strip().splitlines()[-1])
    # a plain def route (run in the threadpool) whose handler wrote through its own Session
    assert not is_coroutine
    assert got == [{"n": 1}, {"n": 2}, ["Eta", "Zeta"]]
