"""Phase two with a configured async engine factory (`async-engine-factory` in pyproject.toml).

The factory is defined below the sessionmaker, at the bottom of the module, or reads a global
defined after it: the generated `async_engine = make_async_engine()` must run after both, or
importing the application raises NameError. Each shape is migrated with `phase2 --apply` and
then RUN: a request goes through the generated async stack on SQLite (aiosqlite), and the row
is read back through a synchronous Session.

The application then runs on SQLAlchemy's asyncio extension, whose greenlet SQLAlchemy 2.1 no
longer installs: the follow-ups name `sqlalchemy[asyncio]` unless the project declares it.
"""

from __future__ import annotations

import pytest
from sample import run_json
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import ENGINE, SUBSYSTEM, routes, serve

service = __import__("test_phase2_soundness").service

CREATE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
"""
FACTORY = """

def make_async_engine():
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine(ASYNC_URL)
"""
# name -> the stack module: the factory (and the URL it reads) after the sessionmaker
SHAPES = {
    "factory at the bottom": ENGINE.replace(
        "\nengine = create_engine", '\nASYNC_URL = os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://", 1)'
        "\nengine = create_engine",
    ) + FACTORY,
    "the URL it reads defined after it": ENGINE + FACTORY
    + '\n\nASYNC_URL = os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://", 1)\n',
}
PYPROJECT = '[project]\nname = "x"\n\n[tool.async-migrate]\nasync-engine-factory = "db.engine.make_async_engine"\n'
WRITE = """
status = client.post("/items", params={"name": "pen"}).status_code
with Sync() as s:
    items = list(s.scalars(select(Item.name)).all())
print(json.dumps({"status": status, "items": items}))
"""


@pytest.fixture
def factory_app(service):  # type: ignore[no-untyped-def]
    def build(stack: str):  # type: ignore[no-untyped-def]
        root = service({"db/engine.py": stack, SUBSYSTEM: routes(CREATE)})
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        return root

    return build


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_stack_goes_below_a_factory_defined_further_down_and_the_route_writes(cli, factory_app, shape):
    root = factory_app(SHAPES[shape])
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", document
    stack = read(root, "db/engine.py")
    assert "async_engine = make_async_engine()" in stack, stack
    assert stack.index("def make_async_engine") < stack.index("async_engine = make_async_engine()"), stack
    assert stack.index("ASYNC_URL =") < stack.index("async_engine = make_async_engine()"), stack
    result = serve(root, "sqlite", WRITE)
    assert result == {"status": 200, "items": ["pen"]}, result


# ------------------------------------------------- one subsystem after another

# The sessionmaker is bound at start-up, by an init function the lifespan calls: the async engine
# can only come from the configured factory.
INIT_STACK = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

database_sessionmaker = sessionmaker(autoflush=False, expire_on_commit=False)
engine: Engine | None = None


def init_engine() -> Engine:
    global engine
    engine = create_engine(os.environ["DATABASE_URL"])
    database_sessionmaker.configure(bind=engine)
    return engine


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
OWN_FACTORY = """
import os

from sqlalchemy.ext.asyncio import create_async_engine


def make_async_engine():
    return create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://", 1))
"""
# name -> (files, the configured factory)
PLACES = {
    "in its own module": ({"db/engine.py": INIT_STACK, "db/async_engine.py": OWN_FACTORY}, "db.async_engine.make_async_engine"),
    "at the bottom of the stack module": (
        {"db/engine.py": INIT_STACK + "\n" + OWN_FACTORY.replace("import os\n", "").replace(
            "from sqlalchemy.ext.asyncio import create_async_engine\n", ""
        ).replace("    return create_async_engine(", "    from sqlalchemy.ext.asyncio import create_async_engine\n\n"
                  "    return create_async_engine(")},
        "db.engine.make_async_engine",
    ),
}
OWNERS = """
@router.post("/owners/items")
def add_owner_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
"""
TWO_ROUTERS = """
from fastapi import FastAPI

from api.items import router
from api.owners import router as owners

app = FastAPI()
app.include_router(router)
app.include_router(owners)
"""
BOTH = """
import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import db.engine as stack
from main import app
from models import Base, Item, User

engine = stack.init_engine()
Base.metadata.create_all(engine)
with Session(engine) as s:
    s.add(User(id=1, name="Ann"))
    s.commit()
with TestClient(app) as client:
    statuses = [
        client.post("/items", params={"name": "pen"}).status_code,
        client.post("/owners/items", params={"name": "cup"}).status_code,
    ]
    if hasattr(stack, "async_engine"):
        client.portal.call(stack.async_engine.dispose)
with Session(engine) as s:
    names = sorted(s.scalars(select(Item.name)).all())
