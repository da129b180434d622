"""The request's Session read through an alias of a ContextVar's getter
(`get_session = db_session.get`, then `get_session().scalars(...)` in a repository), the
middleware setting the variable per request. check saw no Session work there (a clean route);
it is the Session `db_session.get()` holds, and phase one's `def` route RUNS with it.
The same Session handed inline to a helper (`repo.count_in(current_session())`) is Session work
too, where a route doing only that was "does no synchronous Session work" and no finding; and so
is a module-level proxy whose `__getattr__` forwards to it (`getattr(current_session(), name)`),
which was unverified (AM304) and kept async.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import ITEM_MODELS
from sample import run_python
from test_phase2_rules import dedent

DB = """
import os
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(engine)
db_session: ContextVar[Session] = ContextVar("db_session")
request_id: ContextVar[str] = ContextVar("request_id")

get_session = db_session.get
get_request_id = request_id.get
"""
REPO = """
from sqlalchemy import func, select

from db import db_session, get_request_id, get_session
from models import Item


def count() -> int:
    return get_session().scalar(select(func.count(Item.id)))


def add(name: str) -> None:
    session = get_session()
    session.add(Item(name=name))
    session.commit()


def tag() -> str:
    return get_request_id().upper()


def first(session=None):
    session = session or db_session.get()
    return session.scalar(select(Item.name).order_by(Item.id))
"""
MODELS = ITEM_MODELS
MAIN = """
from fastapi import FastAPI, Request

import repo
from db import SessionLocal, db_session, request_id

app = FastAPI()


@app.middleware("http")
async def unit_of_work(request: Request, call_next):
    session = SessionLocal()
    token = db_session.set(session)
    marker = request_id.set("req")
    try:
        return await call_next(request)
    finally:
        request_id.reset(marker)
        db_session.reset(token)
        session.close()


@app.post("/items")
async def create(name: str):
    repo.add(name)
    return {"ok": True}


@app.get("/items/count")
async def count():
    return {"n": repo.count()}


@app.get("/items/first")
async def first():
    return {"name": repo.first()}


@app.get("/tag")
async def tag():
    return {"tag": repo.tag()}
"""
SERVE = """
import json

from fastapi.testclient import TestClient

from db import engine
from main import app
from models import Base

Base.metadata.create_all(engine)
with TestClient(app) as client:
    created = client.post("/items", params={"name": "cup"}).status_code
    print(json.dumps([
        created, client.get("/items/count").json(), client.get("/tag").json(), client.get("/items/first").json(),
    ]))
"""


def serve(root: Path, script: str = SERVE) -> object:
    (root / "app.db").unlink(missing_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{root / 'app.db'}",
    }
    result = run_python(dedent(script), cwd=root, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_getter_alias_of_the_request_session_variable_is_session_work(cli, project):
    root = project({"db.py": DB, "repo.py": REPO, "models.py": MODELS, "main.py": MAIN})
    expected = [200, {"n": 1}, {"tag": "REQ"}, {"name": "cup"}]
    assert serve(root) == expected
    findings = {f["function"]: f for f in cli.json("check", root)["findings"]}
    # `session = session or db_session.get()`: the name holds either operand
    for name, helper in (("create", "repo.add"), ("count", "repo.count"), ("first", "repo.first")):
        assert findings[name]["code"] == "AM301", findings[name]
        assert f"{helper}(...)" in findings[name]["message"], findings[name]
    # near miss: the alias of a variable holding a string is no Session
    assert "tag" not in findings, findings["tag"]
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    after = {h["function"]: h["after"] for h in document["handlers"]}
    assert (after["create"], after["count"], after["first"], after["tag"]) == ("def", "def", "def", "async"), after
    assert serve(root) == expected


HANDED = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import db_session
from models import Item


def current_session() -> Session:
    return db_session.get()


def count_in(session: Session) -> int:
    return session.scalar(select(func.count(Item.id)))


def add_in(session, name: str) -> None:
    session.add(Item(name=name))
    session.commit()


def shout(text: str) -> str:
    return text.upper()
"""
HANDED_MAIN = """
from fastapi import FastAPI, Request

import handed
from db import SessionLocal, db_session, get_request_id, get_session, request_id

app = FastAPI()


@app.middleware("http")
async def unit_of_work(request: Request, call_next):
    session = SessionLocal()
    token = db_session.set(session)
    marker = request_id.set("req")
    try:
        return await call_next(request)
    finally:
        request_id.reset(marker)
        db_session.reset(token)
        session.close()


@app.post("/items")
async def create(name: str):
    handed.add_in(db_session.get(), name)
    return {"ok": True}


@app.get("/items/count")
async def count():
    return {"n": handed.count_in(handed.current_session())}


@app.get("/items/total")
async def total():
    return {"n": handed.count_in(session=get_session())}


@app.get("/tag")
async def tag():
    return {"tag": handed.shout(get_request_id())}
"""
HANDED_SERVE = """
import json

from fastapi.testclient import TestClient

from db import engine
from main import app
from models import Base

Base.metadata.create_all(engine)
with TestClient(app) as client:
    created = client.post("/items", params={"name": "cup"}).status_code
    print(json.dumps([
        created, client.get("/items/count").json(), client.get("/items/total").json(), client.get("/tag").json(),
    ]))
"""


