"""Phase two on a sessionmaker built with its engine inline: `sessionmaker(bind=create_engine(...))`.

The async engine reads the URL of the engine the sessionmaker holds (`X.kw["bind"].url`), so it
reaches the same database without evaluating the URL expression again, and carries the keywords
a named engine's would. The migrated application is run on SQLite, PostgreSQL and MariaDB; what
an async engine cannot take still blocks, with the named engine's reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from phase2_kit import run_app
from test_async_stack import only_blocker, plan_for
from test_async_stack import write as write_app
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import DEPENDENCIES, KINDS, MAIN, MODELS, SUBSYSTEM, routes

# cosmicpython's shape: the URL from a project function, the engine built in the sessionmaker call.
CONFIG = """
import os

CALLS = []


def get_database_uri() -> str:
    CALLS.append(1)
    return os.environ["DATABASE_URL"]
"""
ENGINE = """
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

import config

database_sessionmaker = sessionmaker(
    autoflush=False,
    expire_on_commit=False,
    bind=create_engine(config.get_database_uri(), pool_pre_ping=True, pool_recycle=1800, isolation_level="SERIALIZABLE"),
)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
POSITIONAL = ENGINE.replace(
    """database_sessionmaker = sessionmaker(
    autoflush=False,
    expire_on_commit=False,
    bind=create_engine(config.get_database_uri(), pool_pre_ping=True, pool_recycle=1800, isolation_level="SERIALIZABLE"),
)""",
    "database_sessionmaker = sessionmaker(create_engine(config.get_database_uri()), expire_on_commit=False)",
)
ROUTES = routes(
    """
    @router.post("/items")
    def add_item(name: str, db: Session = Depends(get_db_session)):
        item = Item(name=name, owner_id=1)
        db.add(item)
        db.commit()
        return {"id": item.id}
    """,
    """
    @router.get("/items/count")
    def count_items(db: Session = Depends(get_db_session)):
        return {"count": db.scalar(select(func.count(Item.id)))}
    """,
)


def build(project, engine: str = ENGINE) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "config.py": CONFIG,
        "db/__init__.py": "",
        "db/engine.py": engine,
        "core/__init__.py": "",
        "core/dependencies.py": DEPENDENCIES,
        "api/__init__.py": "",
        "models.py": MODELS,
        "main.py": MAIN,
        SUBSYSTEM: ROUTES,
    })


def serve(root: Path, kind: str, script: str) -> object:
    """Run `script` with `client` (main.app's TestClient), `Sync` (the synchronous sessionmaker)
    and `engine` (the engine it holds) on a fresh database of `kind`; its last line is JSON."""
    prelude = dedent(
        """
        import json

        from fastapi.testclient import TestClient
        from sqlalchemy import func, select

        import config
        import db.engine as stack
        from db.engine import database_sessionmaker as Sync
        from main import app
        from models import Base, Item, User

        engine = Sync.kw["bind"]
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        with Sync() as s:
            s.add(User(id=1, name="Ann"))
            s.commit()
        client = TestClient(app)
        client.__enter__()
        """
    )
    postlude = dedent(
        """
        client.portal.call(stack.async_engine.dispose)
        client.__exit__(None, None, None)
        Base.metadata.drop_all(engine)
        engine.dispose()
        """
    )
    return run_app(root, kind, f"{prelude}\n{dedent(script)}\n{postlude}", "inline", timeout=180)


@pytest.mark.parametrize("kind", KINDS)
def test_an_inline_engine_gets_an_async_engine_on_the_same_database(cli, project, kind):
    root = build(project)
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate"
    text = read(root, "db/engine.py")
    assert (
        "async_engine = create_async_engine(\n"
        '    _async_url(database_sessionmaker.kw["bind"].url),\n'
        "    pool_pre_ping=True,\n"
        "    pool_recycle=1800,\n"
        '    isolation_level="SERIALIZABLE",\n'
        ")\n"
    ) in text
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        counted = client.get("/items/count")
        with Sync() as s:
            names = s.scalars(select(Item.name)).all()
        print(json.dumps({
            "status": created.status_code,
            "count": counted.json(),
            "names": list(names),
            # the URL expression ran once: the async engine read the engine's URL, not a new one
            "uri_calls": len(config.CALLS),
            "same_database": stack.async_engine.url.database == engine.url.database,
            "async_driver": stack.async_engine.dialect.is_async,
            "pre_ping": stack.async_engine.pool._pre_ping,
            "recycle": stack.async_engine.pool._recycle,
        }))
    """)
    assert result == {
        "status": 200, "count": {"count": 1}, "names": ["pen"], "uri_calls": 1,
        "same_database": True, "async_driver": True, "pre_ping": True, "recycle": 1800,
    }


@pytest.mark.parametrize("kind", KINDS)
def test_a_positional_inline_engine_migrates(cli, project, kind):
    root = build(project, POSITIONAL)
    apply(cli, root)
    assert 'async_engine = create_async_engine(_async_url(database_sessionmaker.kw["bind"].url))\n' in read(
        root, "db/engine.py"
    )
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "cup"})
        with Sync() as s:
            names = s.scalars(select(Item.name)).all()
        print(json.dumps({"status": created.status_code, "names": list(names), "uri_calls": len(config.CALLS)}))
    """)
    assert result == {"status": 200, "names": ["cup"], "uri_calls": 1}


