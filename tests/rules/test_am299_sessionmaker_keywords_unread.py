"""AM299 sessionmaker-keywords-unread: keywords phase two cannot write to the async sessionmaker block it."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app

SYNC_MAKER = "database_sessionmaker = sessionmaker(engine, expire_on_commit=False)"


def _engine(maker: str) -> str:
    assert SYNC_MAKER in ENGINE
    return ENGINE.replace(SYNC_MAKER, maker)


def test_a_mapping_unpacked_into_the_sessionmaker_blocks_with_am299(tmp_path):
    maker = 'OPTIONS = {"autoflush": False}\ndatabase_sessionmaker = sessionmaker(engine, **OPTIONS)'
    message = only_blocker(plan_for(stack_app(tmp_path, _engine(maker))), "AM299")
    assert message.startswith("db/engine.py:10: the sessionmaker `database_sessionmaker` is built with `**OPTIONS`")


def test_near_miss_the_sessions_own_keywords_are_carried_as_written(tmp_path):
    maker = 'database_sessionmaker = sessionmaker(engine, twophase=True, autoflush=False, info={"app": "shop"})'
    plan = plan_for(stack_app(tmp_path, _engine(maker)))
    assert plan.ok, plan.blockers
    assert plan.engine_edit[1].session_kwargs == (
        ("twophase", "True"), ("autoflush", "False"), ("info", '{"app": "shop"}'),
    )
