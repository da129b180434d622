"""AM230 no-sessionmaker: no module-level sessionmaker to build the async stack beside blocks phase two."""

from __future__ import annotations

from test_async_stack import (  # the async stack's tiny application
    SESSION_CLASS_ENGINE,
    only_blocker,
    plan_for,
)
from test_async_stack import app as stack_app


def test_a_session_opened_on_an_engine_factory_blocks_with_am230(tmp_path):
    engine = SESSION_CLASS_ENGINE.replace(
        "engine = create_engine(\"sqlite:///app.db\")", "def make_engine():\n        return create_engine(\"sqlite://\")"
    ).replace("with Session(engine) as session:", "with Session(make_engine()) as session:")
    message = only_blocker(plan_for(stack_app(tmp_path, engine)), "AM230")
    # the engine factory is the cause: a sessionmaker bound to `make_engine()` would be refused next (AM234)
    assert message.startswith(
        "db/engine.py:11: `get_db_session` opens `Session(make_engine(), ...)` on the engine `make_engine()` returns"
    ), message
    assert "(`engine = make_engine()`) and open `Session(engine, ...)`" in message
    assert "[tool.async-migrate] async-engine-factory" in message and "sessionmakers" not in message


def test_near_miss_a_session_opened_on_a_module_level_engine_gets_the_stack(tmp_path):
    plan = plan_for(stack_app(tmp_path, SESSION_CLASS_ENGINE))
    assert plan.ok, plan.blockers
    assert plan.engine_edit is not None and plan.engine_edit[1].anchor == "get_db_session"
