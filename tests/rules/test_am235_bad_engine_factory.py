"""AM235 bad-engine-factory: an async-engine-factory that is an `async def` or names nothing blocks phase two."""

from __future__ import annotations

from test_async_stack import app as stack_app
from test_async_stack import only_blocker, plan_for  # the async stack's tiny application

from async_migrate.codemods.config import parse


def test_an_async_or_missing_engine_factory_blocks_with_am235(tmp_path):
    root = stack_app(tmp_path, db__cloud="async def make_async_engine():\n    return None\n")
    message = only_blocker(plan_for(root, parse({"async-engine-factory": "db.cloud.make_async_engine"})), "AM235")
    assert message.startswith(
        "db/cloud.py:1: async-engine-factory `db.cloud.make_async_engine` is an `async def`"
    )
    message = only_blocker(plan_for(root, parse({"async-engine-factory": "db.nowhere.make"})), "AM235")
    assert message == (
        "configuration: async-engine-factory `db.nowhere.make`: no module `db/nowhere.py` under the root"
    )


def test_near_miss_a_plain_def_factory_builds_the_async_engine(tmp_path):
    root = stack_app(tmp_path, db__cloud="def make_async_engine():\n    return None\n")
    plan = plan_for(root, parse({"async-engine-factory": "db.cloud.make_async_engine"}))
    assert plan.ok, plan.blockers
    assert plan.engine_edit[1].factory == "db.cloud.make_async_engine"
