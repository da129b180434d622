"""Phase two's async stack: driver mapping, analysis, the two codemods, and the stack at runtime."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext, CodemodTest
from sample import run_service_tests

from async_migrate.codemods.astcollect import collect
from async_migrate.codemods.config import Config, parse
from async_migrate.codemods.phase2 import drivers
from async_migrate.codemods.phase2.async_stack import analyse
from async_migrate.codemods.phase2.stack_codemods import AddAsyncAlias, AddAsyncEngine, rewrite
from async_migrate.codemods.phase2.stack_plan import AliasEdit, Build, EngineEdit, StackPlan
from async_migrate.codemods.project import Project
from async_migrate.codemods.sources import discover

REPO = Path(__file__).resolve().parent.parent
BOOKSHOP = REPO / "testdata" / "bookshop"


# ----------------------------------------------------------------- helpers


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def load(root: Path, config: Config | None = None) -> tuple[Project, dict[str, tuple[cst.Module, object]]]:
    parsed = {}
    for path in discover(root):
        tree = cst.parse_module((root / path).read_bytes())
        parsed[path] = (tree, collect(path, tree.code))
    return Project([f for _, f in parsed.values()], config or Config()), parsed


def plan_for(root: Path, config: Config | None = None) -> StackPlan:
    project, _ = load(root, config)
    return analyse(project, root)


def apply(root: Path, config: Config | None = None) -> tuple[StackPlan, dict[str, tuple[str, str]]]:
    """Analyse, then write the codemods' output. Returns {path: (before, after)}."""
    project, parsed = load(root, config)
    plan = analyse(project, root)
    changed = {}
    for path, edit in plan.edits().items():
        tree, module_facts = parsed[path]
        after = rewrite(tree, module_facts, edit).code  # type: ignore[arg-type]
        cst.parse_module(after)
        changed[path] = (tree.code, after)
        (root / path).write_text(after, encoding="utf-8")
    return plan, changed


def parses(code: str) -> str:
    cst.parse_module(code)
    compile(code, "<expected>", "exec")
    return code


ENGINE = """
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from core.settings import DATABASE_URL

engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
SETTINGS = """
import os

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///app.db")
"""
DEPENDENCIES = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session

session_dependency = Annotated[Session, Depends(get_db_session)]
"""


def app(tmp_path: Path, engine: str = ENGINE, **extra: str) -> Path:
    files = {"db/engine.py": engine, "core/settings.py": SETTINGS, "core/dependencies.py": DEPENDENCIES}
    files.update({k.replace("__", "/") + ".py": v for k, v in extra.items()})
    return write(tmp_path / "app", files)


# ----------------------------------------------------------------- drivers


@pytest.mark.parametrize("sync, expected", sorted(drivers.ASYNC_DRIVERS.items()))
def test_every_mapped_driver_is_an_asyncio_dialect_of_the_same_backend(sync, expected):
    from sqlalchemy.engine import make_url

    make_url(f"{sync}://").get_dialect()  # a real sync drivername
    dialect = make_url(f"{expected}://").get_dialect(_is_async=True)
    assert dialect.is_async
    assert expected.split("+")[0] == sync.split("+")[0]
    assert drivers.package(expected) is not None


# Synchronous drivers SQLAlchemy ships that no asyncio driver reads the URL of the same way.
UNMAPPABLE = {"mysql+pyodbc", "mariadb+pyodbc", "mssql+pymssql", "mssql+mssqlpython", "sqlite+pysqlcipher"}


def test_every_sync_driver_sqlalchemy_ships_for_a_mapped_backend_is_mapped():
    """One left out (`mariadb+pymysql`, `postgresql+pg8000`) kept the async engine on the sync
    driver, and the migrated application failed at import."""
    import importlib
    import pkgutil

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import NoSuchModuleError

    found = []
    for backend in sorted({sync.split("+")[0] for sync in drivers.ASYNC_DRIVERS}):
        package = importlib.import_module(f"sqlalchemy.dialects.{'mysql' if backend == 'mariadb' else backend}")
        for module in pkgutil.iter_modules(package.__path__):
            if module.name.startswith("_"):
                continue
            name = f"{backend}+{module.name}"
            try:
                dialect = make_url(f"{name}://").get_dialect()
            except (NoSuchModuleError, AttributeError):
                continue  # not a driver's module (types, json, ...)
            if module.name != "base" and not dialect.is_async:
                found.append(name)
    assert "mariadb+pymysql" in found and "postgresql+pg8000" in found
    assert [name for name in found if name not in drivers.ASYNC_DRIVERS and name not in UNMAPPABLE] == []


def test_generated_url_helper_follows_the_table_at_runtime():
    from sqlalchemy.engine import URL, make_url

    namespace: dict = {"URL": URL}
    exec(drivers.url_helper_source(), namespace)
    helper = namespace["_async_url"]
    for sync, expected in drivers.ASYNC_DRIVERS.items():
        url = make_url(f"{sync}://user:secret@db.example:5432/shop?sslmode=require")
        derived = helper(url)
        assert derived.drivername == expected
        # Everything but the driver is kept, password included.
        assert (derived.username, derived.password, derived.host, derived.port, derived.database) == (
            "user", "secret", "db.example", 5432, "shop"
        )
        assert derived.query == url.query
    assert helper(make_url("postgresql+asyncpg://h/db")).drivername == "postgresql+asyncpg"
    assert helper(make_url("sqlite:////tmp/x.db")).render_as_string() == "sqlite+aiosqlite:////tmp/x.db"


