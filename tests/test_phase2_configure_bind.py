"""Phase two on a sessionmaker given its engine later: `SessionLocal.configure(bind=engine)`.

Each shape (the configure call at module level, in another module, in an init_db() the
application's lifespan calls; on the sessionmaker or on a scoped_session around it) is migrated
with `phase2 --apply`, then RUN: a request goes through the generated async stack on SQLite,
and the row is read back through a synchronous Session on the engine. Where the bind cannot
be told (two engines, a local one, an import cycle), the run is blocked and nothing changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sample import run_json
from test_phase2_rules import apply, dedent, handler, read, run
from test_phase2_soundness import DEPENDENCIES, MODELS, SUBSYSTEM

HEAD = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker
"""
DEPENDENCY = """


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
ROUTES = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from models import Item

router = APIRouter()


@router.post("/items")
async def create(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""
MAIN = """
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)
"""
LIFESPAN_MAIN = """
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.items import router
from db.engine import init_db


@asynccontextmanager
async def lifespan(app):
    init_db()
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(router)
"""
BASE = """
import os

from sqlalchemy import create_engine

engine = create_engine(os.environ["DATABASE_URL"])
"""
URL = 'os.environ["DATABASE_URL"]'

# name -> the application's files besides the routes, models and dependencies
SHAPES: dict[str, dict[str, str]] = {
    # the engine is defined after the sessionmaker, and bound by keyword at module level
    "module level": {
        "db/engine.py": HEAD + f"""
database_sessionmaker = sessionmaker(autocommit=False, autoflush=False, expire_on_commit=False)
engine = create_engine({URL})
database_sessionmaker.configure(bind=engine)
""" + DEPENDENCY,
    },
    # the engine is imported from another module
    "imported engine": {
        "db/base.py": BASE,
        "db/engine.py": HEAD + """
from db.base import engine

database_sessionmaker = sessionmaker()
database_sessionmaker.configure(bind=engine, expire_on_commit=False)
""" + DEPENDENCY,
    },
    # bound at startup, inside a function the lifespan calls
    "init_db": {
        "db/engine.py": HEAD + f"""
database_sessionmaker = sessionmaker(autoflush=False)
engine = create_engine({URL})


def init_db() -> None:
    database_sessionmaker.configure(bind=engine)
""" + DEPENDENCY,
        "main.py": LIFESPAN_MAIN,
    },
    # bound by the application's module, the engine living in a third one
    "configured elsewhere": {
        "db/base.py": BASE,
        "db/engine.py": HEAD + "\ndatabase_sessionmaker = sessionmaker()\n" + DEPENDENCY,
        "main.py": MAIN + "\nfrom db.base import engine  # noqa: E402\nfrom db.engine import database_sessionmaker  # noqa: E402\n\n"
        "database_sessionmaker.configure(bind=engine)\n",
    },
    # bound in the lifespan, which imports both inside (against an import cycle)
    "lifespan imports": {
        "db/base.py": BASE,
        "db/engine.py": HEAD + "\ndatabase_sessionmaker = sessionmaker()\n" + DEPENDENCY,
        "main.py": LIFESPAN_MAIN.replace("from db.engine import init_db\n", "").replace(
            "    init_db()\n",
            "    from db.base import engine as bound_engine\n    from db.engine import database_sessionmaker\n\n"
            "    database_sessionmaker.configure(bind=bound_engine)\n",
        ),
    },
    # scoped_session(sessionmaker()) configured through the scoped_session
    "scoped_session inline": {
        "db/engine.py": HEAD + f"""
engine = create_engine({URL})
database_sessionmaker = scoped_session(sessionmaker(autoflush=False))
database_sessionmaker.configure(bind=engine)


def get_db_session() -> Iterator[Session]:
    db = database_sessionmaker()
    try:
        yield db
    finally:
        database_sessionmaker.remove()
""",
    },
    # a named sessionmaker, configured through the scoped_session around it
    "scoped_session of a sessionmaker": {
        "db/engine.py": HEAD + f"""
