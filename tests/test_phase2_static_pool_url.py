"""Phase two on an engine built with poolclass=StaticPool whose URL is read at runtime (an
environment variable, a factory's parameter): StaticPool is how an in-memory SQLite database is
shared between Sessions, and there the async engine opens another, empty one, so the migrated
routes fail with "no such table". The follow-up says so, instead of advising to carry StaticPool
by hand, which would not share the database either."""

from __future__ import annotations

import pytest
from conftest import ENGINE

ROUTES = """
from fastapi import APIRouter
from sqlalchemy import text

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/count")
async def count(db: session_dependency):
    return db.execute(text("select 1")).scalar()
"""

ENGINES = {
    "environment-branch": (
        'import os\n\nfrom sqlalchemy.pool import StaticPool\n\nURL = os.environ.get("DATABASE_URL", "postgresql://db/app")\n\n'
        'if URL.startswith("sqlite"):\n    engine = create_engine(URL, poolclass=StaticPool)\nelse:\n    engine = create_engine(URL)'
    ),
    "factory-parameter": (
        'from sqlalchemy.pool import StaticPool\n\n\ndef make_engine(url: str):\n'
        '    return create_engine(url, poolclass=StaticPool)\n\n\nengine = make_engine(__import__("os").environ["DATABASE_URL"])'
    ),
}


def follow_ups(cli, project, app_files, engine: str) -> list[str]:  # type: ignore[no-untyped-def]
    source = ENGINE.replace('engine = create_engine("sqlite:///./app.db")', engine)
    root = project({**app_files, "db/engine.py": source, "api/__init__.py": "", "api/items.py": ROUTES})
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    assert [h["action"] for h in document["handlers"]] == ["migrate"], document["handlers"]
    return document["subsystem"]["follow_ups"]


@pytest.mark.parametrize("engine", list(ENGINES))
def test_static_pool_on_a_runtime_url_says_the_async_engine_opens_another_database(cli, project, app_files, engine):
    notes = follow_ups(cli, project, app_files, ENGINES[engine])
    said = [n for n in notes if "poolclass=StaticPool" in n]
    assert len(said) == 1, notes
    assert "the async engine opens another, empty database" in said[0], said
    assert "set it by hand" not in said[0], said


def test_near_miss_static_pool_on_a_literal_file_url_is_carried_without_that_note(cli, project, app_files):
    engine = 'from sqlalchemy.pool import StaticPool\n\nengine = create_engine("sqlite:///./app.db", poolclass=StaticPool)'
    notes = follow_ups(cli, project, app_files, engine)
    assert not any("empty database" in n for n in notes), notes
