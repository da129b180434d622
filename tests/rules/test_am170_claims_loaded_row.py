"""AM170 claims-loaded-row: a converted handler assigning a column its query's WHERE tested gets a note."""

from __future__ import annotations

import pytest

MODELS = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class OutboxEvent(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(default="")
    published: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(default="pending")
    claimed_by: Mapped[str | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
"""

REPO = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OutboxEvent


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def pending(self):
        return self.session.scalars(select(OutboxEvent).where(OutboxEvent.published == False)).all()

    def mark(self, event: OutboxEvent) -> None:
        event.published = True


def publish(event: OutboxEvent) -> None:
    print(event.topic)
"""

ROUTE = """
from sqlalchemy import select, update

import models
from models import OutboxEvent
from repo import OutboxRepository, publish


@router.post("/admin/outbox/drain")
async def drain(db: session_dependency, worker: str = "w"):
    {body}
    db.commit()
"""

LINE = 17  # of the body's first statement

PENDING = "events = db.scalars(select(OutboxEvent).where(OutboxEvent.published == False).limit(100)).all()"


def _root(app, body: str):  # type: ignore[no-untyped-def]
    return app(ROUTE.format(body=body), {"models.py": MODELS, "repo.py": REPO})


@pytest.mark.parametrize("body, column, kind", [
    (PENDING + "\n    for e in events:\n        publish(e)\n        e.published = True", "published", "select"),
    ("events = db.scalars(select(OutboxEvent).where(OutboxEvent.status == 'pending')).all()\n"
     "    for e in events:\n        e.status = 'sent'", "status", "select"),
    ("events = db.scalars(select(models.OutboxEvent).where(models.OutboxEvent.claimed_by.is_(None))).all()\n"
     "    for e in events:\n        e.claimed_by = worker", "claimed_by", "select"),
    ("events = db.query(OutboxEvent).filter_by(status='pending').all()\n"
     "    for e in events:\n        e.status = 'sent'", "status", "query"),
    ("e = db.scalars(select(OutboxEvent).where(OutboxEvent.published == False)).first()\n"
     "    e.published = True", "published", "select"),
])
def test_a_converted_route_claiming_loaded_rows_gets_the_note(app, reported, body, column, kind):
    entry = reported(_root(app, body), "drain", "phase1")
    assert entry["action"] == "convert" and "AM170" in entry["codes"] and "AM169" not in entry["codes"], entry
    note = entry["reasons"][entry["codes"].index("AM170")]
    entity = "models.OutboxEvent" if "models.OutboxEvent" in body else "OutboxEvent"
    assert note.startswith(
        f"loads `e` (a OutboxEvent, api/items.py:{LINE}) by a query whose WHERE tests `{entity}.{column}`, "
        f"and assigns `e.{column}` at api/items.py:"
    ), note
    assert ": as def, concurrent requests of a worker interleave in the threadpool" in note, note
    assert f"`.with_for_update(skip_locked=True)` on the {kind} of api/items.py:{LINE}" in note, note
    assert f"`db.scalars(update({entity}).where(<the {kind}'s WHERE>).values({column}=...).returning({entity}))`" in note


def test_a_repository_loading_and_a_method_marking_the_handed_row_is_followed(app, reported):
    body = "repo = OutboxRepository(db)\n    for event in repo.pending():\n        publish(event)\n        repo.mark(event)"
    entry = reported(_root(app, body), "drain", "phase1")
    assert entry["action"] == "convert" and "AM170" in entry["codes"], entry
    assert entry["reasons"][entry["codes"].index("AM170")].startswith(
        "loads `event` (a OutboxEvent, repo.py:12) by a query whose WHERE tests `OutboxEvent.published`, and "
        f"assigns `event.published` through `repo.OutboxRepository.mark` (api/items.py:{LINE + 3}) at repo.py:15: a claim"
    ), entry


@pytest.mark.parametrize("body", [
    # the WHERE's column is not the one assigned
    "events = db.scalars(select(OutboxEvent).where(OutboxEvent.topic == 'mail')).all()\n"
    "    for e in events:\n        e.published = True",
    # assigned, but not tested by the WHERE: a plain update
    "e = db.get(OutboxEvent, 1)\n    e.published = True",
    # locked as it loads, skipping those another request holds
    "events = db.scalars(select(OutboxEvent).where(OutboxEvent.published == False)"
    ".with_for_update(skip_locked=True)).all()\n    for e in events:\n        e.published = True",
    "events = db.query(OutboxEvent).filter(OutboxEvent.published == False).with_for_update(skip_locked=True).all()\n"
    "    for e in events:\n        e.published = True",
    # claimed in one statement
    "db.execute(update(OutboxEvent).where(OutboxEvent.published == False).values(published=True))",
    # a value compared, not a column of the class
    "e = db.scalars(select(OutboxEvent).where(OutboxEvent.id == worker.id)).first()\n    e.topic = 'x'",
])
def test_near_miss_converts_without_the_note(app, reported, body):
    entry = reported(_root(app, body), "drain", "phase1")
    assert entry["action"] == "convert" and "AM170" not in entry["codes"], entry


def test_a_derived_update_of_a_tested_column_is_am169_s(app, reported):
    body = ("events = db.scalars(select(OutboxEvent).where(OutboxEvent.attempts < 3)).all()\n"
            "    for e in events:\n        e.attempts += 1")
    entry = reported(_root(app, body), "drain", "phase1")
    assert "AM169" in entry["codes"] and "AM170" not in entry["codes"], entry


def test_a_kept_route_gets_no_note(app, reported):
    body = PENDING + "\n    for e in events:\n        await notify(e)\n        e.published = True"
    root = app(ROUTE.format(body=body) + "\n\nasync def notify(e) -> None: ...\n", {"models.py": MODELS, "repo.py": REPO})
    entry = reported(root, "drain", "phase1")
    assert entry["action"] == "keep" and "AM170" not in entry["codes"], entry
