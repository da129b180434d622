"""Shared fixtures: a fresh, seeded database per test and one TestClient.

``TASKBOARD_DATABASE_URL`` selects the database (e.g. a scratch PostgreSQL
database); without it a throwaway SQLite file is used. The schema is dropped and
recreated (on PostgreSQL and MariaDB/MySQL: truncated, restarting identities)
before every test so that primary keys are the same on every backend.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

APP_ROOT = Path(__file__).resolve().parents[1]
if str(APP_ROOT) not in sys.path:
    sys.path.insert(0, str(APP_ROOT))

_SCRATCH = Path(tempfile.mkdtemp(prefix="taskboard-tests-"))
if "TASKBOARD_DATABASE_URL" not in os.environ:
    os.environ.setdefault("TASKBOARD_SQLITE_PATH", str(_SCRATCH / "taskboard.db"))

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

import models  # noqa: E402
from db.base import Base  # noqa: E402
from db.engine import SessionLocal, engine  # noqa: E402
from main import app  # noqa: E402
from services import digest, notifier  # noqa: E402

ADA = {"X-Token": "ada-token"}  # admin, owns project 1
BO = {"X-Token": "bo-token"}  # owns project 2
CY = {"X-Token": "cy-token"}

# (project index, title, status, priority, assignee index or None, label names)
TASKS = [
    (0, "Pick a colour scheme", "done", 2, 1, ["feature"]),
    (0, "Fix broken footer links", "doing", 1, 1, ["bug"]),
    (0, "Write the launch post", "todo", 3, 2, []),
    (0, "Update the privacy page", "todo", 2, None, ["chore"]),
    (1, "Offline mode", "todo", 1, 0, ["feature"]),
    (1, "Crash on rotate", "doing", 1, 2, ["bug", "feature"]),
]


if engine.dialect.name == "sqlite":

    @event.listens_for(engine, "connect")
    def _no_fsync(dbapi_connection, connection_record) -> None:
        # The throwaway test database needs no durability; every reset would otherwise wait on the disk.
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def seed(db) -> None:
    """Insert the reference data set; ids follow insertion order."""
    users = [
        models.User(email="ada@example.com", name="Ada", token="ada-token", is_admin=True),
        models.User(email="bo@example.com", name="Bo", token="bo-token"),
        models.User(email="cy@example.com", name="Cy", token="cy-token"),
    ]
    db.add_all(users)
    db.flush()
    labels = {
        name: models.Label(name=name, color=color)
        for name, color in [("bug", "#d73a4a"), ("chore", "#cccccc"), ("feature", "#0e8a16")]
    }
    db.add_all(labels.values())
    db.flush()
    projects = [
        models.Project(name="Website relaunch", description="New site for spring", owner_id=users[0].id),
        models.Project(name="Mobile app", description="", owner_id=users[1].id),
        models.Project(name="Old intranet", description="", owner_id=users[0].id, archived=True),
    ]
    db.add_all(projects)
    db.flush()
    for project, title, status, priority, assignee, label_names in TASKS:
        db.add(
            models.Task(
                project_id=projects[project].id,
                title=title,
                status=status,
                priority=priority,
                assignee_id=None if assignee is None else users[assignee].id,
                labels=[labels[name] for name in label_names],
            )
        )
        db.flush()
    db.add(models.Comment(task_id=2, author_id=users[2].id, body="Footer links point at the old domain"))
    db.add(models.ActivityEvent(project_id=projects[0].id, kind="project.created", detail="seed"))
    db.commit()


def reset_database() -> None:
    if engine.dialect.name == "postgresql":
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    elif engine.dialect.name in ("mysql", "mariadb"):
        with engine.begin() as connection:
            connection.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            for table in Base.metadata.sorted_tables:
                connection.execute(text(f"TRUNCATE TABLE `{table.name}`"))
            connection.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
    else:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
    with SessionLocal() as db:
        seed(db)


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
    digest.clear()
    yield


@pytest.fixture
def db():
    """A Session for reading back what a request wrote."""
    with SessionLocal() as session:
        yield session
