"""AM274 several-configure-binds: a sessionmaker bound to different engines by sessionmaker(...) and its
configure(bind=...) calls blocks phase two, naming every call; it never picks one."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app

BOUND = "database_sessionmaker = sessionmaker(engine, expire_on_commit=False)"


def engine(*lines: str, bound: str = BOUND) -> str:
    return ENGINE.replace(BOUND, "\n".join([bound, *lines]))


def test_a_configure_call_rebinding_the_sessionmaker_to_another_engine_blocks_with_am274(tmp_path):
    replica = engine("replica = create_engine(DATABASE_URL + '-replica')", "database_sessionmaker.configure(bind=replica)")
    message = only_blocker(plan_for(stack_app(tmp_path, replica)), "AM274")
    assert message.startswith(
        "db/engine.py:9: `database_sessionmaker` is bound to more than one engine: "
        "`database_sessionmaker = sessionmaker(engine, ...)` (db/engine.py:9); "
        "`database_sessionmaker.configure(bind=replica)` (db/engine.py:11)"
    ), message


def test_two_configure_calls_on_an_unbound_sessionmaker_block_with_am274(tmp_path):
    two = engine(
        "replica = create_engine(DATABASE_URL + '-replica')",
        "database_sessionmaker.configure(bind=engine)",
        "",
        "",
        "def read_from_replica() -> None:",
        "    database_sessionmaker.configure(bind=replica)",
        bound="database_sessionmaker = sessionmaker(expire_on_commit=False)",
    )
    message = only_blocker(plan_for(stack_app(tmp_path, two)), "AM274")
    assert "`database_sessionmaker.configure(bind=engine)` (db/engine.py:11)" in message, message
    assert "`database_sessionmaker.configure(bind=replica)` (db/engine.py:15, in `read_from_replica()`)" in message


def test_near_miss_configure_binding_the_same_engine_again_is_one_engine(tmp_path):
    again = engine("database_sessionmaker.configure(bind=engine)")
    plan = plan_for(stack_app(tmp_path, again))
    assert plan.ok, plan.blockers
    assert plan.engine_edit[1].sync_engine == "engine"


def test_near_miss_a_test_rebinding_the_sessionmaker_is_not_the_application(tmp_path):
    conftest = (
        "from sqlalchemy import create_engine\n\nfrom db.engine import database_sessionmaker\n\n"
        'database_sessionmaker.configure(bind=create_engine("sqlite://"))\n'
    )
    plan = plan_for(stack_app(tmp_path, ENGINE, tests__conftest=conftest))
    assert plan.ok, plan.blockers
