"""The synchronous engine and the Session factory.

``TASKBOARD_DATABASE_URL`` selects the database. Without it the service uses a
SQLite file, ``TASKBOARD_SQLITE_PATH`` (default: ``taskboard.db`` in the
application root), which is what local development and the test suite use.
"""

import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

APP_ROOT = Path(__file__).resolve().parent.parent

SQLITE_PATH = Path(os.environ.get("TASKBOARD_SQLITE_PATH", str(APP_ROOT / "taskboard.db"))).resolve()

DATABASE_URL = os.environ.get("TASKBOARD_DATABASE_URL", "sqlite:///" + str(SQLITE_PATH))


def build_engine(raw_url: str) -> Engine:
    url = make_url(raw_url)
    if url.get_backend_name() == "sqlite":
        # Sessions may be opened on the event loop and used in a threadpool worker.
        return create_engine(url, connect_args={"check_same_thread": False})
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


engine = build_engine(DATABASE_URL)

# Objects outlive the short Sessions of the model layer, so commits must not expire them.
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """Yield one Session and close it afterwards."""
    session = SessionLocal()
    try:
        yield session
    finally:
        session.close()