def test_driver_helpers():
    assert drivers.async_driver("sqlite") == "sqlite+aiosqlite"
    assert drivers.async_driver("postgresql+asyncpg") == "postgresql+asyncpg"
    assert drivers.async_driver("postgresql+pg8000") == "postgresql+psycopg"
    assert drivers.async_driver("mariadb+pymysql") == "mariadb+aiomysql"
    assert drivers.async_driver("mssql+pymssql") is None
    assert drivers.drivername_of("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2"
    assert drivers.drivername_of("not a url") is None
    assert drivers.is_memory_sqlite("sqlite://")
    assert drivers.is_memory_sqlite("sqlite:///:memory:")
    assert not drivers.is_memory_sqlite("sqlite:///app.db")
    source = 'URL = os.environ.get("X", "sqlite:///" + p)\nif u.drivername != "postgresql+psycopg": ...'
    assert drivers.drivers_named_in(source) == ["sqlite", "postgresql+psycopg"]


# ------------------------------------------------------- codemods (golden)


SIMPLE_BEFORE = '''
"""Database setup."""
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from core.settings import DATABASE_URL

engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)
SessionLocal = sessionmaker(engine, autoflush=False)


def get_db() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session
'''

SIMPLE_AFTER = parses(
    textwrap.dedent(
        '''
        """Database setup."""
        from collections.abc import AsyncIterator, Iterator

        from sqlalchemy import URL, create_engine
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
        from sqlalchemy.orm import Session, sessionmaker

        from core.settings import DATABASE_URL

        engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)
        SessionLocal = sessionmaker(engine, autoflush=False)


        def _async_url(url: URL) -> URL:
            """`url` with its driver swapped for the asyncio driver of the same database."""
            # psycopg (3) and oracledb serve both; drivers that are async already stay as they are.
            async_drivers = {
                "postgresql": "postgresql+psycopg",
                "postgresql+psycopg2": "postgresql+psycopg",
                "postgresql+psycopg2cffi": "postgresql+psycopg",
                "postgresql+pg8000": "postgresql+psycopg",
                "sqlite": "sqlite+aiosqlite",
                "sqlite+pysqlite": "sqlite+aiosqlite",
                "mysql": "mysql+aiomysql",
                "mysql+mysqldb": "mysql+aiomysql",
                "mysql+pymysql": "mysql+aiomysql",
                "mysql+mysqlconnector": "mysql+aiomysql",
                "mysql+mariadbconnector": "mysql+aiomysql",
                "mysql+cymysql": "mysql+aiomysql",
                "mariadb": "mariadb+aiomysql",
                "mariadb+mysqldb": "mariadb+aiomysql",
                "mariadb+pymysql": "mariadb+aiomysql",
                "mariadb+mysqlconnector": "mariadb+aiomysql",
                "mariadb+mariadbconnector": "mariadb+aiomysql",
                "mariadb+cymysql": "mariadb+aiomysql",
                "mssql": "mssql+aioodbc",
                "mssql+pyodbc": "mssql+aioodbc",
                "oracle": "oracle+oracledb",
                "oracle+cx_oracle": "oracle+oracledb",
            }
            return url.set(drivername=async_drivers.get(url.drivername, url.drivername))


        async_engine = create_async_engine(
            _async_url(engine.url),
            pool_size=5,
            pool_pre_ping=True,
        )
        async_database_sessionmaker = async_sessionmaker(
            async_engine,
            expire_on_commit=False,
            autoflush=False,
        )


        async def get_async_db_session() -> AsyncIterator[AsyncSession]:
            """Yield an AsyncSession for the duration of one request."""
            # Leaving the block closes the session, which rolls back whatever a failed
            # request left uncommitted.
            async with async_database_sessionmaker() as session:
                yield session


        def get_db() -> Iterator[Session]:
            with SessionLocal() as session:
                yield session
        '''
    )
)

SIMPLE_EDIT = EngineEdit(
    anchor="SessionLocal",
    engine_kwargs=(("pool_size", "5"), ("pool_pre_ping", "True")),
    session_kwargs=(("autoflush", "False"),),
)


class TestAddAsyncEngine(CodemodTest):
    TRANSFORM = AddAsyncEngine

    def context(self, module: str = "db.session") -> CodemodContext:
        return CodemodContext(full_module_name=module, filename=module.replace(".", "/") + ".py")

    def test_adds_engine_sessionmaker_and_dependency_after_the_sync_sessionmaker(self) -> None:
        self.assertCodemod(SIMPLE_BEFORE, SIMPLE_AFTER, SIMPLE_EDIT, context_override=self.context())

    def test_running_twice_changes_nothing(self) -> None:
        self.assertCodemod(SIMPLE_AFTER, SIMPLE_AFTER, SIMPLE_EDIT, context_override=self.context())

    def test_reuses_imported_names_and_an_existing_async_engine(self) -> None:
        before = """
            import sqlalchemy as sa
            import typing
            from sqlalchemy import orm
            from sqlalchemy.ext import asyncio as sa_asyncio

            engine = sa.create_engine("postgresql://db/app")
            Maker = orm.sessionmaker(bind=engine)
            aengine = sa_asyncio.create_async_engine("postgresql+asyncpg://db/app")
            OTHER = 1
        """
        after = parses(
            textwrap.dedent(
                '''
                import sqlalchemy as sa
                import typing
                from sqlalchemy import orm
                from sqlalchemy.ext import asyncio as sa_asyncio

                engine = sa.create_engine("postgresql://db/app")
                Maker = orm.sessionmaker(bind=engine)
                aengine = sa_asyncio.create_async_engine("postgresql+asyncpg://db/app")


                async_database_sessionmaker = sa_asyncio.async_sessionmaker(
                    aengine,
                    expire_on_commit=False,
                )


                async def get_async_db_session() -> typing.AsyncIterator[sa_asyncio.AsyncSession]:
                    """Yield an AsyncSession for the duration of one request."""
                    # Leaving the block closes the session, which rolls back whatever a failed
                    # request left uncommitted.
                    async with async_database_sessionmaker() as session:
                        yield session


                OTHER = 1
                '''
            )
        )
        edit = EngineEdit(anchor="Maker", engine="aengine", add_engine=False)
        self.assertCodemod(before, after, edit, context_override=self.context())
        self.assertCodemod(after, after, edit, context_override=self.context())

    def test_configured_factory_builds_the_engine(self) -> None:
        before = """
            from sqlalchemy.orm import sessionmaker

            from db.cloud import engine

            SessionLocal = sessionmaker(engine)
        """
        after = parses(
            textwrap.dedent(
                '''
                from collections.abc import AsyncIterator

                from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
                from sqlalchemy.orm import sessionmaker

                from db.cloud import engine, make_async_engine

                SessionLocal = sessionmaker(engine)


                async_engine = make_async_engine()
                async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


                async def get_async_db_session() -> AsyncIterator[AsyncSession]:
                    """Yield an AsyncSession for the duration of one request."""
                    # Leaving the block closes the session, which rolls back whatever a failed
                    # request left uncommitted.
                    async with async_database_sessionmaker() as session:
                        yield session
                '''
            )
        )
        edit = EngineEdit(anchor="SessionLocal", factory="db.cloud.make_async_engine")
        self.assertCodemod(before, after, edit, context_override=self.context())
        self.assertCodemod(after, after, edit, context_override=self.context())


class TestAddAsyncAlias(CodemodTest):
    TRANSFORM = AddAsyncAlias

    def test_adds_the_alias_beside_the_sync_one_importing_the_dependency(self) -> None:
        before = DEPENDENCIES + "\n\ndef other() -> None:\n    pass\n"
        after = parses(
            textwrap.dedent(
                """
                from typing import Annotated

                from fastapi import Depends
                from sqlalchemy.ext.asyncio import AsyncSession
                from sqlalchemy.orm import Session

                from db.engine import get_async_db_session, get_db_session

                session_dependency = Annotated[Session, Depends(get_db_session)]
                async_session_dependency = Annotated[AsyncSession, Depends(get_async_db_session)]


                def other() -> None:
                    pass
                """
            )
        )
        edit = AliasEdit(anchor="session_dependency", dependency_module="db.engine")
        context = CodemodContext(full_module_name="core.dependencies")
        self.assertCodemod(before, after, edit, context_override=context)
        self.assertCodemod(after, after, edit, context_override=context)

    def test_spells_names_the_way_the_module_imports_them(self) -> None:
        before = """
            import typing

            import fastapi
            from sqlalchemy.orm import Session

            from db import session as db

            SessionDep = typing.Annotated[Session, fastapi.Depends(db.get_db)]
            OTHER = 1
        """
        after = parses(
            textwrap.dedent(
                """
                import typing

                import fastapi
                from sqlalchemy.ext.asyncio import AsyncSession
                from sqlalchemy.orm import Session

                from db import session as db

                SessionDep = typing.Annotated[Session, fastapi.Depends(db.get_db)]
                AsyncSessionDep = typing.Annotated[AsyncSession, fastapi.Depends(db.get_async_db)]
                OTHER = 1
                """
            )
        )
        edit = AliasEdit(
            anchor="SessionDep",
            alias="AsyncSessionDep",
            dependency="get_async_db",
            dependency_module="db.session",
        )
        self.assertCodemod(before, after, edit, context_override=CodemodContext(full_module_name="api.deps"))

    def test_without_a_sync_alias_it_follows_the_dependency_in_its_own_module(self) -> None:
        before = '''
            from collections.abc import AsyncIterator

            from sqlalchemy.ext.asyncio import AsyncSession


            async def get_async_db_session() -> AsyncIterator[AsyncSession]:
                yield session
            OTHER = 1
        '''
        after = parses(
            textwrap.dedent(
                '''
                from collections.abc import AsyncIterator
                from typing import Annotated

                from fastapi import Depends
                from sqlalchemy.ext.asyncio import AsyncSession


                async def get_async_db_session() -> AsyncIterator[AsyncSession]:
                    yield session


                async_session_dependency = Annotated[AsyncSession, Depends(get_async_db_session)]
                OTHER = 1
                '''
            )
        )
        edit = AliasEdit(anchor=None, dependency_module="db.engine")
        context = CodemodContext(full_module_name="db.engine")
        self.assertCodemod(before, after, edit, context_override=context)
        self.assertCodemod(after, after, edit, context_override=context)


# ---------------------------------------------------------------- analysis


def test_module_level_engine_carries_pool_settings_that_still_apply(tmp_path):
    engine = ENGINE.replace(
        "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
        "engine = create_engine(\n"
        "    DATABASE_URL,\n"
        "    pool_size=5,\n"
        "    max_overflow=10,\n"
        "    pool_pre_ping=True,\n"
        "    pool_recycle=1800,\n"
        "    pool_timeout=30,\n"
        "    echo=False,\n"
        "    future=True,\n"
        "    poolclass=QueuePool,\n"
        "    connect_args={\"check_same_thread\": False, \"timeout\": 15},\n"
        "    strategy_hint=1,\n"
        ")",
    ).replace("from sqlalchemy import create_engine", "from sqlalchemy import QueuePool, create_engine")
    root = app(tmp_path, engine)
    plan = plan_for(root)
    assert plan.ok, plan.blockers
    assert plan.sessionmaker.name == "database_sessionmaker" and plan.engine.name == "engine"
    assert plan.build.kind is Build.CALL and not plan.build.conditional
    path, edit = plan.engine_edit
    assert path == "db/engine.py"
    assert edit.anchor == "database_sessionmaker" and edit.sync_engine == "engine"
    assert edit.engine_kwargs == (
        ("pool_size", "5"),
        ("max_overflow", "10"),
        ("pool_pre_ping", "True"),
        ("pool_recycle", "1800"),
        ("pool_timeout", "30"),
        ("echo", "False"),
        ("connect_args", '{"timeout": 15}'),
    )
    notes = "\n".join(plan.notes)
    assert "`check_same_thread` is dropped from connect_args" in notes
    assert "poolclass=QueuePool` is not carried: an async engine needs an asyncio pool" in notes
    assert "`strategy_hint=1` is not carried" in notes
    assert "future" not in notes
    assert plan.alias_edit == (
        "core/dependencies.py",
        AliasEdit(
            anchor="session_dependency", dependency="get_async_db_session", dependency_module="db.engine"
        ),
    )
    # The driver is named in a literal the tool can see (core/settings.py is not the engine
    # module, so only the engine module's text counts): nothing found -> a note with the table.
    assert plan.drivers == [] and "names no driver the tool can see" in notes


def test_bookshop_engine_built_conditionally_in_a_factory(tmp_path):
    root = tmp_path / "bookshop"
    shutil.copytree(BOOKSHOP, root, ignore=shutil.ignore_patterns("*.db", "__pycache__", "storage"))
    plan = plan_for(root)
    assert plan.ok, plan.blockers
    assert plan.build.kind is Build.FACTORY and plan.build.function == "db.engine.build_engine"
    assert plan.build.conditional and len(plan.build.calls) == 3
    assert [d.package for d in plan.drivers] == ["aiosqlite", "psycopg"]
    _, edit = plan.engine_edit
    # Only what every path of build_engine passes is carried.
    assert edit.engine_kwargs == (("pool_pre_ping", "True"),)
    notes = "\n".join(plan.notes)
    assert (
        "db/engine.py:42: `pool_size=POOL_SIZE` is passed to create_engine only on some of the paths"
    ) in notes
    assert "`connect_args={\"check_same_thread\": False}`" in notes
    assert "check_same_thread does not apply under aiosqlite" in notes


def test_engine_chosen_by_a_module_level_if(tmp_path):
    engine = ENGINE.replace(
        "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
        'if DATABASE_URL.startswith("sqlite"):\n'
        "    engine = create_engine(DATABASE_URL, echo=True, pool_pre_ping=True)\n"
        "else:\n"
        "    engine = create_engine(DATABASE_URL, pool_size=10, pool_pre_ping=True)",
    )
    plan = plan_for(app(tmp_path, engine))
    assert plan.ok, plan.blockers
    assert plan.build.kind is Build.CALL and plan.build.conditional and len(plan.build.calls) == 2
    assert plan.engine_edit[1].engine_kwargs == (("pool_pre_ping", "True"),)
    notes = "\n".join(plan.notes)
    assert "db/engine.py:9: `echo=True` is passed to create_engine only conditionally" in notes
    assert "db/engine.py:11: `pool_size=10` is passed to create_engine only conditionally" in notes


def test_complete_existing_stack_is_reused_not_duplicated(tmp_path):
    root = app(
        tmp_path,
        db__async_db="""
            from collections.abc import AsyncGenerator

            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

            from core.settings import DATABASE_URL

            # the same database as the sync engine's: phase two reuses only that
            aengine = create_async_engine(DATABASE_URL.replace("sqlite://", "sqlite+aiosqlite://"))
            AsyncSessionLocal = async_sessionmaker(aengine)


            async def get_session() -> AsyncGenerator[AsyncSession, None]:
                async with AsyncSessionLocal() as session:
                    yield session
        """,
        api__deps="""
            from typing import Annotated

            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from db.async_db import get_session

            AsyncDB = Annotated[AsyncSession, Depends(get_session)]
        """,
    )
    plan = plan_for(root)
    assert plan.ok and plan.complete and plan.edits() == {}
    assert (plan.async_engine.name, plan.async_engine.path) == ("aengine", "db/async_db.py")
    assert plan.async_sessionmaker.name == "AsyncSessionLocal" and plan.async_sessionmaker.exists
    assert plan.async_dependency.name == "get_session" and plan.async_alias.name == "AsyncDB"


ASYNC_DB = """
    from collections.abc import AsyncGenerator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    from core.settings import DATABASE_URL

    aengine = create_async_engine(DATABASE_URL.replace("sqlite://", "sqlite+aiosqlite://"))
    AsyncSessionLocal = async_sessionmaker(aengine)


    async def get_session() -> AsyncGenerator[AsyncSession, None]:
        async with AsyncSessionLocal() as session:
            yield session
"""
# What phase two asks for: the tests override the async dependency with their own stack.
TEST_OVERRIDE = """
    from collections.abc import AsyncGenerator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    test_engine = create_async_engine("sqlite+aiosqlite://")
    TestSession = async_sessionmaker(test_engine)


    async def override_get_session() -> AsyncGenerator[AsyncSession, None]:
        async with TestSession() as session:
            yield session
"""


@pytest.mark.parametrize("where", ["tests__conftest", "conftest", "tests__api__helpers"])
def test_the_tests_own_async_stack_is_not_one_of_several(tmp_path, where):
    # "several async engines exist; reusing aengine, not test_engine (tests/conftest.py)" on every run
    # once the tests override the async dependency as phase two asked.
    plan = plan_for(app(tmp_path, db__async_db=ASYNC_DB, **{where: TEST_OVERRIDE}))
    assert plan.ok, plan.blockers
    assert (plan.async_engine.name, plan.async_sessionmaker.name, plan.async_dependency.name) == (
        "aengine", "AsyncSessionLocal", "get_session"
    )
    assert [note for note in plan.notes if note.startswith("several")] == []


def test_near_miss_a_second_async_stack_in_the_application_is_named_once(tmp_path):
    other = TEST_OVERRIDE.replace("sqlite+aiosqlite://", "sqlite+aiosqlite:///other.db")
    plan = plan_for(app(tmp_path, db__async_db=ASYNC_DB, db__other=other))
    assert [note for note in plan.notes if note.startswith("several")] == [
        "several async engines exist; reusing `aengine` (db/async_db.py:7), not `test_engine` (db/other.py:5)",
        "several async_sessionmakers exist; reusing `AsyncSessionLocal` (db/async_db.py:8), not `TestSession` "
        "(db/other.py:6)",
        "several async session dependencies exist; reusing `get_session` (db/async_db.py:11), not "
        "`override_get_session` (db/other.py:9)",
    ]


def test_partial_stack_adds_only_the_missing_pieces_next_to_them(tmp_path):
    root = app(
        tmp_path,
        db__async_db="""
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.orm import sessionmaker

            from core.settings import DATABASE_URL

            # the same database as the sync engine's: phase two reuses only that
            aengine = create_async_engine(DATABASE_URL.replace("sqlite://", "sqlite+aiosqlite://"))
            AsyncSessionLocal = sessionmaker(aengine, class_=AsyncSession)  # 1.4 style
        """,
    )
    plan, changed = apply(root)
    assert plan.ok, plan.blockers
    # The 1.4-style sessionmaker(class_=AsyncSession) is an async one: reused, not taken for the sync one.
    assert plan.async_sessionmaker.name == "AsyncSessionLocal" and plan.async_sessionmaker.exists
    assert set(changed) == {"db/async_db.py", "core/dependencies.py"}
    after = changed["db/async_db.py"][1]
    assert "create_async_engine(" in after and after.count("create_async_engine(") == 1
    assert "async_sessionmaker(" not in after  # the existing one is used
    assert "async with AsyncSessionLocal() as session:" in after
    assert "from db.async_db import get_async_db_session" in changed["core/dependencies.py"][1]
    assert "db/engine.py" not in changed
    again = plan_for(root)
    assert again.complete and again.edits() == {}


def test_only_the_alias_missing(tmp_path):
    root = app(
        tmp_path,
        db__async_db="""
            from collections.abc import AsyncIterator

            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

            from core.settings import DATABASE_URL

            async_engine = create_async_engine(DATABASE_URL.replace("sqlite://", "sqlite+aiosqlite://"))
            async_database_sessionmaker = async_sessionmaker(async_engine)


            async def get_async_db_session() -> AsyncIterator[AsyncSession]:
                async with async_database_sessionmaker() as session:
                    yield session
        """,
    )
    plan, changed = apply(root)
    assert plan.ok and set(changed) == {"core/dependencies.py"}
    assert plan.engine_edit is None
    assert "from db.async_db import get_async_db_session" in changed["core/dependencies.py"][1]


def test_stack_names_come_from_the_configuration(tmp_path):
    root = app(tmp_path)
    config = parse(
        {
            "async-engine": "aengine",
            "async-sessionmaker": "AsyncSessionLocal",
            "async-dependency": "get_async_session",
            "async-alias": "AsyncSessionDep",
        }
    )
    plan, changed = apply(root, config)
    engine = changed["db/engine.py"][1]
    assert "aengine = create_async_engine(" in engine
    assert "AsyncSessionLocal = async_sessionmaker(aengine, expire_on_commit=False)" in engine
    assert "async def get_async_session() -> AsyncIterator[AsyncSession]:" in engine
    assert "AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]" in changed[
        "core/dependencies.py"
    ][1]
    project, _ = load(root, config)
    assert analyse(project, root).complete


def test_sessionmaker_used_by_the_session_dependency_is_chosen(tmp_path):
    engine = ENGINE + '\nreporting_engine = create_engine("sqlite:///reports.db")\n' + (
        "ReportingSession = sessionmaker(reporting_engine)\n"
    )
    plan = plan_for(app(tmp_path, engine))
    assert plan.ok and plan.sessionmaker.name == "database_sessionmaker"


# ---------------------------------------------------------------- blockers


def only_blocker(plan: StackPlan, code: str) -> str:
    """The one blocker's text; it must carry the rule code `code` (`async-migrate rules`)."""
    assert len(plan.blockers) == 1, plan.blockers
    assert plan.edits() == {}
    assert plan.blockers[0].code == code, plan.blockers[0]
    return str(plan.blockers[0])


def test_configured_factory_lifts_the_creator_blocker(tmp_path):
    engine = ENGINE.replace(
        "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
        'engine = create_engine("postgresql+psycopg://", creator=connect)',
    )
    root = app(tmp_path, engine, db__cloud="def make_async_engine():\n    return None\n")
    plan = plan_for(root, parse({"async-engine-factory": "db.cloud.make_async_engine"}))
    assert plan.ok, plan.blockers
    assert plan.engine_edit[1].factory == "db.cloud.make_async_engine"


FACTORY_ROUTER = """
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/n")
def count(session: session_dependency):
    return session.scalar(text("select 1"))
"""


@pytest.mark.parametrize(
    ("factory", "problem"),
    [
        ("db.cloud.make_engine", "async-engine-factory `db.cloud.make_engine`: `db/cloud.py` defines no `make_engine`"),
        ("db.nowhere.make", "async-engine-factory `db.nowhere.make`: no module `db/nowhere.py` under the root"),
        ("make_engine", "async-engine-factory `make_engine` must be a dotted reference to a function"),
    ],
)
def test_a_factory_that_does_not_exist_is_a_configuration_error(tmp_path, cli, factory, problem):
    """Exit 2 naming the configuration file and line, before anything is generated."""
    root = app(tmp_path, db__cloud="def make_async_engine():\n    return None\n", api__items=FACTORY_ROUTER)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[tool.async-migrate]\nasync-engine-factory = "{factory}"\n', encoding="utf-8"
    )
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    result = cli("phase2", root, "--subsystem", "api/items.py", "--apply")
    assert result.exit_code == 2, result.output
    assert f"{root / 'pyproject.toml'}:5: {problem}" in " ".join(result.output.split())
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_near_miss_an_existing_factory_is_used(tmp_path, cli):
    root = app(tmp_path, db__cloud="def make_async_engine():\n    return None\n", api__items=FACTORY_ROUTER)
    (root / "pyproject.toml").write_text(
        '[tool.async-migrate]\nasync-engine-factory = "db.cloud.make_async_engine"\n', encoding="utf-8"
    )
    result = cli("phase2", root, "--subsystem", "api/items.py")
    assert result.exit_code == 0, result.output
    assert "make_async_engine()" in result.output


