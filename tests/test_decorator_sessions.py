"""A Session a project decorator opens and hands to the function it wraps (`@with_session`
passing `db=`), rather than a dependency: the decorated route does Session work through it.

The wrapper's call of the function it wraps reaches every function the decorator is applied
to, so `db` is the decorator's Session there: phase one converts a route under a decorator
that picks a plain wrapper for a plain function, keeps one under a wrapper that awaits it,
and `check` never reads either as doing no Session work.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from sample import run_python

DB = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine(os.environ["DECO_DATABASE_URL"], connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Entry(Base):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str]
"""
DECORATORS = """
import functools
import inspect

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from db import Entry, Item, SessionLocal


def _without_db(fn):
    sig = inspect.signature(fn)
    return sig.replace(parameters=[p for p in sig.parameters.values() if p.name != "db"])


def with_session(fn):
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args, **kwargs):
            with SessionLocal() as db:
                return await fn(*args, db=db, **kwargs)

        async_wrapper.__signature__ = _without_db(fn)
        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with SessionLocal() as db:
            return fn(*args, db=db, **kwargs)

    wrapper.__signature__ = _without_db(fn)
    return wrapper


def plain_first(fn):
    if not inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with SessionLocal() as db:
                return fn(*args, db=db, **kwargs)

        wrapper.__signature__ = _without_db(fn)
        return wrapper

    @functools.wraps(fn)
    async def async_wrapper(*args, **kwargs):
        with SessionLocal() as db:
            return await fn(*args, db=db, **kwargs)

    async_wrapper.__signature__ = _without_db(fn)
    return async_wrapper


def awaited_session(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        with SessionLocal() as db:
            return await fn(*args, db=db, **kwargs)

    wrapper.__signature__ = _without_db(fn)
    return wrapper


def audited(action):
    def decorator(fn):
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args, **kwargs):
                result = await fn(*args, **kwargs)
                with SessionLocal.begin() as s:
                    s.add(Entry(action=action))
                return result

            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)
            with SessionLocal.begin() as s:
                s.add(Entry(action=action))
            return result

        return wrapper

    return decorator


def require_item(fn):
    @functools.wraps(fn)
    async def wrapper(request: Request, *args, **kwargs):
        with SessionLocal() as s:
            if s.get(Item, int(request.headers["x-item"])) is None:
                raise HTTPException(403)
        return await fn(request, *args, **kwargs)

    return wrapper


def ensure_async(fn):
    if inspect.iscoroutinefunction(fn):
        return fn

    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


def sessioned_methods(cls):
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and callable(member):
            setattr(cls, name, with_session(member))
    return cls


def offloaded(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        return await run_in_threadpool(fn, *args, **kwargs)

    return wrapper
"""
SERVICE = """
from sqlalchemy import select

from db import Item
from decorators import sessioned_methods


@sessioned_methods
class Catalogue:
    def names(self, db):
        return list(db.scalars(select(Item.name).order_by(Item.name.desc())))


catalogue = Catalogue()
"""
MAIN = """
from fastapi import FastAPI, Request
from sqlalchemy import func, select

from db import Entry, Item, SessionLocal
from decorators import audited, awaited_session, ensure_async, offloaded, plain_first, require_item, with_session
from service import catalogue

app = FastAPI()


@app.get("/items")
@with_session
async def list_items(db, prefix: str = ""):
    return [i.name for i in db.scalars(select(Item).order_by(Item.id)) if i.name.startswith(prefix)]


@app.get("/count")
@awaited_session
async def count_items(db):
    return {"count": db.scalar(select(func.count(Item.id)))}


@app.post("/ping")
@audited("ping")
async def ping():
    return {"pong": True}


@app.get("/guarded")
@require_item
async def guarded(request: Request):
    return {"ok": True}


@app.get("/entries")
@ensure_async
def entries():
    with SessionLocal() as s:
        return s.scalars(select(Entry.action)).all()


@app.get("/first")
@plain_first
async def first_item(db):
    return db.scalars(select(Item.name).order_by(Item.id)).first()


@app.get("/names")
async def names():
    return catalogue.names()


@app.get("/names/plain")
def plain_names():
    return catalogue.names()


@app.get("/entries/offloaded")
@offloaded
def entries_offloaded():
    with SessionLocal() as s:
        return s.scalars(select(Entry.action)).all()
"""
RUN = """
import json

from fastapi.testclient import TestClient

from db import Base, Item, SessionLocal, engine
from main import app

Base.metadata.drop_all(engine)
Base.metadata.create_all(engine)
with SessionLocal() as s:
    s.add_all([Item(name="apple"), Item(name="avocado"), Item(name="banana")])
    s.commit()
client = TestClient(app)
outcome = {"items": client.get("/items", params={"prefix": "a"}).json(), "count": client.get("/count").json()}
outcome["ping"] = client.post("/ping").json()
outcome["guarded"] = [client.get("/guarded", headers={"x-item": n}).status_code for n in ("1", "9")]
outcome["entries"] = client.get("/entries").json()
outcome["names"] = client.get("/names").json()
outcome["first"] = client.get("/first").json()
print(json.dumps(outcome))
"""


