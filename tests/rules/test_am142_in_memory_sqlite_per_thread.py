"""AM142 in-memory-sqlite-per-thread: an `async def` handler whose Session is on an in-memory
SQLite database without StaticPool stays `async def`: SQLAlchemy's SingletonThreadPool gives each
thread its own connection, and so its own database, and as `def` the handler would run in a
worker thread of the threadpool and see an empty one. The premise test runs the service both
ways; StaticPool, a database file and a URL the analysis cannot read convert as before."""

from __future__ import annotations

import pytest
from sample import run_python

APP = '''
{imports}
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

{engine}
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


@asynccontextmanager
async def lifespan(app):
    Base.metadata.create_all(engine)
    yield


app = FastAPI(lifespan=lifespan)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.post("/items/{{name}}")
async def add(name: str, db: Session = Depends(get_db)):
    db.add(Item(name=name))
    db.commit()
    return {{"ok": True}}


@app.get("/items")
async def items(db: Session = Depends(get_db)):
    return [i.name for i in db.scalars(select(Item))]
'''
MEMORY = 'engine = create_engine("sqlite://", connect_args={"check_same_thread": False})'
STATIC = 'engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)'


def _app(engine: str = MEMORY, imports: str = "") -> str:
    return APP.format(engine=engine, imports=imports)


