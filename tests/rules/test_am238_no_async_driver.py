"""AM238 no-async-driver: an engine URL whose driver has no asyncio counterpart blocks phase two."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app


def test_a_driver_without_an_asyncio_counterpart_blocks_with_am238(tmp_path):
    engine = ENGINE.replace("create_engine(DATABASE_URL,", 'create_engine("mssql+pymssql://u@h/db",')
    message = only_blocker(plan_for(stack_app(tmp_path, engine)), "AM238")
    assert message.startswith(
        "db/engine.py:8: engine URL uses `mssql+pymssql`, which has no asyncio driver"
    )


def test_near_miss_a_driver_with_an_asyncio_counterpart(tmp_path):
    engine = ENGINE.replace("create_engine(DATABASE_URL,", 'create_engine("postgresql+psycopg2://u@h/db",')
    plan = plan_for(stack_app(tmp_path, engine))
    assert plan.ok, plan.blockers
    assert [(d.sync, d.async_) for d in plan.drivers] == [("postgresql+psycopg2", "postgresql+psycopg")]