engine = create_engine({URL})
database_sessionmaker = sessionmaker()
ScopedSession = scoped_session(database_sessionmaker)
ScopedSession.configure(bind=engine)
""" + DEPENDENCY,
    },
}


def build(project, shape: dict[str, str]) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "db/__init__.py": "",
        "core/__init__.py": "",
        "core/dependencies.py": DEPENDENCIES,
        "api/__init__.py": "",
        "api/items.py": ROUTES,
        "models.py": MODELS,
        "main.py": MAIN,
        **{path: dedent(text) for path, text in shape.items()},
    })


def serve(root: Path, script: str) -> object:
    """Run `script` with `client` (a TestClient of main.app, entered: the lifespan ran) and
    `engine` (the synchronous engine) in scope, on a fresh SQLite database; it prints JSON last."""
    prelude = dedent(
        """
        import json

        from fastapi.testclient import TestClient
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        import db.engine as stack
        from main import app
        from models import Base, Item, User

        try:
            from db.base import engine
        except ImportError:
            engine = stack.engine
        Base.metadata.create_all(engine)
        with Session(engine) as s:
            s.add(User(id=1, name="Ann"))
            s.commit()
        client = TestClient(app)
        client.__enter__()
        """
    )
    postlude = dedent(
        """
        if hasattr(stack, "async_engine"):
            client.portal.call(stack.async_engine.dispose)
        client.__exit__(None, None, None)
        engine.dispose()
        """
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PYTHONPATH": str(root),
        "DATABASE_URL": f"sqlite:///{root / 'app.db'}",
    }
    return run_json(f"{prelude}\n{dedent(script)}\n{postlude}", cwd=root, env=env, timeout=180)


WRITE = """
response = client.post("/items", params={"name": "cup"})
with Session(engine) as s:
    names = s.scalars(select(Item.name)).all()
print(json.dumps({"status": response.status_code, "body": response.json(), "names": names}))
"""


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_sessionmaker_bound_by_configure_gets_an_async_stack_that_writes(cli, project, shape):
    root = build(project, SHAPES[shape])
    before = serve(root, WRITE)
    assert before == {"status": 200, "body": {"ok": True}, "names": ["cup"]}, before
    (root / "app.db").unlink()
    document = apply(cli, root)
    found = handler(document, "create")
    assert found["action"] == "migrate", found
    engine_module = read(root, "db/engine.py")
    assert "async_engine = create_async_engine(_async_url(engine.url))" in engine_module, engine_module
    assert "await db.commit()" in read(root, SUBSYSTEM)
    assert "async_session_dependency" in read(root, SUBSYSTEM)
    result = serve(root, WRITE)
    assert result == {"status": 200, "body": {"ok": True}, "names": ["cup"]}, result


def test_configured_elsewhere_the_async_engine_imports_the_engine_from_its_module(cli, project):
    root = build(project, SHAPES["configured elsewhere"])
    apply(cli, root)
    assert "from db.base import engine" in read(root, "db/engine.py")


def test_configure_keywords_carry_to_the_async_sessionmaker(cli, project):
    """`configure(bind=engine, expire_on_commit=False)`: the keyword is the sessionmaker's too."""
    root = build(project, SHAPES["imported engine"])
    apply(cli, root)
    text = read(root, "db/engine.py")
    assert "async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)" in text, text


EXISTING_ASYNC = HEAD + f"""
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_engine({URL})
database_sessionmaker = sessionmaker()
database_sessionmaker.configure(bind=engine)
async_engine = create_async_engine({URL}.replace("sqlite://", "sqlite+aiosqlite://"))
async_database_sessionmaker = async_sessionmaker(expire_on_commit=False)
async_database_sessionmaker.configure(bind=async_engine)


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
""" + DEPENDENCY


def test_an_existing_async_stack_bound_by_configure_is_reused_on_the_same_database(cli, project):
    root = build(project, {"db/engine.py": EXISTING_ASYNC})
    before = read(root, "db/engine.py")
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    assert read(root, "db/engine.py") == before  # reused, nothing added
    assert "Depends(get_async_db_session)" in read(root, "core/dependencies.py")
    result = serve(root, WRITE)
    assert result == {"status": 200, "body": {"ok": True}, "names": ["cup"]}, result


def test_near_miss_an_existing_async_stack_configured_onto_another_database_blocks(cli, project):
    other = EXISTING_ASYNC.replace(
        f"create_async_engine({URL}.replace", 'create_async_engine(os.environ["OTHER_URL"].replace'
    )
    message = blocked(cli, root := build(project, {"db/engine.py": other}), "AM243")
    assert "would reuse the existing async session dependency `get_async_db_session`" in message, message
    assert read(root, "db/engine.py") == dedent(other)


# ------------------------------------------------------------------ near misses


def test_near_miss_an_existing_async_stack_beside_two_configured_engines_names_the_configure_calls(cli, project):
    """Reusing an async stack needs the synchronous engine too: two binds are the reason, not AM243."""
    two = EXISTING_ASYNC.replace(
        "database_sessionmaker.configure(bind=engine)\n",
        "database_sessionmaker.configure(bind=engine)\nreplica = create_engine(os.environ['DATABASE_URL'])\n"
        "database_sessionmaker.configure(bind=replica)\n",
    )
    message = blocked(cli, build(project, {"db/engine.py": two}), "AM274")
    assert "`database_sessionmaker.configure(bind=replica)` (db/engine.py:15)" in message, message


