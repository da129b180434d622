"""Phase two subsystem after subsystem on an engine assigned in branches (`if URL == "sqlite://":
engine = create_engine(URL, poolclass=StaticPool)` / `else: engine = create_engine(URL)`), as
ported Flask services often have it.

The first run builds the async engine from `engine.url` with the driver swapped; the second run
must reuse that stack, which reaches the sync engine's database whatever branch built it. It was
blocked, every later subsystem with it, saying phase two could not tell which database the
synchronous engine uses.
"""

from __future__ import annotations

from conftest import ENGINE

BRANCH_ENGINE = ENGINE.replace(
    'engine = create_engine("sqlite:///./app.db")',
    'import os\n\nURL = os.environ.get("DATABASE_URL", "sqlite://")\n\n'
    'if URL == "sqlite://":\n    engine = create_engine(URL)\nelse:\n    engine = create_engine(URL, pool_pre_ping=True)',
)

ROUTES = """
from fastapi import APIRouter
from sqlalchemy import text

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/{name}")
def count_{name}(db: session_dependency):
    return db.execute(text("select 1")).scalar()
"""


def test_a_second_subsystem_reuses_the_stack_built_from_an_engine_assigned_in_branches(cli, project, app_files):
    files = {**app_files, "db/engine.py": BRANCH_ENGINE, "api/__init__.py": ""}
    files.update({f"api/{n}.py": ROUTES.replace("{name}", n) for n in ("first", "second")})
    root = project(files)
    first = cli.json("phase2", root, "--subsystem", "api/first.py", "--apply")
    assert [h["action"] for h in first["handlers"]] == ["migrate"], first["handlers"]
    assert "create_async_engine(_async_url(engine.url))" in (root / "db/engine.py").read_text()
    second = cli.json("phase2", root, "--subsystem", "api/second.py")
    assert [h["action"] for h in second["handlers"]] == ["migrate"], second["handlers"]


OWN_ASYNC = """

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite:///other.db")
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""


def test_near_miss_an_async_engine_on_a_url_of_its_own_still_blocks(cli, project, app_files):
    files = {**app_files, "db/engine.py": BRANCH_ENGINE + OWN_ASYNC, "api/__init__.py": ""}
    files["api/first.py"] = ROUTES.replace("{name}", "first")
    first = cli.json("phase2", project(files), "--subsystem", "api/first.py")
    [handler] = first["handlers"]
    assert handler["action"] == "blocked", handler
    assert "phase two cannot tell which database the synchronous engine" in " ".join(handler["reasons"]), handler
