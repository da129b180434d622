"""AM273 in-memory-sqlite: an in-memory SQLite database that StaticPool shares blocks phase two's stack:
the async engine would open another, empty database."""

from __future__ import annotations

import pytest
from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app

SYNC = "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)"


def engine(url: str, pool: str = "poolclass=StaticPool") -> str:
    built = f'engine = create_engine({url}, connect_args={{"check_same_thread": False}}, {pool})'
    return "import os\n\nfrom sqlalchemy.pool import StaticPool\n" + ENGINE.replace(SYNC, built)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ('"sqlite://"', '"sqlite://"'),
        ('"sqlite:///:memory:"', '"sqlite:///:memory:"'),
        ('"sqlite+pysqlite:///:memory:"', '"sqlite+pysqlite:///:memory:"'),
        ('os.environ.get("DATABASE_URL", "sqlite://")', '"sqlite://" (the default when DATABASE_URL is unset)'),
    ],
)
def test_an_in_memory_database_shared_through_static_pool_blocks_with_am273(tmp_path, url, shown):
    message = only_blocker(plan_for(stack_app(tmp_path, engine(url))), "AM273")
    assert message.startswith(
        f"db/engine.py:12: engine URL {shown} is an in-memory SQLite database that poolclass=StaticPool shares "
        "between Sessions; the async engine would open another, empty database"
    ), message
    assert "use a file or server database" in message


@pytest.mark.parametrize(
    "url",
    ['"sqlite:///./app.db"', 'os.environ.get("DATABASE_URL", "sqlite:///./app.db")', "DATABASE_URL"],
)
def test_near_miss_a_file_database_migrates(tmp_path, url):
    plan = plan_for(stack_app(tmp_path, engine(url)))
    assert plan.ok, plan.blockers
    assert plan.edits()


def test_near_miss_in_memory_without_static_pool_is_a_note(tmp_path):
    plan = plan_for(stack_app(tmp_path, engine('"sqlite://"', "echo=False")))
    assert plan.ok, plan.blockers
    assert any("opens an in-memory SQLite database" in note for note in plan.notes), plan.notes


def test_an_in_memory_default_read_through_a_name_and_a_branch_blocks_with_am273(tmp_path):
    # The ported-service shape: the URL read once into a name, StaticPool on the branch for the
    # in-memory default. Tests run on that default, where the async engine saw an empty database.
    built = (
        'URL = os.environ.get("DATABASE_URL", "sqlite://")\n'
        'if URL == "sqlite://":\n'
        '    engine = create_engine(URL, connect_args={"check_same_thread": False}, poolclass=StaticPool)\n'
        "else:\n"
        "    engine = create_engine(URL)"
    )
    text = "import os\n\nfrom sqlalchemy.pool import StaticPool\n" + ENGINE.replace(SYNC, built)
    message = only_blocker(plan_for(stack_app(tmp_path, text)), "AM273")
    assert 'engine URL "sqlite://" (the default when DATABASE_URL is unset) is an in-memory SQLite' in message, message