SESSION_CLASS_ENGINE = """
    from collections.abc import Iterator

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine("sqlite:///app.db")


    def get_db_session() -> Iterator[Session]:
        with Session(engine) as session:
            yield session
"""


def test_a_session_class_dependency_on_a_module_engine_gets_the_stack_after_it(tmp_path):
    plan = plan_for(app(tmp_path, SESSION_CLASS_ENGINE))
    assert plan.ok, plan.blockers
    path, edit = plan.engine_edit
    assert (path, edit.anchor, edit.sync_engine, edit.session_class) == ("db/engine.py", "get_db_session", "engine", None)


def test_in_memory_sqlite_is_noted(tmp_path):
    engine = ENGINE.replace(
        "create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
        'create_engine("sqlite://", pool_size=5)',
    )
    plan = plan_for(app(tmp_path, engine))
    assert plan.ok
    assert plan.engine_edit[1].engine_kwargs == ()
    notes = "\n".join(plan.notes)
    assert "in-memory SQLite database; an async engine opens another, separate one" in notes
    assert "`pool_size=5` is not carried: aiosqlite uses StaticPool" in notes
    assert [d.package for d in plan.drivers] == ["aiosqlite"]


# ------------------------------------------------------- the bookshop, live


BOOKSHOP_ENGINE_BLOCK = '''
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def _async_url(url: URL) -> URL:
    """`url` with its driver swapped for the asyncio driver of the same database."""
    # psycopg (3) and oracledb serve both; drivers that are async already stay as they are.
    async_drivers = {
        "postgresql": "postgresql+psycopg",
        "postgresql+psycopg2": "postgresql+psycopg",
        "postgresql+psycopg2cffi": "postgresql+psycopg",
        "postgresql+pg8000": "postgresql+psycopg",
        "sqlite": "sqlite+aiosqlite",
        "sqlite+pysqlite": "sqlite+aiosqlite",
        "mysql": "mysql+aiomysql",
        "mysql+mysqldb": "mysql+aiomysql",
        "mysql+pymysql": "mysql+aiomysql",
        "mysql+mysqlconnector": "mysql+aiomysql",
        "mysql+mariadbconnector": "mysql+aiomysql",
        "mysql+cymysql": "mysql+aiomysql",
        "mariadb": "mariadb+aiomysql",
        "mariadb+mysqldb": "mariadb+aiomysql",
        "mariadb+pymysql": "mariadb+aiomysql",
        "mariadb+mysqlconnector": "mariadb+aiomysql",
        "mariadb+mariadbconnector": "mariadb+aiomysql",
        "mariadb+cymysql": "mariadb+aiomysql",
        "mssql": "mssql+aioodbc",
        "mssql+pyodbc": "mssql+aioodbc",
        "oracle": "oracle+oracledb",
        "oracle+cx_oracle": "oracle+oracledb",
    }
    return url.set(drivername=async_drivers.get(url.drivername, url.drivername))


async_engine = create_async_engine(_async_url(engine.url), pool_pre_ping=True)
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    """Yield an AsyncSession for the duration of one request."""
    # Leaving the block closes the session, which rolls back whatever a failed
    # request left uncommitted.
    async with async_database_sessionmaker() as session:
        yield session


def get_db_session() -> Iterator[Session]:
'''


