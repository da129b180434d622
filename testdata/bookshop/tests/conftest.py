"""Shared fixtures: a fresh, seeded database per test and one TestClient.

The database comes from ``BOOKSHOP_DATABASE_URL`` when it is set (e.g. a
scratch PostgreSQL database); otherwise a throwaway SQLite file is used. The
schema is dropped and recreated before every test so that primary keys are the
same on every backend.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

APP_ROOT = Path(__file__).resolve().parents[1]
if str(APP_ROOT) not in sys.path:
    sys.path.insert(0, str(APP_ROOT))

_SCRATCH = Path(tempfile.mkdtemp(prefix="bookshop-tests-"))
# Each process importing this (a pytest-xdist worker, a run collecting only) removes its own.
atexit.register(shutil.rmtree, _SCRATCH, True)
if "BOOKSHOP_DATABASE_URL" not in os.environ:
    os.environ.setdefault("BOOKSHOP_SQLITE_PATH", str(_SCRATCH / "bookshop.db"))
os.environ["BOOKSHOP_STORAGE_DIR"] = str(_SCRATCH / "storage")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

import models  # noqa: E402
from db.base import Base  # noqa: E402
from db.engine import database_sessionmaker, engine  # noqa: E402
from main import app  # noqa: E402
from services import notifier  # noqa: E402

ADMIN = {"X-API-Key": "admin-key"}
READER = {"X-API-Key": "reader-key"}
CRITIC = {"X-API-Key": "critic-key"}

# (title, isbn, price_cents, stock, published_year, author index, tags)
BOOKS = [
    ("A Wizard of Earthsea", "9780547773742", 1099, 12, 1968, 0, ["fantasy", "classic"]),
    ("The Left Hand of Darkness", "9780441478125", 1299, 5, 1969, 0, ["science-fiction", "classic"]),
    ("Guards! Guards!", "9780062225757", 999, 0, 1989, 1, ["fantasy", "humour"]),
    ("Mort", "9780062225719", 899, 7, 1987, 1, ["fantasy", "humour"]),
    ("Kindred", "9780807083697", 1599, 3, 1979, 2, ["science-fiction", "classic"]),
    ("Parable of the Sower", "9781538732182", 1499, 9, 1993, 2, ["science-fiction", "dystopia"]),
]


def seed(session) -> None:
    """Insert the reference data set; ids follow insertion order."""
    authors = [
        models.Author(name="Ursula K. Le Guin", country="US", born_year=1929),
        models.Author(name="Terry Pratchett", country="GB", born_year=1948),
        models.Author(name="Octavia E. Butler", country="US", born_year=1947),
        models.Author(name="Zadie Smith", country="GB", born_year=1975),
    ]
    session.add_all(authors)
    session.flush()
    tags = {name: models.Tag(name=name) for name in ["fantasy", "classic", "science-fiction", "humour", "dystopia"]}
    session.add_all(tags.values())
    session.flush()
    users = [
        models.User(email="ada@example.com", name="Ada Admin", api_key="admin-key", is_admin=True),
        models.User(email="bob@example.com", name="Bob Reader", api_key="reader-key"),
        models.User(email="cleo@example.com", name="Cleo Critic", api_key="critic-key"),
    ]
    session.add_all(users)
    session.flush()
    books = []
    for title, isbn, price, stock, year, author, tag_names in BOOKS:
        book = models.Book(
            title=title, isbn=isbn, price_cents=price, stock=stock, published_year=year,
            author_id=authors[author].id, tags=[tags[name] for name in tag_names],
        )
        session.add(book)
        session.flush()
        books.append(book)
    # (book index, user index, rating)
    for book, user, rating in [(0, 1, 5), (0, 2, 4), (1, 2, 5), (2, 1, 3), (4, 1, 4), (4, 2, 5)]:
        session.add(models.Review(book_id=books[book].id, user_id=users[user].id, rating=rating, body="Seeded review"))
        session.flush()
    order = models.Order(user_id=users[1].id, total_cents=899)
    order.lines.append(models.OrderLine(book_id=books[3].id, quantity=1, unit_price_cents=899))
    session.add(order)
    session.commit()


def reset_database() -> None:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with database_sessionmaker() as session:
        seed(session)


@pytest.fixture(scope="session")
def client():
    with TestClient(app) as test_client:
        yield test_client
    engine.dispose()
    shutil.rmtree(_SCRATCH, ignore_errors=True)


@pytest.fixture(autouse=True)
def fresh_database(client):
    reset_database()
    notifier.clear()
    yield


@pytest.fixture
def storage_dir(monkeypatch, tmp_path):
    """Point the asset storage at an empty per-test directory."""
    path = tmp_path / "storage"
    monkeypatch.setenv("BOOKSHOP_STORAGE_DIR", str(path))
    return path
