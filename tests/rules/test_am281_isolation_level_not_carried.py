"""AM281 isolation-level-not-carried: an engine's `isolation_level=` the async engine cannot be given blocks phase two."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app

SESSION_MODULE = ENGINE.replace(
    "from core.settings import DATABASE_URL\n\nengine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
    "from db.base import engine",
)


def _base(level: str, isolation: str = '"SERIALIZABLE"') -> str:
    return (
        "import os\n\nfrom sqlalchemy import create_engine\n\nfrom core.settings import DATABASE_URL\n\n"
        f'ISOLATION = {isolation}\nengine = create_engine(DATABASE_URL, isolation_level={level})\n'
    )


def test_a_level_named_in_the_engines_own_module_blocks_with_am281(tmp_path):
    base = _base("ISOLATION", 'os.environ.get("ISOLATION", "SERIALIZABLE")')
    plan = plan_for(stack_app(tmp_path, SESSION_MODULE, db__base=base))
    message = only_blocker(plan, "AM281")
    assert message.startswith("db/base.py:8: the engine is built with `isolation_level=ISOLATION`, which cannot be written")


def test_a_level_named_in_the_engines_own_module_and_bound_once_to_a_literal_is_carried(tmp_path):
    plan = plan_for(stack_app(tmp_path, SESSION_MODULE, db__base=_base("ISOLATION")))
    assert plan.ok, plan.blockers
    assert ("isolation_level", '"SERIALIZABLE"') in plan.engine_edit[1].engine_kwargs


def test_a_level_passed_on_some_paths_only_blocks_with_am281(tmp_path):
    engine = ENGINE.replace(
        "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
        'if DATABASE_URL.startswith("postgresql"):\n'
        '    engine = create_engine(DATABASE_URL, isolation_level="SERIALIZABLE")\n'
        "else:\n"
        "    engine = create_engine(DATABASE_URL)",
    )
    assert "database's default isolation level" in only_blocker(plan_for(stack_app(tmp_path, engine)), "AM281")


def test_near_miss_a_literal_level_is_carried(tmp_path):
    plan = plan_for(stack_app(tmp_path, SESSION_MODULE, db__base=_base('"SERIALIZABLE"')))
    assert plan.ok, plan.blockers
    assert ("isolation_level", '"SERIALIZABLE"') in plan.engine_edit[1].engine_kwargs
