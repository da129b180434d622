"""AM236 cloud-sql-connector: an engine connecting through the Cloud SQL Python Connector blocks phase two."""

from __future__ import annotations

from test_async_stack import app as stack_app
from test_async_stack import only_blocker, plan_for  # the async stack's tiny application


def test_the_cloud_sql_connector_blocks_with_am236(tmp_path):
    engine = """
        import os

        from google.cloud.sql.connector import Connector
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker

        connector = Connector()


        def getconn():
            return connector.connect(os.environ["INSTANCE"], "pg8000", user="app", db="app")


        if os.environ.get("INSTANCE"):
            engine = create_engine("postgresql+pg8000://", creator=getconn)
        else:
            engine = create_engine(os.environ["DATABASE_URL"])
        database_sessionmaker = sessionmaker(engine)
    """
    message = only_blocker(plan_for(stack_app(tmp_path, engine)), "AM236")
    assert message.startswith("db/engine.py:1: the engine connects through the Cloud SQL Python Connector")
    assert "async_creator=" in message and "connect_async" in message and "async-engine-factory" in message


def test_near_miss_the_same_engine_from_an_environment_url(tmp_path):
    engine = """
        import os

        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker

        engine = create_engine(os.environ["DATABASE_URL"])
        database_sessionmaker = sessionmaker(engine)
    """
    plan = plan_for(stack_app(tmp_path, engine))
    assert plan.ok, plan.blockers