def test_the_request_session_handed_inline_to_a_helper_is_session_work(cli, project):
    root = project({"db.py": DB, "handed.py": HANDED, "models.py": MODELS, "main.py": HANDED_MAIN})
    expected = [200, {"n": 1}, {"n": 1}, {"tag": "REQ"}]
    assert serve(root, HANDED_SERVE) == expected
    findings = {f["function"]: f for f in cli.json("check", root)["findings"]}
    for name, helper in (("create", "add_in("), ("count", "count_in("), ("total", "count_in(")):
        assert findings[name]["code"] == "AM301", findings[name]
        assert helper in findings[name]["message"], findings[name]
    # near miss: what a variable holding a string gives is no Session
    assert "tag" not in findings, findings["tag"]
    # phase two replaces only a dependency's Session: a route handing the variable's on stays
    plan = {h["function"]: h for h in cli.json("phase2", root, "--subsystem", "main.py")["handlers"]}
    for name in ("create", "count", "total"):
        assert plan[name]["action"] == "blocked", plan[name]
        assert "the context variable `db_session` holds for each request" in plan[name]["reasons"][0], plan[name]
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    after = {h["function"]: h["after"] for h in document["handlers"]}
    assert (after["create"], after["count"], after["total"], after["tag"]) == ("def", "def", "def", "async"), after
    assert serve(root, HANDED_SERVE) == expected


PROXY = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import SessionLocal, db_session
from models import Item


def current_session() -> Session:
    return db_session.get()


class SessionProxy:
    def __getattr__(self, name):
        return getattr(current_session(), name)


class SharedProxy:
    def __getattr__(self, name):
        return getattr(_shared, name)


db = SessionProxy()
_shared = SessionLocal()
shared = SharedProxy()


def add(name: str) -> None:
    db.add(Item(name=name))
    db.commit()


def shared_count() -> int:
    return shared.scalar(select(func.count(Item.id)))
"""
PROXY_MAIN = HANDED_MAIN.replace("import handed\n", "import handed\nimport proxy\n").split("@app.post")[0] + """
@app.post("/items")
async def create(name: str):
    proxy.add(name)
    return {"ok": True}


@app.get("/items/count")
async def count():
    return {"n": proxy.db.scalar(select(func.count(Item.id)))}


@app.get("/items/total")
async def total():
    return {"n": proxy.shared_count()}


@app.get("/tag")
async def tag():
    return {"tag": get_request_id().upper()}