@pytest.mark.parametrize("engine, imports, url", [
    (MEMORY, "", '"sqlite://"'),
    ('engine = create_engine("sqlite:///:memory:")', "", '"sqlite:///:memory:"'),
    ('DATABASE_URL = "sqlite://"\nengine = create_engine(DATABASE_URL)', "", 'DATABASE_URL = "sqlite://"'),
    ('engine = create_engine(URL.create("sqlite"))', "from sqlalchemy import URL", 'URL.create("sqlite")'),
    ('engine = create_engine(make_url("sqlite://"))', "from sqlalchemy import make_url", 'make_url("sqlite://")'),
    ('engine = create_engine("sqlite://", poolclass=SingletonThreadPool)', "from sqlalchemy.pool import SingletonThreadPool",
     '"sqlite://"'),
])
def test_a_route_on_an_in_memory_sqlite_engine_without_static_pool_keeps_with_am142(project, reported, engine, imports, url):
    entry = reported(project({"app.py": _app(engine, imports)}), "items", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM142"), entry
    assert entry["reasons"][0].startswith("its Session comes from `SessionLocal` (app.py:"), entry
    assert f"an in-memory SQLite database ({url}) without poolclass=StaticPool" in entry["reasons"][0], entry


@pytest.mark.parametrize("shape", ["inline", "configure", "session"])
def test_the_engine_reached_in_place_by_configure_or_by_a_session_opened_on_it_keeps_too(project, reported, shape):
    source = _app()
    if shape == "inline":
        source = source.replace(f"{MEMORY}\nSessionLocal = sessionmaker(bind=engine)", (
            'SessionLocal = sessionmaker(bind=create_engine("sqlite://", connect_args={"check_same_thread": False}))\n'
            'engine = SessionLocal.kw["bind"]'
        ))
    elif shape == "configure":
        source = source.replace("SessionLocal = sessionmaker(bind=engine)", "SessionLocal = sessionmaker()\nSessionLocal.configure(bind=engine)")
    else:
        source = source.replace("    db = SessionLocal()", "    db = Session(engine)")
    entry = reported(project({"app.py": source}), "items", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM142"), entry


@pytest.mark.parametrize("engine, imports", [
    (STATIC, "from sqlalchemy.pool import StaticPool"),  # one connection every thread shares
    ('engine = create_engine("sqlite:///./app.db")', ""),  # a database file
    ('engine = create_engine(os.environ.get("DATABASE_URL", "sqlite://"))', "import os"),  # not read: as before
    ('engine = create_engine(URL.create("sqlite", database="app.db"))', "from sqlalchemy import URL"),
    ('engine = create_engine("sqlite://", poolclass=NullPool)', "from sqlalchemy.pool import NullPool"),
    ('engine = create_engine("sqlite://", **OPTIONS)', "OPTIONS = {}"),  # a pool it cannot read
    ('DATABASE_URL = "sqlite://"\nif OTHER:\n    DATABASE_URL = "sqlite:///./app.db"\nengine = create_engine(DATABASE_URL)',
     "OTHER = True"),
])
def test_near_miss_static_pool_a_file_or_a_url_not_read_converts(project, reported, engine, imports):
    assert reported(project({"app.py": _app(engine, imports)}), "items", "phase1")["action"] == "convert"


def test_check_asks_for_static_pool_not_an_offload(project, findings):
    (finding,) = findings(project({"app.py": _app()}), "items")
    message = finding["message"]
    assert "phase one keeps it async (its Session comes from `SessionLocal`" in message, finding
    assert "create it with `poolclass=StaticPool`" in message, finding
    assert "phase1` converts it" not in message and "run_in_threadpool" not in message, finding


def test_offload_mixed_leaves_the_session_work_on_the_loop(project, cli):
    source = _app().replace(
        "    return [i.name for i in db.scalars(select(Item))]",
        "    await asyncio.sleep(0)\n    return names(db)",
    ).replace("\n@app.get(\"/items\")", "\ndef names(db):\n    return [i.name for i in db.scalars(select(Item))]\n\n\n@app.get(\"/items\")")
    root = project({"app.py": "import asyncio\n" + source})
    cli.json("phase1", root, "--offload-mixed", "--apply")
    assert "    return names(db)\n" in (root / "app.py").read_text()


def test_before_and_after_phase_one_only_the_static_pool_service_converts(project, cli):
    kept = project({"app.py": _app()})
    before = (kept / "app.py").read_text()
    cli.json("phase1", kept, "--apply")
    assert (kept / "app.py").read_text() == before
    root = project({"app.py": _app(STATIC, "from sqlalchemy.pool import StaticPool")})
    static = (root / "app.py").read_text()
    cli.json("phase1", root, "--apply")
    assert (root / "app.py").read_text() == static.replace("async def add", "def add").replace("async def items", "def items")

SCRIPT = (
    "import sys, importlib; from fastapi.testclient import TestClient\n"
    "app = importlib.import_module(sys.argv[1]).app\n"
    "with TestClient(app, raise_server_exceptions=False) as c:\n"
    "    posted = [c.post(f'/items/a{i}').status_code for i in range(3)]\n"
    "    r = c.get('/items')\n"
    "    print(posted, r.status_code, r.text)\n"
)


def _served(root, name: str) -> str:  # type: ignore[no-untyped-def]
    run = run_python(SCRIPT, cwd=root, timeout=120, args=(name,))
    return run.stdout.strip() or run.stderr[-2000:]


def test_the_premise_as_def_each_worker_thread_sees_an_empty_database_and_phase_one_keeps_the_service_working(project, cli):
    source = _app()
    as_def = source.replace("async def add", "def add").replace("async def items", "def items")
    root = project({"app.py": source, "app_def.py": as_def})
    assert _served(root, "app") == '[200, 200, 200] 200 ["a0","a1","a2"]'
    assert _served(root, "app_def").startswith("[500, 500, 500] 500")  # "no such table: items"
    cli.json("phase1", root, "--apply", "--only", "app.py")
    assert _served(root, "app") == '[200, 200, 200] 200 ["a0","a1","a2"]'


def test_the_premise_with_static_pool_the_converted_service_still_works(project, cli):
    root = project({"app.py": _app(STATIC, "from sqlalchemy.pool import StaticPool")})
    cli.json("phase1", root, "--apply")
    assert "\ndef items(" in (root / "app.py").read_text()
    assert _served(root, "app") == '[200, 200, 200] 200 ["a0","a1","a2"]'



# The engine a project class builds from the URL its constructor is handed (a Flask-SQLAlchemy-like
# wrapper): `Database("sqlite://")` is as much an in-memory engine as `create_engine("sqlite://")`.
DATABASE = '''
class Database:
    def __init__(self, url{default}):
        self.engine = create_engine(url, connect_args={{"check_same_thread": False}}{pool})
        self.SessionLocal = sessionmaker(bind=self.engine)


db = Database({given})
engine = db.engine'''


def _constructed(given: str = '"sqlite://"', default: str = "", pool: str = "", maker: str = "SessionLocal = db.SessionLocal") -> str:
    engine = DATABASE.format(given=given, default=default, pool=pool)
    return _app(engine).replace("SessionLocal = sessionmaker(bind=engine)", maker)


@pytest.mark.parametrize("source, url", [
    (_constructed(), '"sqlite://"'),
    (_constructed('url="sqlite:///:memory:"'), '"sqlite:///:memory:"'),
    (_constructed("", default=' = "sqlite://"'), "'sqlite://'"),
    (_constructed("MEMORY").replace("class Database:", 'MEMORY = "sqlite://"\n\n\nclass Database:'), 'MEMORY = "sqlite://"'),
    (_constructed(maker="SessionLocal = sessionmaker(bind=db.engine)"), '"sqlite://"'),
    (_constructed(maker="").replace("    db = SessionLocal()", "    db = Session(engine)"), '"sqlite://"'),
    (_constructed().replace(
        "        self.engine = create_engine(url, connect_args={\"check_same_thread\": False})\n"
        "        self.SessionLocal = sessionmaker(bind=self.engine)",
        "        self.SessionLocal = sessionmaker(bind=create_engine(url))",
    ).replace("engine = db.engine", 'engine = db.SessionLocal.kw["bind"]'), '"sqlite://"'),
], ids=["positional", "keyword", "default", "module-level-url", "module-level-maker", "session-on-engine", "bound-in-place"])
def test_an_in_memory_url_handed_to_a_project_class_building_the_engine_keeps_with_am142(project, reported, source, url):
    entry = reported(project({"app.py": source}), "items", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM142"), entry
    assert f"an in-memory SQLite database ({url}, handed to `Database(...)` as `url`)" in entry["reasons"][0], entry


@pytest.mark.parametrize("source, imports", [
    (_constructed('"sqlite:///./app.db"'), ""),  # a database file
    (_constructed('os.environ.get("DATABASE_URL", "sqlite://")'), "import os"),  # a URL it cannot read: as before
    (_constructed(pool=", poolclass=StaticPool"), "from sqlalchemy.pool import StaticPool"),
    (_constructed(pool=", poolclass=pool", default=", pool=None"), ""),  # a pool it cannot read
    (_constructed().replace("    def __init__(self, url):\n", "    def __init__(self, url):\n        url = url + 'app.db'\n"), ""),
    (_constructed("*ARGS").replace("class Database:", 'ARGS = ["sqlite://"]\n\n\nclass Database:'), ""),
    # the in-memory instance is not the one the routes' Sessions come from
    (_constructed('"sqlite:///./app.db"').replace('engine = db.engine', 'engine = db.engine\ncache = Database("sqlite://")'), ""),
], ids=["file", "environment", "static-pool", "unread-pool", "rebound", "unpacked", "other-instance"])
def test_near_miss_a_constructor_handed_a_file_an_unread_url_or_static_pool_converts(project, reported, source, imports):
    assert reported(project({"app.py": imports + "\n" + source}), "items", "phase1")["action"] == "convert"


def test_the_premise_through_a_constructor_as_def_the_worker_threads_see_an_empty_database(project, cli):
    source = _constructed()
    as_def = source.replace("async def add", "def add").replace("async def items", "def items")
    root = project({"app.py": source, "app_def.py": as_def})
    assert _served(root, "app") == '[200, 200, 200] 200 ["a0","a1","a2"]'
    assert _served(root, "app_def").startswith("[500, 500, 500] 500")  # "no such table: items"
    cli.json("phase1", root, "--apply", "--only", "app.py")
    assert _served(root, "app") == '[200, 200, 200] 200 ["a0","a1","a2"]'
