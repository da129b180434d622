"""AM232 name-taken: a name phase two would generate that already means something else blocks it."""

from __future__ import annotations

from test_async_stack import ENGINE, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app

from async_migrate.codemods.config import parse


def test_generated_names_already_assigned_block_with_am232(tmp_path):
    engine = ENGINE + "\n\nasync_engine = None  # not an engine\nget_async_db_session = object()\n"
    plan = plan_for(stack_app(tmp_path, engine))
    assert {b.code for b in plan.blockers} == {"AM232"}
    assert [str(b) for b in plan.blockers] == [
        "db/engine.py:18: `get_async_db_session` is assigned here and is not an async session dependency "
        "phase two can reuse; phase two would generate its async session dependency under this name: choose another with "
        "[tool.async-migrate] async-dependency",
        "db/engine.py:17: `async_engine` is assigned here and is not an async engine phase two can reuse; phase "
        "two would generate its async engine under this name: choose another with [tool.async-migrate] async-engine",
    ]
    assert plan.edits() == {}


def test_near_miss_other_names_configured_for_the_generated_pieces(tmp_path):
    engine = ENGINE + "\n\nasync_engine = None  # not an engine\nget_async_db_session = object()\n"
    config = parse({"async-engine": "db_async_engine", "async-dependency": "get_db_async_session"})
    plan = plan_for(stack_app(tmp_path, engine), config)
    assert plan.ok, plan.blockers
    assert (plan.engine_edit[1].engine, plan.engine_edit[1].dependency) == ("db_async_engine", "get_db_async_session")


def test_a_generated_name_bound_to_a_url_string_blocks_with_am232(tmp_path):
    # Not a value the facts keep: reusing it, `async_sessionmaker(async_engine, ...)` got a str.
    engine = ENGINE + '\n\nasync_engine = "sqlite+aiosqlite:///./app.db"  # a URL, not an engine\n'
    plan = plan_for(stack_app(tmp_path, engine))
    assert [str(b) for b in plan.blockers] == [
        "db/engine.py:17: `async_engine` is assigned here and is not an async engine phase two can reuse; phase "
        "two would generate its async engine under this name: choose another with [tool.async-migrate] async-engine",
    ]
    assert plan.edits() == {}


def test_a_generated_name_a_function_writes_as_a_global_blocks_with_am232(tmp_path):
    engine = ENGINE + "\n\ndef connect():\n    global async_database_sessionmaker\n    async_database_sessionmaker = 1\n"
    plan = plan_for(stack_app(tmp_path, engine))
    assert [b.code for b in plan.blockers] == ["AM232"], plan.blockers
    assert "`async_database_sessionmaker` is bound by `global async_database_sessionmaker; " in str(plan.blockers[0])
    assert plan.edits() == {}


def test_near_miss_a_string_under_another_name_leaves_the_stack_generated(tmp_path):
    engine = ENGINE + '\n\nASYNC_URL = "sqlite+aiosqlite:///./app.db"\n'
    plan = plan_for(stack_app(tmp_path, engine))
    assert plan.ok, plan.blockers
    assert plan.engine_edit[1].add_engine and plan.engine_edit[1].engine == "async_engine"