@pytest.fixture(scope="module")
def stacked_bookshop(tmp_path_factory) -> tuple[Path, StackPlan, dict[str, tuple[str, str]]]:
    root = tmp_path_factory.mktemp("stack") / "bookshop"
    shutil.copytree(BOOKSHOP, root, ignore=shutil.ignore_patterns("*.db", "__pycache__", "storage"))
    plan, changed = apply(root)
    return root, plan, changed


def test_bookshop_generated_code(stacked_bookshop):
    root, plan, changed = stacked_bookshop
    assert plan.ok and set(changed) == {"db/engine.py", "core/dependencies.py"}
    engine = changed["db/engine.py"][1]
    assert BOOKSHOP_ENGINE_BLOCK in engine
    assert "from collections.abc import AsyncIterator, Iterator\n" in engine
    assert (
        "from sqlalchemy.engine import URL, make_url\n"
        "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine\n"
        "from sqlalchemy.orm import Session, sessionmaker\n"
    ) in engine
    dependencies = changed["core/dependencies.py"][1]
    assert (
        "session_dependency = Annotated[Session, Depends(get_db_session)]\n"
        "async_session_dependency = Annotated[AsyncSession, Depends(get_async_db_session)]\n"
    ) in dependencies
    assert "from db.engine import get_async_db_session, get_db_session\n" in dependencies
    # Nothing else in either file moved: the diff only adds lines (and extends import lines).
    for before, after in changed.values():
        removed = [
            line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")
        ]
        assert removed == [] or all("import" in line for line in removed)