def blocked(cli, root: Path, code: str) -> str:  # type: ignore[no-untyped-def]
    document = run(cli, root)
    found = handler(document, "create")
    assert found["action"] == "blocked", found
    reasons = [reason for found_code, reason in zip(found["codes"], found["reasons"]) if found_code == code]
    assert reasons, found
    assert document["files_changed"] == [], document["files_changed"]
    return reasons[0]


TWO_ENGINES = HEAD + f"""
database_sessionmaker = sessionmaker()
engine = create_engine({URL})
replica = create_engine(os.environ.get("REPLICA_URL", {URL}))
database_sessionmaker.configure(bind=engine)


def use_replica() -> None:
    database_sessionmaker.configure(bind=replica)
""" + DEPENDENCY


def test_near_miss_two_configure_calls_binding_different_engines_block_never_guess(cli, project):
    root = build(project, {"db/engine.py": TWO_ENGINES})
    message = blocked(cli, root, "AM274")
    assert "`database_sessionmaker` is bound to more than one engine" in message, message
    assert "`database_sessionmaker.configure(bind=engine)` (db/engine.py:10)" in message, message
    assert "`database_sessionmaker.configure(bind=replica)` (db/engine.py:14, in `use_replica()`)" in message, message


def test_near_miss_configure_binding_an_engine_local_to_init_db_blocks(cli, project):
    root = build(project, {"db/engine.py": HEAD + f"""
database_sessionmaker = sessionmaker()


def init_db() -> None:
    engine = create_engine({URL})
    database_sessionmaker.configure(bind=engine)
""" + DEPENDENCY})
    message = blocked(cli, root, "AM234")
    assert message.startswith(
        "db/engine.py:12: `database_sessionmaker` (db/engine.py:7) gets its engine from "
        "`database_sessionmaker.configure(bind=engine)` (db/engine.py:12, in `init_db()`), which binds "
        "`engine`, local to `init_db()`"
    ), message


def test_near_miss_a_configure_call_in_the_tests_does_not_bind_the_application(cli, project):
    root = build(project, {
        "db/engine.py": HEAD + "\ndatabase_sessionmaker = sessionmaker()\n" + DEPENDENCY,
        "tests/__init__.py": "",
        "tests/conftest.py": "from sqlalchemy import create_engine\n\nfrom db.engine import database_sessionmaker\n\n"
        'test_engine = create_engine("sqlite://")\ndatabase_sessionmaker.configure(bind=test_engine)\n',
    })
    message = blocked(cli, root, "AM233")
    assert "is not bound to an engine, here nor by a `database_sessionmaker.configure(bind=...)` call" in message


def test_near_miss_an_engine_in_a_module_importing_the_sessionmaker_is_an_import_cycle(cli, project):
    root = build(project, {
        "db/engine.py": HEAD + "\ndatabase_sessionmaker = sessionmaker()\n" + DEPENDENCY,
        "main.py": "import os\n\nfrom sqlalchemy import create_engine\n" + MAIN
        + "\nfrom db.engine import database_sessionmaker  # noqa: E402\n\n"
        f"engine = create_engine({URL})\ndatabase_sessionmaker.configure(bind=engine)\n",
    })
    message = blocked(cli, root, "AM275")
    assert "binds `engine`, defined in main.py, which imports db/engine.py" in message, message


# ------------------------------------------------------------- expiry on commit


@pytest.mark.parametrize(
    ("maker", "reloads"),
    [
        # configure's keyword is what the Sessions get once it ran (at import or at startup)
        ("sessionmaker(expire_on_commit=False)\ndatabase_sessionmaker.configure(bind=engine, expire_on_commit=True)",
         "`database_sessionmaker.configure(expire_on_commit=True)` (db/engine.py:10)"),
        ("sessionmaker()\ndatabase_sessionmaker.configure(bind=engine, expire_on_commit=False)", ""),
        ("sessionmaker()\ndatabase_sessionmaker.configure(bind=engine)", "db/engine.py:9"),
        # the sessionmaker inside a scoped_session is read, not counted as unreadable
        ("scoped_session(sessionmaker(engine, expire_on_commit=False))", ""),
    ],
)
def test_expiry_on_commit_is_read_from_configure_and_from_inside_scoped_session(tmp_path, maker, reloads):
    from test_async_stack import ENGINE as STACK_ENGINE
    from test_async_stack import app as stack_app
    from test_async_stack import plan_for

    engine = STACK_ENGINE.replace(
        "database_sessionmaker = sessionmaker(engine, expire_on_commit=False)", f"database_sessionmaker = {maker}"
    ).replace("import Session, sessionmaker", "import Session, scoped_session, sessionmaker")
    plan = plan_for(stack_app(tmp_path, engine))
    assert plan.ok, plan.blockers
    assert plan.reloaded_on_commit == reloads
