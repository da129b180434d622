"""AM234 sessionmaker-bound-to-local: a sessionmaker bound to an expression, not a module-level engine, blocks phase two."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app


def test_a_sessionmaker_bound_to_a_factory_call_blocks_with_am234(tmp_path):
    factory = ENGINE.replace("sessionmaker(engine,", "sessionmaker(make_engine(),").replace(
        "engine = create_engine(", "def make_engine():\n    return create_engine("
    ).replace("pool_pre_ping=True)\n", "pool_pre_ping=True)\n\n\n", 1)
    message = only_blocker(plan_for(stack_app(tmp_path, factory)), "AM234")
    assert message.startswith(
        "db/engine.py:12: `database_sessionmaker` is bound to `make_engine()`, not to a module-level engine"
    ), message


def test_near_miss_a_sessionmaker_building_its_engine_inline(tmp_path):
    # The sessionmaker holds the engine it built: the async engine reads its URL there.
    inline = ENGINE.replace("sessionmaker(engine,", "sessionmaker(create_engine(DATABASE_URL, pool_pre_ping=True),")
    plan = plan_for(stack_app(tmp_path, inline))
    assert plan.ok, plan.blockers
    assert plan.engine_edit[1].sync_engine == 'database_sessionmaker.kw["bind"]'
    assert plan.engine_edit[1].engine_kwargs == (("pool_pre_ping", "True"),)


def test_near_miss_a_sessionmaker_bound_to_a_module_level_engine(tmp_path):
    plan = plan_for(stack_app(tmp_path, ENGINE))
    assert plan.ok, plan.blockers
    assert plan.engine_edit[1].sync_engine == "engine"


def test_a_configure_call_that_may_bind_through_unpacked_options_blocks_with_am234(tmp_path):
    options = ENGINE.replace(
        "database_sessionmaker = sessionmaker(engine, expire_on_commit=False)",
        'database_sessionmaker = sessionmaker()\nOPTIONS = {"bind": engine}\ndatabase_sessionmaker.configure(**OPTIONS)',
    )
    message = only_blocker(plan_for(stack_app(tmp_path, options)), "AM234")
    assert message.startswith(
        "db/engine.py:11: `database_sessionmaker` (db/engine.py:9) gets its engine from "
        "`database_sessionmaker.configure(**OPTIONS)` (db/engine.py:11), which may bind it through "
        "`**OPTIONS`, which phase two cannot read"
    ), message
