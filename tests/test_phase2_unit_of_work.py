"""A repository built by a unit of work from a Session the unit of work opens itself.

`with uow: uow.items.names()` in a route: the repository holds a Session, but the route
does not receive it, so phase two cannot hand it an AsyncSession. Moving the repository's
methods to `async def` and awaiting them in the route would await a plain method of the
synchronous repository the unit of work still builds (TypeError) and run its Session work
on the event loop: the route stays as it is, and the rest of the router still migrates.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

service = __import__("test_phase2_soundness").service

UOW = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


class ItemLog:
    def __init__(self, session: Session):
        self.session = session

    def names(self):
        return [item.name for item in self.session.scalars(select(Item).order_by(Item.id))]


class UnitOfWork:
    def __enter__(self):
        self.session = database_sessionmaker()
        self.items = ItemLog(self.session)
        return self

    def __exit__(self, *exc):
        self.session.commit()
        self.session.close()


def get_uow():
    return UnitOfWork()
"""
ROUTES = (
    """
    from typing import Annotated

    from uow import UnitOfWork, get_uow
    """,
    """
    @router.get("/names")
    def names(uow: Annotated[UnitOfWork, Depends(get_uow)]):
        with uow:
            return uow.items.names()
    """,
    """
    @router.post("/items")
    def create_item(name: str, db: session_dependency):
        db.add(Item(name=name, owner_id=1))
        db.commit()
        return {"ok": True}
    """,
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_the_unit_of_work_builds_is_not_awaited_on_the_event_loop(cli, service, kind):
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW})
    document = apply(cli, root)
    found = handler(document, "names")
    assert found["action"] == "blocked", found
    # The unit of work's special methods or, past them, the self-check's call of ItemLog.names
    assert any("ItemLog.names" in reason or "UnitOfWork" in reason for reason in found["reasons"]), found["reasons"]
    assert handler(document, "create_item")["action"] == "migrate"
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        listed = client.get("/names")
        with Sync() as s:
            stored = [i.name for i in s.scalars(select(Item))]
        print(json.dumps([created.status_code, listed.status_code, listed.json(), stored]))
    """)
    assert result == [200, 200, ["pen"], ["pen"]]


def test_the_self_check_blocks_the_route_when_the_plan_forgets_the_unit_of_work(cli, service, monkeypatch):
    # The closure "forgets" what keeps the unit of work where it is (its special methods, the
    # Session it holds): the self-check still refuses the migrated route.
    from async_migrate.codemods.phase2 import closure as closures

    original = closures._find_own_blockers
    monkeypatch.setattr(closures, "_find_own_blockers", lambda project, fid: [
        own for own in original(project, fid)
        if own.rule.code != "AM297" and "special method" not in own.message and "UnitOfWork" not in own.message
    ])
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW})
    found = handler(apply(cli, root), "names")
    assert found["action"] == "blocked", found
    assert found["reasons"] and all("self-check:" in reason for reason in found["reasons"]), found["reasons"]


BLOCKED_ONLY = '''
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

SessionLocal = sessionmaker(create_engine("sqlite:///./app.db"))
app = FastAPI()


def get_db():
    with SessionLocal() as s:
        yield s


class UnitOfWork:
    def __init__(self, session: Session):
        self.session = session

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.session.rollback()


@app.get("/n")
def n(s: Session = Depends(get_db)):
    with UnitOfWork(s) as uow:
        return uow.session.scalar(text("select 1"))
'''


def test_when_no_route_migrates_the_follow_ups_say_nothing_of_the_stack_it_would_write(cli, project):
    # Nothing is written: "add the async driver package `aiosqlite`" and where the alias goes
    # were about a stack that does not exist.
    root = project({"main.py": BLOCKED_ONLY})
    document = cli.json("phase2", root, "-s", "main.py")
    assert handler(document, "n")["action"] == "blocked"
    assert document["files_changed"] == []
    assert document["subsystem"]["follow_ups"] == [], document["subsystem"]["follow_ups"]
