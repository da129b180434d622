"""AM275 configure-bind-import-cycle: configure(bind=engine) naming an engine whose module imports the
sessionmaker's blocks phase two: the async engine, beside the sessionmaker, could not import it."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app

UNBOUND = ENGINE.replace(
    "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)\n", ""
).replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(expire_on_commit=False)")
STARTUP = """
from sqlalchemy import create_engine

from core.settings import DATABASE_URL
from db.engine import database_sessionmaker

engine = create_engine(DATABASE_URL)
database_sessionmaker.configure(bind=engine)
"""


def test_an_engine_defined_beside_the_configure_call_that_imports_the_sessionmaker_blocks_with_am275(tmp_path):
    message = only_blocker(plan_for(stack_app(tmp_path, UNBOUND, app__startup=STARTUP)), "AM275")
    assert message.startswith(
        "app/startup.py:7: `database_sessionmaker.configure(bind=engine)` (app/startup.py:7) binds `engine`, "
        "defined in app/startup.py, which imports db/engine.py"
    ), message


def test_near_miss_an_engine_in_a_module_of_its_own_is_imported_by_the_async_engine(tmp_path):
    engine_module = "from sqlalchemy import create_engine\n\nfrom core.settings import DATABASE_URL\n\nengine = create_engine(DATABASE_URL)\n"
    startup = STARTUP.replace("\nengine = create_engine(DATABASE_URL)\n", "from db.base import engine\n\n").replace(
        "from sqlalchemy import create_engine\n\n", ""
    )
    plan = plan_for(stack_app(tmp_path, UNBOUND, app__startup=startup, db__base=engine_module))
    assert plan.ok, plan.blockers
    edit = plan.engine_edit[1]
    assert (edit.sync_engine, edit.sync_engine_module) == ("engine", "db.base")
