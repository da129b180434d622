"""Phase one and a Session the whole process shares, run under concurrent requests.

A module-global `db = SessionLocal()` route is kept async (AM126): converted, concurrent
requests would share the Session across threadpool threads. A `scoped_session` global
gives each thread its own Session: it converts, and the converted route serves
concurrent requests correctly. Both are applied, then served with concurrent requests.
"""

from __future__ import annotations

import textwrap

import pytest
from sample import run_json

MAIN = """
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import {imports}

engine = create_engine("sqlite:///./x.db", connect_args={{"check_same_thread": False, "timeout": 30}})
SessionLocal = sessionmaker(engine)
db = {session}

app = FastAPI()


@app.post("/counter")
async def bump():
    db.execute(text("insert into c values (1)"))
    db.commit()
    count = db.execute(text("select count(*) from c")).scalar_one()
    {close}
    return {{"n": count}}
"""
LOAD = """
import json
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import text

from main import app, engine

with engine.begin() as connection:
    connection.execute(text("create table c (n integer)"))
with TestClient(app, raise_server_exceptions=False) as client:
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: client.post("/counter").status_code, range(64)))
with engine.connect() as connection:
    rows = connection.execute(text("select count(*) from c")).scalar_one()
print(json.dumps({"ok": statuses.count(200), "rows": rows}))
"""


def build(tmp_path, session: str, imports: str, close: str):  # type: ignore[no-untyped-def]
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.py").write_text(
        textwrap.dedent(MAIN).format(session=session, imports=imports, close=close).lstrip(), encoding="utf-8"
    )
    return root


def load(root) -> dict:  # type: ignore[no-untyped-def]
    return run_json(textwrap.dedent(LOAD), cwd=root, timeout=300)


def test_a_module_global_session_is_kept_async_and_serves_concurrent_requests(cli, tmp_path):
    root = build(tmp_path, "SessionLocal()", "sessionmaker", "")
    before = (root / "main.py").read_text()
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    (entry,) = document["handlers"]
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert (root / "main.py").read_text() == before
    assert load(root) == {"ok": 64, "rows": 64}


def _in_try(root, final: str) -> None:  # type: ignore[no-untyped-def]
    """The route's body put in a `try` whose `finally` runs `final`."""
    main = root / "main.py"
    head, _, body = main.read_text().partition("async def bump():\n")
    inner = "".join(f"    {line}" if line.strip() else line for line in body.splitlines(keepends=True))
    main.write_text(f"{head}async def bump():\n    try:\n{inner.rstrip()}\n    finally:\n        {final}\n")


def test_a_scoped_session_global_removed_outside_a_finally_is_kept_async(cli, tmp_path):
    # before, any `remove()` in the route counted: converted, a request failing before it left the
    # worker thread's Session in the registry for the next request on that thread
    root = build(tmp_path, "scoped_session(SessionLocal)", "scoped_session, sessionmaker", "db.remove()")
    (entry,) = cli.json("phase1", root)["handlers"]
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "`db.remove()` (main.py:17) runs only when nothing before it raises" in entry["reasons"][0], entry


def test_near_miss_a_scoped_session_global_converts_and_serves_concurrent_requests(cli, tmp_path):
    root = build(tmp_path, "scoped_session(SessionLocal)", "scoped_session, sessionmaker", "")
    _in_try(root, "db.remove()")
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    (entry,) = document["handlers"]
    assert entry["action"] == "convert", entry
    assert "\ndef bump():" in (root / "main.py").read_text()
    assert load(root) == {"ok": 64, "rows": 64}


CACHED = """
from functools import lru_cache

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./x.db", connect_args={{"check_same_thread": False, "timeout": 30}})
SessionLocal = sessionmaker(engine)


@lru_cache
def shared():
    return {made}


app = FastAPI()


@app.post("/counter")
async def bump({param}):
    {bind}
    db.execute(text("insert into c values (1)"))
    db.commit()
    count = db.execute(text("select count(*) from c")).scalar_one()
    {close}
    return {{"n": count}}
"""


def build_cached(tmp_path, made: str, param: str, bind: str, close: str = ""):  # type: ignore[no-untyped-def]
    root = tmp_path / "app"
    root.mkdir()
    source = textwrap.dedent(CACHED).format(made=made, param=param, bind=bind or "pass", close=close or "pass")
    (root / "main.py").write_text(source.lstrip(), encoding="utf-8")
    return root


