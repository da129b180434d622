"""AM233 unbound-sessionmaker: a sessionmaker bound to no engine leaves no engine to derive the async one from."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app


def test_a_sessionmaker_bound_to_no_engine_blocks_with_am233(tmp_path):
    unbound = ENGINE.replace("sessionmaker(engine, expire_on_commit=", "sessionmaker(expire_on_commit=")
    message = only_blocker(plan_for(stack_app(tmp_path, unbound)), "AM233")
    assert message.startswith(
        "db/engine.py:9: `database_sessionmaker = sessionmaker(...)` is not bound to an engine"
    )


def test_near_miss_a_sessionmaker_bound_with_bind_keyword(tmp_path):
    bound = ENGINE.replace("sessionmaker(engine, expire_on_commit=", "sessionmaker(bind=engine, expire_on_commit=")
    plan = plan_for(stack_app(tmp_path, bound))
    assert plan.ok, plan.blockers
    assert plan.engine_edit[1].sync_engine == "engine"
