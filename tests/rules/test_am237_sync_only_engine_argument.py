"""AM237 sync-only-engine-argument: create_engine(creator=...) or module=..., which an async engine cannot take, blocks phase two."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app


def test_an_engine_built_with_creator_blocks_with_am237(tmp_path):
    engine = ENGINE.replace(
        "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
        "def connect():\n    return make_connection()\n\n\n"
        'engine = create_engine("postgresql+psycopg://", creator=connect)',
    )
    message = only_blocker(plan_for(stack_app(tmp_path, engine)), "AM237")
    assert message == (
        "db/engine.py:12: engine is built with creator=connect, which create_async_engine cannot take "
        "(it needs async_creator=, an async function returning a driver connection); name an async "
        "engine factory in [tool.async-migrate] async-engine-factory"
    )


def test_near_miss_an_engine_with_keywords_an_async_engine_takes(tmp_path):
    engine = ENGINE.replace(
        "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
        'engine = create_engine("postgresql+psycopg://", pool_pre_ping=True)',
    )
    plan = plan_for(stack_app(tmp_path, engine))
    assert plan.ok, plan.blockers
    assert plan.engine_edit[1].engine_kwargs == (("pool_pre_ping", "True"),)