def test_bookshop_second_run_is_a_no_op(stacked_bookshop):
    root, _, changed = stacked_bookshop
    project, parsed = load(root)
    plan = analyse(project, root)
    assert plan.ok and plan.complete and plan.edits() == {}
    assert plan.async_engine.exists and plan.async_dependency.exists and plan.async_alias.exists
    # The codemods themselves are idempotent too: given the first run's edits again, they
    # leave the stacked files as they are.
    fresh = root.parent / "fresh"
    shutil.copytree(BOOKSHOP, fresh, ignore=shutil.ignore_patterns("*.db", "__pycache__", "storage"))
    first_edits = plan_for(fresh).edits()
    assert set(first_edits) == set(changed)
    for path, edit in first_edits.items():
        tree, module_facts = parsed[path]
        assert rewrite(tree, module_facts, edit).code == tree.code  # type: ignore[arg-type]


RUNTIME_CHECK = r'''
import asyncio
import json
import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import models
from core.dependencies import async_session_dependency
from db.base import Base
from db.engine import async_engine, database_sessionmaker, engine, get_async_db_session

Base.metadata.drop_all(engine)
Base.metadata.create_all(engine)
with database_sessionmaker() as session:
    session.add_all([models.Author(name="Ursula K. Le Guin"), models.Author(name="Terry Pratchett")])
    session.commit()

QUERY = select(models.Author.name).order_by(models.Author.id)


async def through_the_dependency():
    """Drive the generator the way FastAPI does: one value, then close or throw."""
    dependency = get_async_db_session()
    session = await dependency.__anext__()
    assert isinstance(session, AsyncSession), type(session)
    names = list((await session.scalars(QUERY)).all())
    await dependency.aclose()
    # A request that fails after writing: the exception reaches the dependency at its yield.
    dependency = get_async_db_session()
    session = await dependency.__anext__()
    session.add(models.Author(name="Rolled Back"))
    await session.flush()
    assert session.in_transaction()
    try:
        await dependency.athrow(RuntimeError("request failed"))
    except RuntimeError:
        pass
    assert not session.in_transaction()
    await async_engine.dispose()
    return names


direct = asyncio.run(through_the_dependency())


@asynccontextmanager
async def lifespan(app):
    yield
    await async_engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/authors")
async def list_authors(session: async_session_dependency):
    return list((await session.scalars(QUERY)).all())


@app.post("/authors")
async def add_author(session: async_session_dependency):
    session.add(models.Author(name="Zadie Smith"))
    await session.commit()
    return {"ok": True}


@app.post("/authors/failing")
async def failing(session: async_session_dependency):
    session.add(models.Author(name="Never Saved"))
    await session.flush()
    raise HTTPException(status_code=409, detail="conflict")


with TestClient(app) as client:
    listed = client.get("/authors").json()
    added = client.post("/authors").status_code
    failed = client.post("/authors/failing").status_code

with database_sessionmaker() as session:
    stored = list(session.scalars(QUERY))
Base.metadata.drop_all(engine)
engine.dispose()
print(json.dumps({
    "sync_driver": engine.url.drivername,
    "async_driver": async_engine.url.drivername,
    "dialect": type(async_engine.dialect).__name__,
    "direct": direct,
    "listed": listed,
    "added": added,
    "failed": failed,
    "stored": stored,
}))
'''