@pytest.mark.parametrize(("param", "bind"), [
    ("", "db = shared()"),
    ("db: Session = Depends(shared)", ""),
])
def test_a_session_a_cached_function_hands_out_is_kept_async_and_serves_concurrent_requests(cli, tmp_path, param, bind):
    # `@lru_cache` keeps the first Session it returned: every request gets that one Session
    root = build_cached(tmp_path, "SessionLocal()", param, bind)
    before = (root / "main.py").read_text()
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    entry = next(h for h in document["handlers"] if h["function"] == "bump")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert "`@lru_cache` keeps and hands to every caller" in entry["reasons"][0], entry
    assert (root / "main.py").read_text() == before
    assert load(root) == {"ok": 64, "rows": 64}


def test_near_miss_a_cached_sessionmaker_gives_a_session_per_call_and_converts(cli, tmp_path):
    root = build_cached(tmp_path, "sessionmaker(engine)", "", "db = shared()()", "db.close()")
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    entry = next(h for h in document["handlers"] if h["function"] == "bump")
    assert entry["action"] == "convert", entry
    assert "\ndef bump(" in (root / "main.py").read_text()
    assert load(root) == {"ok": 64, "rows": 64}


KEPT_REPOSITORY = """
from functools import cached_property, lru_cache

from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./x.db", connect_args={{"check_same_thread": False, "timeout": 30}})
SessionLocal = sessionmaker(engine)


class Counter:
    def __init__(self, session: Session):
        self.session = session

    def bump(self):
        self.session.execute(text("insert into c values (1)"))
        self.session.commit()
        count = self.session.execute(text("select count(*) from c")).scalar_one()
        {close}
        return count


class Container:
    @{decorator}
    def counter(self) -> Counter:
        return Counter(SessionLocal())


container = Container()
{cached}

app = FastAPI()


@app.post("/counter")
async def bump():
    return {{"n": {reach}.bump()}}
"""


CACHED_COUNTER = """

@lru_cache
def cached_counter() -> Counter:
    return Counter(SessionLocal())
"""


def build_kept(tmp_path, decorator: str, reach: str, close: str = "pass"):  # type: ignore[no-untyped-def]
    root = tmp_path / "app"
    root.mkdir()
    cached = CACHED_COUNTER if reach.startswith("cached_counter") else ""
    source = textwrap.dedent(KEPT_REPOSITORY).format(decorator=decorator, reach=reach, close=close, cached=cached)
    (root / "main.py").write_text(source.lstrip(), encoding="utf-8")
    return root


@pytest.mark.parametrize(("decorator", "reach", "fragment"), [
    ("cached_property", "container.counter", "a `@cached_property` of the module-level `main.container`"),
    ("property", "cached_counter()", "whose `@lru_cache` hands it to every caller"),
])
def test_a_repository_a_container_or_cache_keeps_is_kept_async_and_serves_concurrent_requests(
    cli, tmp_path, decorator, reach, fragment
):
    # Built once with its own Session and kept: every request would use that one Session
    root = build_kept(tmp_path, decorator, reach)
    before = (root / "main.py").read_text()
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    entry = next(h for h in document["handlers"] if h["function"] == "bump")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert fragment in entry["reasons"][0], entry
    assert (root / "main.py").read_text() == before
    assert load(root) == {"ok": 64, "rows": 64}


def test_near_miss_a_plain_property_builds_a_repository_per_request_and_converts(cli, tmp_path):
    root = build_kept(tmp_path, "property", "container.counter", "self.session.close()")
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    entry = next(h for h in document["handlers"] if h["function"] == "bump")
    assert entry["action"] == "convert", entry
    assert "\ndef bump(" in (root / "main.py").read_text()
    assert load(root) == {"ok": 64, "rows": 64}