def build(project) -> Path:  # type: ignore[no-untyped-def]
    return project({"db.py": DB, "decorators.py": DECORATORS, "service.py": SERVICE, "main.py": MAIN})


def handler(document: dict, name: str) -> dict:
    return next(h for h in document["handlers"] if h["function"] == name)


def run(root: Path) -> dict:
    environment = {**os.environ, "DECO_DATABASE_URL": f"sqlite:///{root / 'deco.db'}"}
    result = run_python(textwrap.dedent(RUN), cwd=root, env=environment, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_session_the_decorator_passes_is_session_work(cli, project):
    root = build(project)
    document = cli.json("phase1", root)
    converted = handler(document, "list_items")
    assert converted["action"] == "convert"
    assert converted["reasons"][0] == "takes a synchronous Session handed in as `db` by decorator decorators.with_session and never awaits"
    kept = handler(document, "count_items")
    assert kept["action"] == "keep" and kept["codes"][0] == "AM110"
    findings = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert findings == {
        "list_items": "AM301", "count_items": "AM301", "ping": "AM301", "guarded": "AM301", "entries": "AM301",
        "names": "AM301", "first_item": "AM301",
    }


def test_the_converted_route_runs_under_the_decorator(cli, project):
    root = build(project)
    expected = {
        "items": ["apple", "avocado"], "count": {"count": 3}, "ping": {"pong": True}, "guarded": [200, 403],
        "entries": ["ping"], "names": ["banana", "avocado", "apple"], "first": "apple",
    }
    assert run(root) == expected
    assert cli("phase1", root, "--apply", "--allow-dirty").exit_code == 0
    text = (root / "main.py").read_text()
    assert "def list_items(db" in text and "async def list_items" not in text
    assert "def ping()" in text and "async def ping" not in text
    assert "def names()" in text and "async def names" not in text
    # `if not iscoroutinefunction(fn)`: the plain side is what a converted route gets
    assert "def first_item(db)" in text and "async def first_item" not in text
    assert run(root) == expected
    findings = {f["function"] for f in cli.json("check", root)["findings"]}
    assert findings == {"count_items", "guarded", "entries"}


def test_what_a_decorator_runs_on_the_loop_is_said(cli, project):
    document = cli.json("phase1", build(project))
    assert handler(document, "ping")["reasons"] == [
        "its decorator @audited(\"ping\") (line 24) does synchronous Session work on the event loop, in the "
        "`async def` wrapper it returns for a coroutine function, at decorators.py:72 (`with SessionLocal.begin() as s`); "
        "it never awaits"
    ]
    kept = handler(document, "guarded")
    assert kept["action"] == "keep" and kept["codes"][0] == "AM110"
    assert "line 30 (@require_item's wrapper, at decorators.py:93 (`with SessionLocal() as s -> s.get()`)" in kept["reasons"][-1]
    looped = handler(document, "entries")
    assert looped["action"] == "unchanged"
    assert looped["reasons"][0].startswith("already def, but decorator @ensure_async (decorators.py:")
    # near miss: a wrapper that awaits run_in_threadpool(fn) runs the def in the threadpool
    assert handler(document, "entries_offloaded")["reasons"] == ["already def: runs in the threadpool"]


def test_methods_a_class_decorator_wraps_get_its_session(cli, project):
    root = build(project)
    converted = handler(cli.json("phase1", root), "names")
    assert converted["action"] == "convert"
    assert converted["reasons"] == [
        "calls service.Catalogue.names (line 50), which does synchronous Session work: "
        "Catalogue.names -> @with_session -> with SessionLocal() as db"
    ]
    # phase two cannot make the method a coroutine under the decorator's plain wrapper: blocked, not unchanged
    document = cli.json("phase2", root, "--subsystem", "main.py")
    plain = handler(document, "plain_names")
    assert plain["action"] == "blocked"
    assert "gets its Session `db` from decorator @with_session (applied by the class decorator @sessioned_methods)" in (
        plain["reasons"][0]
    )


EXTERNAL = """
from fastapi import FastAPI
from sqlalchemy import select

from db import Item
from sessionkit import with_session

app = FastAPI()


@app.get("/items")
@with_session
async def list_items(db):
    return db.scalars(select(Item)).all()


@app.get("/limited")
@with_session
async def limited(limit):
    return {"limit": limit}
"""


def test_a_parameter_an_unread_decorator_may_fill_is_unverified(cli, project):
    root = project({"db.py": DB, "main.py": EXTERNAL})
    kept = handler(cli.json("phase1", root), "list_items")
    assert kept["action"] == "keep" and kept["codes"] == ["AM125"]
    assert kept["reasons"][0].startswith(
        "unverified: `db` has no annotation and no default: decorator @with_session, which the analysis cannot "
        "read (sessionkit.with_session), may pass it in: `db.scalars()` may be synchronous Session work (line 13)"
    )
    # near miss: a bare parameter used as no Session is no doubt
    findings = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert findings == {"list_items": "AM304"}