"""


def test_a_proxy_forwarding_to_the_request_session_is_session_work(cli, project):
    main = "from sqlalchemy import func, select\n\nfrom models import Item\n" + PROXY_MAIN
    root = project({"db.py": DB, "handed.py": HANDED, "proxy.py": PROXY, "models.py": MODELS, "main.py": main})
    expected = [200, {"n": 1}, {"n": 1}, {"tag": "REQ"}]
    assert serve(root, HANDED_SERVE) == expected
    findings = {f["function"]: f for f in cli.json("check", root)["findings"]}
    for name, work in (("create", "proxy.add("), ("count", "db.scalar(")):
        assert findings[name]["code"] == "AM301", findings[name]
        assert work in findings[name]["message"], findings[name]
    plan = {h["function"]: h for h in cli.json("phase2", root, "--subsystem", "main.py")["handlers"]}
    for name in ("create", "count"):
        assert plan[name]["action"] == "blocked", plan[name]
        assert "the context variable `db_session` holds for each request" in plan[name]["reasons"][0], plan[name]
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    entries = {h["function"]: h for h in document["handlers"]}
    # near miss: a proxy forwarding to one Session the process shares stays async (AM126)
    assert entries["total"]["codes"][0] == "AM126", entries["total"]
    after = {name: entry["after"] for name, entry in entries.items()}
    assert (after["create"], after["count"], after["total"], after["tag"]) == ("def", "def", "async", "async"), after
    assert serve(root, HANDED_SERVE) == expected


# werkzeug's `LocalProxy` over the variable (or a function reading it): each use reads the
# request's Session, as the `__getattr__` proxy above does. It was "does no synchronous Session
# work" (check: no finding) though every route using it blocked the loop.
WERKZEUG_PROXIES = """
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.local import LocalProxy

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(engine)
session_ctx: ContextVar[Session] = ContextVar("session_ctx")
made_ctx: ContextVar[Session] = ContextVar("made_ctx", default=SessionLocal())


def current() -> Session:
    return session_ctx.get()


def made() -> Session:
    return made_ctx.get()


db = LocalProxy(session_ctx)
ldb = LocalProxy(lambda: session_ctx.get())
fdb = LocalProxy(current)
"""
WERKZEUG_MAIN = """
from fastapi import FastAPI, Request
from sqlalchemy import text

from proxies import SessionLocal, db, fdb, ldb, made, session_ctx

app = FastAPI()


@app.middleware("http")
async def unit_of_work(request: Request, call_next):
    session = {opened}
    token = session_ctx.set(session)
    try:
        return await call_next(request)
    finally:
        session_ctx.reset(token)


@app.get("/db")
async def on_db():
    return db.execute(text("select 1")).scalar()


@app.get("/ldb")
async def on_ldb():
    return ldb.execute(text("select 1")).scalar()


@app.get("/fdb")
async def on_fdb():
    return fdb.execute(text("select 1")).scalar()


@app.get("/current")
async def on_current():
    from proxies import current

    return current().execute(text("select 1")).scalar()


@app.get("/made")
async def on_made():
    return made().execute(text("select 1")).scalar()
"""


def _handlers(cli, project, opened: str) -> dict[str, dict]:
    root = project({"proxies.py": WERKZEUG_PROXIES, "main.py": WERKZEUG_MAIN.replace("{opened}", opened)})
    return {h["function"]: h for h in cli.json("scan", root)["handlers"]}


def test_a_local_proxy_of_the_request_session_variable_converts(cli, project):
    handlers = _handlers(cli, project, "SessionLocal()")
    for name in ("on_db", "on_ldb", "on_fdb", "on_current"):
        assert handlers[name]["action"] == "convert" and "AM126" not in handlers[name]["codes"], handlers[name]
    # near miss: a default made once at import is one Session every context that sets nothing reads
    assert (handlers["on_made"]["action"], handlers["on_made"]["codes"][0]) == ("keep", "AM126"), handlers["on_made"]


def test_a_local_proxy_of_a_variable_set_to_what_the_analysis_cannot_read_is_unverified(cli, project):
    handlers = _handlers(cli, project, "request.app.state.maker()")
    for name in ("on_db", "on_ldb"):
        assert (handlers[name]["action"], handlers[name]["codes"]) == ("keep", ["AM125"]), handlers[name]
        assert "the context variable `session_ctx` holds, declared a synchronous Session" in handlers[name]["reasons"][0]
    # read through a function declared `-> Session`: typed by that declaration, and held per
    # context (never "created once at import time")
    for name in ("on_fdb", "on_current"):
        assert handlers[name]["action"] == "convert" and "AM126" not in handlers[name]["codes"], handlers[name]