engine.dispose()
print(json.dumps({"statuses": statuses, "names": names}))
"""


def run_both(root) -> object:  # type: ignore[no-untyped-def]
    import os

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PYTHONPATH": str(root),
        "DATABASE_URL": f"sqlite:///{root / 'app.db'}",
    }
    return run_json(BOTH, cwd=root, env=env, timeout=180)


@pytest.fixture
def two_subsystems(service):  # type: ignore[no-untyped-def]
    def build(place: str):  # type: ignore[no-untyped-def]
        files, factory = PLACES[place]
        root = service({
            **files, SUBSYSTEM: routes(CREATE), "api/owners.py": routes(OWNERS), "main.py": TWO_ROUTERS,
        })
        (root / "pyproject.toml").write_text(PYPROJECT.replace("db.engine.make_async_engine", factory), encoding="utf-8")
        return root

    return build


@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_second_subsystem_reuses_the_stack_the_first_run_built_from_the_factory(cli, two_subsystems, place):
    root = two_subsystems(place)
    assert run_both(root) == {"statuses": [200, 200], "names": ["cup", "pen"]}
    (root / "app.db").unlink()
    first = apply(cli, root)
    assert handler(first, "create_item")["action"] == "migrate", first
    assert read(root, "db/engine.py").count("async_engine = make_async_engine()") == 1
    after_first = {p: read(root, p) for p in ("db/engine.py", "core/dependencies.py")}
    second = apply(cli, root, subsystem="api/owners.py")
    found = handler(second, "add_owner_item")
    assert found["action"] == "migrate", (found, second["subsystem"]["blockers"])
    # the first run's stack is reused as it is: no second engine, sessionmaker or dependency
    assert {p: read(root, p) for p in after_first} == after_first
    assert "async_session_dependency" in read(root, "api/owners.py")
    assert "await db.commit()" in read(root, "api/owners.py")
    assert run_both(root) == {"statuses": [200, 200], "names": ["cup", "pen"]}


INLINE_ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

database_sessionmaker = sessionmaker(bind=create_engine(os.environ["DATABASE_URL"]), expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""


def test_near_miss_without_the_factory_configured_the_block_names_the_unknown_engine_in_words(cli, service):
    # The sessionmaker's engine is built inline: no module-level name tells which it is.
    root = service({
        "db/engine.py": INLINE_ENGINE, "db/async_engine.py": OWN_FACTORY,
        SUBSYSTEM: routes(CREATE), "api/owners.py": routes(OWNERS), "main.py": TWO_ROUTERS,
    })
    (root / "pyproject.toml").write_text(
        PYPROJECT.replace("db.engine.make_async_engine", "db.async_engine.make_async_engine"), encoding="utf-8"
    )
    assert handler(apply(cli, root), "create_item")["action"] == "migrate"
    # the configuration no longer says the existing async engine is the project's
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    document = cli.json("phase2", root, "--subsystem", "api/owners.py")
    found = handler(document, "add_owner_item")
    assert found["action"] == "blocked", found
    message = " ".join(found["reasons"])
    assert "AM243" in found["codes"], message
    assert "`?`" not in message and " ? " not in message, message
    # the line the sessionmaker stands on in the module as the first run left it
    line = read(root, "db/engine.py").splitlines().index(
        'database_sessionmaker = sessionmaker(bind=create_engine(os.environ["DATABASE_URL"]), expire_on_commit=False)'
    ) + 1
    assert (
        f"while the routes' synchronous stack uses the engine of the sessionmaker at db/engine.py:{line}, which is "
        "not bound to a module-level engine phase two can follow; phase two cannot tell which database that engine uses"
    ) in message, message
    assert document["files_changed"] == []


# ------------------------------------------------- the packages it needs to run

GREENLET = "add `sqlalchemy[asyncio]` to the dependencies (or `greenlet`)"


def test_the_follow_ups_name_sqlalchemy_asyncio_once_routes_move_and_when_the_stack_exists(cli, factory_app):
    root = factory_app(SHAPES["factory at the bottom"])
    document = apply(cli, root)
    assert any(f.startswith(GREENLET) for f in document["subsystem"]["follow_ups"]), document["subsystem"]
    # a rerun moves nothing more, but the application still runs on the asyncio extension
    again = cli.json("phase2", root, "--subsystem", SUBSYSTEM)
    assert any(f.startswith(GREENLET) for f in again["subsystem"]["follow_ups"]), again["subsystem"]


@pytest.mark.parametrize(
    "declared",
    ['dependencies = ["SQLAlchemy[asyncio]>=2.0"]', 'dependencies = ["sqlalchemy[aiosqlite]"]',
     'dependencies = ["greenlet"]'],
)
def test_near_miss_a_project_declaring_greenlet_gets_no_such_follow_up(cli, factory_app, declared):
    root = factory_app(SHAPES["factory at the bottom"])
    (root / "pyproject.toml").write_text(PYPROJECT.replace('name = "x"\n', f'name = "x"\n{declared}\n'), encoding="utf-8")
    document = cli.json("phase2", root, "--subsystem", SUBSYSTEM)
    assert handler(document, "create_item")["action"] == "migrate"
    assert not any(f.startswith(GREENLET) for f in document["subsystem"]["follow_ups"]), document["subsystem"]
