"""AM231 several-sessionmakers: two synchronous sessionmakers feeding the session dependencies block phase two."""

from __future__ import annotations

from test_async_stack import (  # the async stack's tiny application
    DEPENDENCIES,
    ENGINE,
    SETTINGS,
    only_blocker,
    plan_for,
    write,
)


def test_two_sessionmakers_feeding_dependencies_block_with_am231(tmp_path):
    files = {
        "db/engine.py": ENGINE
        + "\n\nother_sessionmaker = sessionmaker(engine)\n\n\n"
        + "def get_other() -> Iterator[Session]:\n"
        + "    with other_sessionmaker() as session:\n"
        + "        yield session\n",
        "core/settings.py": SETTINGS,
        "core/dependencies.py": DEPENDENCIES
        + "\nother_dependency = Annotated[Session, Depends(get_other)]\n",
    }
    files["core/dependencies.py"] = files["core/dependencies.py"].replace(
        "import get_db_session", "import get_db_session, get_other"
    )
    message = only_blocker(plan_for(write(tmp_path / "app", files)), "AM231")
    assert "several synchronous sessionmakers (`database_sessionmaker` (db/engine.py:9), " in message
    assert "`other_sessionmaker` (db/engine.py:17)) feed the session dependencies" in message


def test_near_miss_a_second_sessionmaker_no_dependency_opens(tmp_path):
    files = {
        "db/engine.py": ENGINE + "\n\nother_sessionmaker = sessionmaker(engine)\n",
        "core/settings.py": SETTINGS,
        "core/dependencies.py": DEPENDENCIES,
    }
    plan = plan_for(write(tmp_path / "app", files))
    assert plan.ok, plan.blockers
    assert plan.sessionmaker is not None and plan.sessionmaker.name == "database_sessionmaker"