def run_runtime_check(root: Path, env: dict[str, str]) -> dict:
    script = root / "_runtime_check.py"
    script.write_text(RUNTIME_CHECK, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BOOKSHOP_")}
    environment.update(PYTHONPATH=str(root), BOOKSHOP_STORAGE_DIR=str(root / "storage"), **env)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=root, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_runtime(report: dict) -> None:
    assert report["direct"] == ["Ursula K. Le Guin", "Terry Pratchett"]
    assert report["listed"] == ["Ursula K. Le Guin", "Terry Pratchett"]
    assert report["added"] == 200 and report["failed"] == 409
    # Committed work stays; what a failing request (or a thrown-in exception) flushed is rolled back.
    assert report["stored"] == ["Ursula K. Le Guin", "Terry Pratchett", "Zadie Smith"]


def test_runtime_sqlite_aiosqlite(stacked_bookshop, tmp_path):
    root, _, _ = stacked_bookshop
    report = run_runtime_check(root, {"BOOKSHOP_SQLITE_PATH": str(tmp_path / "bookshop.db")})
    assert report["sync_driver"] == "sqlite" and report["async_driver"] == "sqlite+aiosqlite"
    assert report["dialect"] == "SQLiteDialect_aiosqlite"
    check_runtime(report)


@pytest.fixture
def scratch_postgres():
    from sample import POSTGRES_ADMIN_URL, postgres_available, postgres_url, unavailable

    reason = postgres_available()
    if reason is not None:
        unavailable(reason)
    import psycopg

    admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    name = f"async_migrate_stack_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield postgres_url(name, "postgresql")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_runtime_postgresql_psycopg_async(stacked_bookshop, scratch_postgres):
    root, _, _ = stacked_bookshop
    report = run_runtime_check(root, {"BOOKSHOP_DATABASE_URL": scratch_postgres})
    # bookshop pins PostgreSQL to psycopg 3; the async engine uses psycopg's asyncio dialect.
    assert report["sync_driver"] == "postgresql+psycopg" and report["async_driver"] == "postgresql+psycopg"
    assert report["dialect"] == "PGDialectAsync_psycopg"
    check_runtime(report)


def test_bookshop_own_test_suite_still_passes_with_the_stack(stacked_bookshop):
    """The sync app is untouched by the added stack: its API tests pass on the stacked copy."""
    root, _, _ = stacked_bookshop
    # SQLite in the memory folder: the suite rebuilds its schema per test, which on disk waits
    # on a sync per table and took twice as long
    result = run_service_tests(root, None, pytest_args=("-x",))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


ENGINE_IN_A_WRAPPER = '''
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker


class Database:
    def __init__(self, url):
        self.engine = create_engine(url, pool_size=20)


db = Database("sqlite:///x.db")
SessionLocal = sessionmaker(bind=db.engine)
app = FastAPI()


def get_db():
    with SessionLocal() as s:
        yield s


@app.get("/n")
def n(s: Session = Depends(get_db)):
    return s.scalar(text("select 1"))
'''


def test_the_follow_up_on_an_engine_built_out_of_sight_says_what_to_do(cli, project):
    # The note on an engine the tool cannot see built ended mid-sentence ("... but SQLAlchemy's
    # default pool settings") in the console, the JSON and the report.
    root = project({"main.py": ENGINE_IN_A_WRAPPER})
    document = json.loads(cli("phase2", root, "-s", "main.py", "--format", "json").stdout)
    (note,) = [f for f in document["subsystem"]["follow_ups"] if "could not see how the engine" in f]
    assert note.endswith("pass them to create_async_engine by hand"), note
    assert note in cli("phase2", root, "-s", "main.py").output


def test_a_generated_url_helper_names_no_driver_of_the_project():
    """A second stack is planned in a module holding the first one's `_async_url`, whose table
    spells out every driver the tool knows: only the project's own URL names its driver."""
    source = 'engine = create_engine("sqlite:///app.db")\n\n\n' + drivers.url_helper_source("_async_url")
    assert "mysql+aiomysql" in drivers.drivers_named_in(source)
    assert drivers.drivers_named_in(drivers.without_url_helpers(source)) == ["sqlite"]
    indented = textwrap.indent(drivers.url_helper_source("_async_url_2"), "    ")
    assert drivers.drivers_named_in(drivers.without_url_helpers(indented)) == []
