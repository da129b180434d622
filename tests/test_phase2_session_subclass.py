"""A sessionmaker making a project Session subclass (`sessionmaker(engine, class_=AppSession)`):
the generated async_sessionmaker keeps it as `sync_session_class=AppSession`, so its listeners
still run for the migrated routes, and a method it adds (`db.rename_item(...)`, no attribute of
AsyncSession) runs on the Session behind the AsyncSession through `run_sync`. Each route is
migrated and RUN, as in test_phase2_soundness, and what was written is read back."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
COMMITS = []


class AppSession(Session):
    def rename_item(self, item_id, name):
        from models import Item

        item = self.get(Item, item_id)
        item.name = name
        self.flush()
        return item.id


@event.listens_for(AppSession, "before_flush")
def _strip_names(session, flush_context, instances):
    from models import Item

    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Item):
            obj.name = obj.name.strip()


@event.listens_for(AppSession, "after_commit")
def _count(session):
    COMMITS.append(type(session).__name__)


database_sessionmaker = sessionmaker(engine, class_=AppSession, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
ROUTES = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.put("/items/{item_id}")
def rename(item_id: int, name: str, db: session_dependency):
    renamed = db.rename_item(item_id, name=name.strip() + "!")
    db.commit()
    return {"id": renamed}
"""
SCRIPT = """
created = client.post("/items", params={"name": "  pen  "}).json()
renamed = client.put(f"/items/{created['id']}", params={"name": " ink "}).json()
with Sync() as s:
    rows = sorted(i.name for i in s.scalars(select(Item)).all())
print(json.dumps({"renamed": renamed == created, "rows": rows, "commits": stack.COMMITS}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_session_subclass_is_kept_and_its_method_runs_through_run_sync(cli, service, kind):
    root = service({"db/engine.py": ENGINE, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("create_item", "rename"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "sync_session_class=AppSession" in read(root, "db/engine.py")
    assert "await db.run_sync(lambda sync_session: sync_session.rename_item(item_id, name=" in (
        function(root, SUBSYSTEM, "rename")
    )
    result = serve(root, kind, SCRIPT)
    # before_flush stripped the name; after_commit ran for the seeding Session and for each route's.
    assert result == {"renamed": True, "rows": ["ink!"], "commits": ["AppSession"] * 3}


NESTED = """
@router.put("/items/{item_id}")
def rename(item_id: int, name: str, db: session_dependency):
    def apply_name(n):
        return db.rename_item(item_id, name=n)

    renamed = apply_name(name)
    db.commit()
    return {"id": renamed}
"""


def test_a_method_call_where_no_await_can_stand_blocks_the_route(cli, service):
    root = service({"db/engine.py": ENGINE, SUBSYSTEM: routes(NESTED)})
    document = apply(cli, root)
    reasons = " ".join(handler(document, "rename")["reasons"])
    assert handler(document, "rename")["action"] == "blocked", reasons
    assert "`db.rename_item()` is a method of the Session class `AppSession`" in reasons


HAND_STACK = ENGINE.replace('@event.listens_for(AppSession, "before_flush")\n', "").replace(
    '@event.listens_for(AppSession, "after_commit")\n', ""
) + """

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)
"""


def test_a_reused_stack_without_the_subclass_blocks_a_route_calling_its_method(cli, service):
    root = service({"db/engine.py": HAND_STACK, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    reasons = " ".join(handler(document, "rename")["reasons"])
    assert handler(document, "rename")["action"] == "blocked", reasons
    assert "AsyncSession does not have" in reasons


# A route declaring the subclass itself (`Annotated[AppSession, Depends(...)]`) and calling a
# method of it that loads through `self.get`: that is the Session's own API, no model code, and
# the method runs through `run_sync` as `rename_item` does. Before, phase two took AppSession for
# a model class and blocked the route with AM247 "if the models are outside PATH, run the tool
# with them under PATH", the models being under PATH.
TYPED_ENGINE = ENGINE.replace(
    "class AppSession(Session):\n",
    """class AppSession(Session):
    def get_or_404(self, model, ident):
        from fastapi import HTTPException

        obj = self.get(model, ident)
        if obj is None:
            raise HTTPException(status_code=404, detail="not found")
        return obj

    def save(self, obj):
        self.add(obj)
        self.commit()

""",
) + """

from typing import Annotated

from fastapi import Depends

AppDep = Annotated[AppSession, Depends(get_db_session)]
"""
TYPED = """
from db.engine import AppDep


@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.put("/items/{item_id}")
def retitle(item_id: int, name: str, db: AppDep):
    item = db.get_or_404(Item, item_id)
    item.name = name
    db.commit()
    return {"id": item.id, "name": item.name}
"""
TYPED_SCRIPT = """
created = client.post("/items", params={"name": "pen"}).json()
renamed = client.put(f"/items/{created['id']}", params={"name": "ink"})
missing = client.put("/items/999", params={"name": "none"})
with Sync() as s:
    rows = sorted(i.name for i in s.scalars(select(Item)).all())
print(json.dumps({"renamed": renamed.json(), "missing": missing.status_code, "rows": rows}))
"""
SAVED = """
from db.engine import AppDep


@router.post("/items")
def create_item(name: str, db: AppDep):
    item = Item(name=name, owner_id=1)
    db.save(item)
    return {"id": item.id}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_typed_as_the_subclass_runs_its_loading_method_through_run_sync(cli, service, kind):
    root = service({"db/engine.py": TYPED_ENGINE, SUBSYSTEM: routes(TYPED)})
    document = apply(cli, root)
    reasons = " ".join(handler(document, "retitle")["reasons"])
    assert handler(document, "retitle")["action"] == "migrate", reasons
    assert "await db.run_sync(lambda sync_session: sync_session.get_or_404(Item, item_id))" in (
        function(root, SUBSYSTEM, "retitle")
    )
    result = serve(root, kind, TYPED_SCRIPT)
    assert result == {"renamed": {"id": 1, "name": "ink"}, "missing": 404, "rows": ["ink"]}


def test_a_method_that_commits_blocks_naming_the_commit_not_the_models(cli, service):
    root = service({"db/engine.py": TYPED_ENGINE, SUBSYSTEM: routes(SAVED)})
    document = apply(cli, root)
    entry = handler(document, "create_item")
    reasons = " ".join(entry["reasons"])
    assert entry["action"] == "blocked", reasons
    assert "runs AppSession.save" in reasons and "self.commit()" in reasons, reasons
    assert "outside PATH" not in reasons, reasons
