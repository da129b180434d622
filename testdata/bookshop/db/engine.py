"""Engine configuration and the request-scoped session dependency.

The connection string comes from ``BOOKSHOP_DATABASE_URL``. Without it the
service falls back to a SQLite file next to the application root (or the path
given in ``BOOKSHOP_SQLITE_PATH``), which is what local development and the
test suite use.
"""

import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

APP_ROOT = Path(__file__).resolve().parent.parent

SQLITE_PATH = Path(os.environ.get("BOOKSHOP_SQLITE_PATH", str(APP_ROOT / "bookshop.db"))).resolve()

DATABASE_URL = os.environ.get("BOOKSHOP_DATABASE_URL", "sqlite:///" + str(SQLITE_PATH))

POOL_SIZE = int(os.environ.get("BOOKSHOP_DB_POOL_SIZE", "10"))
MAX_OVERFLOW = int(os.environ.get("BOOKSHOP_DB_MAX_OVERFLOW", "20"))


def normalise_database_url(raw_url: str) -> URL:
    """Parse ``raw_url`` and pin PostgreSQL URLs to the psycopg 3 driver."""
    if raw_url.startswith("postgres://"):
        # Some hosting providers still hand out the pre-SQLAlchemy-1.4 scheme.
        raw_url = "postgresql://" + raw_url.removeprefix("postgres://")
    url = make_url(raw_url)
    if url.get_backend_name() == "postgresql" and url.drivername != "postgresql+psycopg":
        url = url.set(drivername="postgresql+psycopg")
    return url


def build_engine(raw_url: str) -> Engine:
    """Create the synchronous engine used by the whole service."""
    url = normalise_database_url(raw_url)
    if url.get_backend_name() == "postgresql":
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
        )
    if url.get_backend_name() == "sqlite":
        # Sessions are created in one thread and may be used from another
        # (threadpool workers), so the same-thread check has to go.
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"check_same_thread": False},
        )
    return create_engine(url, pool_pre_ping=True)


engine = build_engine(DATABASE_URL)

database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    """Yield a session for the duration of one request."""
    with database_sessionmaker() as session:
        yield session