PROXY_DB = """
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./x.db", connect_args={{"check_same_thread": False, "timeout": 30}})
SessionLocal = sessionmaker(engine)
_shared = SessionLocal()
_session: ContextVar[Session | None] = ContextVar("_session", default=None)


def shared() -> Session:
    return _shared


class _Proxy:
    def __init__(self):
        self._kept = SessionLocal()

    @property
    def session(self) -> Session:
        {proxy}


db = _Proxy()


def current_session() -> Session:
    return db.session
"""
PROXY_MAIN = """
from fastapi import FastAPI
from sqlalchemy import text

import database
from database import _shared, current_session, engine, shared

app = FastAPI()


@app.middleware("http")
async def bind_session(request, call_next):
    session = {opened}
    token = database._session.set({stored})  # through the module, as fastapi-sqlalchemy's middleware
    try:
        return await call_next(request)
    finally:
        database._session.get().close()
        database._session.reset(token)


@app.post("/counter")
async def bump():
    {bind}
    {s}.execute(text("insert into c values (1)"))
    {s}.commit()
    return {{"n": {s}.execute(text("select count(*) from c")).scalar_one()}}
"""


def build_proxy(  # type: ignore[no-untyped-def]
    tmp_path, reach: str, proxy: str = "return self._kept", opened: str = "database.SessionLocal()",
    stored: str = "session",
):
    """`reach` is bound to a local name `s` first (`s = shared()`), or used as written when it
    is dotted (`database.db.session.execute(...)`)."""
    root = tmp_path / "app"
    root.mkdir()
    bind, s = ("pass", reach) if reach.startswith("database.") else (f"s = {reach}", "s")
    (root / "database.py").write_text(textwrap.dedent(PROXY_DB).format(proxy=proxy).lstrip(), encoding="utf-8")
    main = textwrap.dedent(PROXY_MAIN).format(bind=bind, s=s, opened=opened, stored=stored)
    (root / "main.py").write_text(main.lstrip(), encoding="utf-8")
    return root


@pytest.mark.parametrize(("reach", "proxy", "fragment"), [
    ("_shared", "return self._kept", "`_shared`, created once at import time"),
    ("shared()", "return self._kept", "`_shared`, created once at import time"),
    ("current_session()", "return self._kept", "which a property or method of the module-level `db`"),
    ("database._session.get()", "return _session.get()", "a context variable set to a process-wide Session at main.py:"),
])
def test_a_process_wide_session_behind_a_local_name_or_a_function_is_kept_async(
    cli, tmp_path, reach, proxy, fragment
):
    # `s = _shared`, `s = shared()` returning it, `current_session()` returning a proxy's kept
    # Session: each is the one Session, followed through the name and the function's return.
    # A context variable is the request's own only while nothing sets it to the one Session.
    opened = "database._shared" if "_session" in reach else "database.SessionLocal()"
    root = build_proxy(tmp_path, reach, proxy, opened)
    before = (root / "main.py").read_text()
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    entry = next(h for h in document["handlers"] if h["function"] == "bump")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert fragment in entry["reasons"][0], entry
    assert (root / "main.py").read_text() == before
    assert load(root) == {"ok": 64, "rows": 64}


@pytest.mark.parametrize(("reach", "proxy"), [
    ("database.db.session", "return _session.get()"),
    (
        "current_session()",
        "session = _session.get()\n        if session is None:\n            raise RuntimeError('no session')\n"
        "        return session",
    ),
])
def test_near_miss_a_proxy_handing_out_the_requests_context_variable_converts(cli, tmp_path, reach, proxy):
    # fastapi-sqlalchemy's `db.session`: a worker thread runs the `def` route in a copy of the
    # request's context, so it reads the Session the middleware set for that request
    root = build_proxy(tmp_path, reach, proxy)
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    entry = next(h for h in document["handlers"] if h["function"] == "bump")
    assert entry["action"] == "convert", entry
    assert "\ndef bump(" in (root / "main.py").read_text()
    assert load(root) == {"ok": 64, "rows": 64}


@pytest.mark.parametrize(("stored", "action"), [
    ("database.SessionLocal()", "convert"),  # a Session of its own for each request
    ("database.shared()", "keep"),  # the one `_shared` Session, for every request
])
def test_a_session_opened_right_in_the_context_variables_set_is_read(cli, tmp_path, stored, action):
    # `_session.set(SessionLocal())`, the Session made inside the call as the hand-written
    # equivalents of fastapi-sqlalchemy's middleware write it: the property reading it back hands
    # out the request's own Session, or the process's one when the call returns that
    root = build_proxy(tmp_path, "database.db.session", "return _session.get()", stored=stored)
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    entry = next(h for h in document["handlers"] if h["function"] == "bump")
    assert entry["action"] == action, entry
    if action == "keep":
        assert entry["codes"][0] == "AM126", entry
    assert load(root) == {"ok": 64, "rows": 64}
