"""AM276 configured-sessionmaker-not-found: a [tool.async-migrate] sessionmakers name that names nothing blocks phase two."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app

from async_migrate.codemods.config import parse

HELD = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker


class Database:
    def __init__(self, url):
        self.engine = create_engine(url)
        self.SessionLocal = sessionmaker(bind=self.engine)


db = Database("sqlite:///app.db")


def get_db_session():
    with db.SessionLocal() as session:
        yield session
"""


def test_a_configured_sessionmaker_that_names_nothing_blocks_with_am276(tmp_path):
    root = stack_app(tmp_path, HELD)
    message = only_blocker(plan_for(root, parse({"sessionmakers": ["db.engine.Database.SessionLocal"]})), "AM276")
    assert message.startswith(
        "configuration: sessionmakers names `db.engine.Database.SessionLocal`, which phase two does not find"
    ), message
    assert "name it through the instance, `db.engine.db.SessionLocal`" in message
    message = only_blocker(plan_for(root, parse({"sessionmakers": ["db.engine.SessionLocl"]})), "AM276")
    assert "`db.engine.SessionLocl`" in message


def test_near_miss_configured_names_the_project_binds(tmp_path):
    assert plan_for(stack_app(tmp_path, HELD), parse({"sessionmakers": ["db.engine.db.SessionLocal"]})).ok
    plan = plan_for(stack_app(tmp_path, ENGINE), parse({"sessionmakers": ["db.engine.database_sessionmaker"]}))
    assert plan.ok, plan.blockers
