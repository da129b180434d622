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


def _bound_at_startup(declared_global: bool) -> str:
    globally = "    global engine\n" if declared_global else ""
    return ENGINE.replace(
        "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)\n"
        "database_sessionmaker = sessionmaker(engine, expire_on_commit=False)\n",
        "engine = None\ndatabase_sessionmaker = sessionmaker(expire_on_commit=False)\n\n\n"
        f"def init_db(url: str) -> None:\n{globally}"
        "    engine = create_engine(url, pool_pre_ping=True)\n"
        "    database_sessionmaker.configure(bind=engine)\n",
    )


def test_a_configure_call_binding_an_engine_assigned_through_global_names_the_assignment(tmp_path):
    # `global engine` makes `engine` the module's name, but `None` at import: the reason said "local to
    # `init_db()`" and advised assigning it to a module-level name, which the code already does.
    message = only_blocker(plan_for(stack_app(tmp_path, _bound_at_startup(True))), "AM234")
    assert "which binds `engine`, the module-level name `init_db()` assigns at run time (`global engine`): at " \
           "import, where the async engine is built, no engine is there yet" in message, message
    assert "build the engine at import, at module level, and bind that" in message
    assert "local to" not in message


def test_near_miss_a_configure_call_binding_a_local_engine_says_local(tmp_path):
    message = only_blocker(plan_for(stack_app(tmp_path, _bound_at_startup(False))), "AM234")
    assert "which binds `engine`, local to `init_db()`" in message, message
    assert "assign the engine to a module-level name and bind that" in message


def test_an_engine_built_at_import_and_rebound_through_global_at_startup_blocks(tmp_path):
    # The sessionmaker's engine at run time is init_db()'s, not the one built at import: an async
    # engine made from the import-time one would reach another database.
    rebound = _bound_at_startup(True).replace("engine = None\n", "engine = create_engine(DATABASE_URL)\n")
    message = only_blocker(plan_for(stack_app(tmp_path, rebound)), "AM234")
    assert "the module-level name `init_db()` assigns at run time (`global engine`)" in message, message