# ------------------------------------------------------------------ near misses: still blocked

STACK = """
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from core.settings import DATABASE_URL

database_sessionmaker = {maker}


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
STACK_DEPENDENCIES = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session

session_dependency = Annotated[Session, Depends(get_db_session)]
"""


def stack_app(tmp_path: Path, maker: str) -> Path:
    return write_app(tmp_path / "app", {
        "db/engine.py": STACK.format(maker=maker),
        "core/settings.py": 'DATABASE_URL = "sqlite:///app.db"\n',
        "core/dependencies.py": STACK_DEPENDENCIES,
    })


def test_near_miss_an_inline_engine_with_creator_blocks_as_a_named_one(tmp_path):
    message = only_blocker(
        plan_for(stack_app(tmp_path, "sessionmaker(bind=create_engine(DATABASE_URL, creator=connect))")), "AM237"
    )
    assert message == (
        "db/engine.py:9: engine is built with creator=connect, which create_async_engine cannot take (it needs "
        "async_creator=, an async function returning a driver connection); name an async engine factory in "
        "[tool.async-migrate] async-engine-factory"
    )


def test_near_miss_an_inline_in_memory_engine_shared_by_static_pool_blocks(tmp_path):
    maker = 'sessionmaker(create_engine("sqlite://", poolclass=StaticPool))'
    message = only_blocker(plan_for(stack_app(tmp_path, maker)), "AM273")
    assert message.startswith('db/engine.py:9: engine URL "sqlite://" is an in-memory SQLite database'), message


def test_near_miss_an_inline_engine_with_unpacked_options_stays_am234(tmp_path):
    # `**OPTIONS` may hold creator= or module=: nothing says what the async engine could take.
    maker = "sessionmaker(bind=create_engine(DATABASE_URL, **OPTIONS))"
    message = only_blocker(plan_for(stack_app(tmp_path, maker)), "AM234")
    assert "is bound to `create_engine(DATABASE_URL, **OPTIONS)`, not to a module-level engine" in message


def test_near_miss_a_method_called_on_the_inline_engine_stays_am234(tmp_path):
    maker = 'sessionmaker(create_engine(DATABASE_URL).execution_options(isolation_level="AUTOCOMMIT"))'
    only_blocker(plan_for(stack_app(tmp_path, maker)), "AM234")


def test_a_scoped_session_around_the_inline_sessionmaker_reads_its_factory(tmp_path):
    root = write_app(tmp_path / "app", {
        "db/engine.py": STACK.format(maker="scoped_session(sessionmaker(bind=create_engine(DATABASE_URL, echo=True)))")
        .replace("import Session, sessionmaker", "import Session, scoped_session, sessionmaker"),
        "core/settings.py": 'DATABASE_URL = "sqlite:///app.db"\n',
        "core/dependencies.py": STACK_DEPENDENCIES,
    })
    plan = plan_for(root)
    assert plan.ok, plan.blockers
    edit = plan.engine_edit[1]
    assert edit.sync_engine == 'database_sessionmaker.session_factory.kw["bind"]'
    assert edit.engine_kwargs == (("echo", "True"),)


# FastAPI's tutorial shape, its engine inline: check_same_thread is dropped as for a named engine.
TUTORIAL = ENGINE.replace(
    """database_sessionmaker = sessionmaker(
    autoflush=False,
    expire_on_commit=False,
    bind=create_engine(config.get_database_uri(), pool_pre_ping=True, pool_recycle=1800, isolation_level="SERIALIZABLE"),
)""",
    """database_sessionmaker = sessionmaker(
    autocommit=False,
    autoflush=False,
    bind=create_engine(config.get_database_uri(), connect_args={"check_same_thread": False, "timeout": 15}),
)""",
)


def test_the_tutorial_shape_drops_check_same_thread_and_keeps_the_other_connect_args(cli, project):
    root = build(project, TUTORIAL)
    document = apply(cli, root)
    assert (
        "async_engine = create_async_engine(\n"
        '    _async_url(database_sessionmaker.kw["bind"].url),\n'
        '    connect_args={"timeout": 15},\n'
        ")\n"
    ) in read(root, "db/engine.py")
    notes = json.dumps(document)
    assert "`check_same_thread` is dropped from connect_args" in notes
    result = serve(root, "sqlite", """
        created = client.post("/items", params={"name": "ink"})
        with Sync() as s:
            names = s.scalars(select(Item.name)).all()
        print(json.dumps({"status": created.status_code, "names": list(names)}))
    """)
    assert result == {"status": 200, "names": ["ink"]}
