"""Phase two and a method of an instance holding the Session handed on uncalled, as a value
(`list(map(repo.save, names))`, `apply_all(repo.save, names)`, `sorted(names, key=repo.rank)`):
migrated, the method is a coroutine function, and what calls it there calls it without `await`,
so the coroutines were never run and the rows silently never written, the route answering 200.
Such a route blocks (AM215, naming the method and the call); one handing the method to a
background task (Starlette awaits a coroutine function) or calling it in place migrates. RUN on
SQLite, PostgreSQL and MariaDB: every row is written."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

REPOSITORY = """
from sqlalchemy.orm import Session

from models import Item


class ItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def save(self, name: str) -> None:
        self.session.add(Item(name=name, owner_id=1))
        self.session.flush()

    def save_all(self, names: list[str]) -> None:
        list(map(self.save, names))
"""
ROUTES = """
from fastapi import BackgroundTasks

from repository import ItemRepository


def apply_all(fn, names):
    for name in names:
        fn(name)


@router.post("/mapped")
def mapped(db: session_dependency):
    repo = ItemRepository(db)
    list(map(repo.save, ["mapped"]))
    db.commit()
    return {"ok": True}


@router.post("/applied")
def applied(db: session_dependency):
    repo = ItemRepository(db)
    apply_all(repo.save, ["applied"])
    db.commit()
    return {"ok": True}


@router.post("/own")
def own(db: session_dependency):
    repo = ItemRepository(db)
    repo.save_all(["own"])
    db.commit()
    return {"ok": True}


@router.post("/called")
def called(tasks: BackgroundTasks, db: session_dependency):
    repo = ItemRepository(db)
    for name in ["called"]:
        repo.save(name)
    db.commit()
    return {"ok": True}
"""
RUN = """
statuses = [client.post(path).status_code for path in ("/mapped", "/applied", "/own", "/called")]
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)))
print(json.dumps([statuses, names]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_held_sessions_method_handed_on_uncalled_blocks_and_every_row_is_written(cli, service, kind):
    root = service({"repository.py": REPOSITORY, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name, written, to in (("mapped", "repo.save", "map()"), ("applied", "repo.save", "apply_all()"),
                              ("own", "self.save", "map()")):
        found = handler(document, name)
        assert found["action"] == "blocked", found
        assert any(f"hands `{written}`" in r and to in r for r in found["reasons"]), found["reasons"]
        assert function(root, SUBSYSTEM, name).startswith("def "), name
    assert handler(document, "called")["action"] == "migrate"
    assert "await repo.save(name)" in function(root, SUBSYSTEM, "called")
    assert serve(root, kind, RUN) == [[200, 200, 200, 200], ["applied", "called", "mapped", "own"]]


QUEUED = """
from fastapi import BackgroundTasks

from repository import ItemRepository


@router.post("/queued")
def queued(tasks: BackgroundTasks, db: session_dependency):
    repo = ItemRepository(db)
    repo.save("now")
    tasks.add_task(repo.save, "later")
    db.commit()
    return {"ok": True}
"""


def test_near_miss_a_held_sessions_method_handed_to_a_background_task_migrates(cli, service):
    # Starlette awaits a coroutine function it runs as a background task.
    root = service({"repository.py": REPOSITORY, SUBSYSTEM: routes(QUEUED)})
    found = handler(apply(cli, root), "queued")
    assert found["action"] == "migrate", found["reasons"]
    assert 'tasks.add_task(repo.save, "later")' in function(root, SUBSYSTEM, "queued")
