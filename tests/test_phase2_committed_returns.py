"""Phase two on a model method or CRUD base that builds an object, commits and returns it,
proved by running.

`Item.create(db, name=n)` runs `obj = cls(**values); db.add(obj); db.commit(); return obj` in a
mixin of the model; `CRUDBase.create(db, obj_in)` builds `self.model(**data)` the same way and
returns `db_obj`. On a stack whose sessionmaker keeps expire_on_commit (the default), the commit
expires the object: the synchronous route's `item.id` reloads it, the migrated one would raise
MissingGreenlet. The migrated method reloads it (`await db.refresh(obj)` after its awaited
commit), so the route's read finds it loaded. Near misses: a stack with expire_on_commit=False,
and a route that never reads what it is handed back.

Migrated with `phase2 --apply`, then RUN on the three databases, the rows read back through a
separate synchronous session.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, line_in, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service
from test_phase2_soundness_stack import existing_async

__all__ = ["service"]  # the fixture, used by name

# The project's own async stack beside the synchronous one: its sessionmaker keeps the default
# expire_on_commit=True, so a commit expires every object the AsyncSession holds.
EXPIRING = existing_async(
    "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])", maker="async_sessionmaker(async_engine)"
)
KEEPING = existing_async("engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])")
MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class OrmBase:
    @classmethod
    def create(cls, db: Session, **values):
        obj = cls(**values)
        db.add(obj)
        db.commit()
        return obj


class User(Base, OrmBase):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Item(Base, OrmBase):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
"""
MIXIN_ROUTES = """
@router.post("/items")
def add_item(name: str, db: session_dependency):
    item = Item.create(db, name=name, owner_id=1)
    return {"id": item.id, "name": item.name}
"""
CRUD = """
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from models import Base, Item

ModelT = TypeVar("ModelT", bound=Base)


class CRUDBase(Generic[ModelT]):
    def __init__(self, model: type[ModelT]) -> None:
        self.model = model

    def create(self, db: Session, obj_in: dict[str, Any]) -> ModelT:
        db_obj = self.model(**obj_in)
        db.add(db_obj)
        db.commit()
        return db_obj


item_crud = CRUDBase(Item)
"""
CRUD_ROUTES = """
from crud import item_crud


@router.post("/items")
def add_item(name: str, db: session_dependency):
    item = item_crud.create(db, {"name": name, "owner_id": 1})
    return {"id": item.id, "name": item.name}
"""
RUN = """
    created = [client.post("/items", params={"name": n}).json() for n in ("a", "b")]
    with Sync() as s:
        rows = [[i.id, i.name] for i in s.scalars(select(Item).order_by(Item.id))]
    print(json.dumps({"created": created, "rows": rows}))
"""
WRITTEN = {"created": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "rows": [[1, "a"], [2, "b"]]}


def _migrated(cli, root) -> dict:  # type: ignore[no-untyped-def]
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "migrate", found["reasons"]
    return document


@pytest.mark.parametrize("kind", KINDS)
def test_a_mixin_classmethod_committing_what_it_builds_reloads_it_after_the_commit(cli, service, kind):
    root = service({"db/engine.py": EXPIRING, "models.py": MODELS, SUBSYSTEM: routes(MIXIN_ROUTES)})
    assert serve(root, kind, RUN) == WRITTEN
    _migrated(cli, root)
    assert serve(root, kind, RUN) == WRITTEN
    assert "await db.refresh(obj)" in read(root, "models.py"), read(root, "models.py")


@pytest.mark.parametrize("kind", KINDS)
def test_a_crud_base_create_committing_db_obj_reloads_it_after_the_commit(cli, service, kind):
    root = service({"db/engine.py": EXPIRING, "crud.py": CRUD, SUBSYSTEM: routes(CRUD_ROUTES)})
    assert serve(root, kind, RUN) == WRITTEN
    _migrated(cli, root)
    assert serve(root, kind, RUN) == WRITTEN
    assert "await db.refresh(db_obj)" in read(root, "crud.py"), read(root, "crud.py")


REPOSITORY = """
from sqlalchemy.orm import Session


class ItemRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, obj):
        self.db.add(obj)
        self.db.commit()
        return obj
"""
REPOSITORY_ROUTES = """
from repository import ItemRepository


@router.post("/items")
def add_item(name: str, db: session_dependency):
    item = ItemRepository(db).add(Item(name=name, owner_id=1))
    return {"id": item.id, "name": item.name}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_add_committing_the_object_it_is_given_reloads_it_after_the_commit(cli, service, kind):
    root = service({"db/engine.py": EXPIRING, "repository.py": REPOSITORY, SUBSYSTEM: routes(REPOSITORY_ROUTES)})
    assert serve(root, kind, RUN) == WRITTEN
    _migrated(cli, root)
    assert serve(root, kind, RUN) == WRITTEN
    assert "await self.db.refresh(obj)" in read(root, "repository.py"), read(root, "repository.py")


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_stack_keeping_objects_on_commit_adds_no_refresh(cli, service, kind):
    # expire_on_commit=False on both stacks: nothing expires, the read finds the object as built
    root = service({"db/engine.py": KEEPING, "models.py": MODELS, SUBSYSTEM: routes(MIXIN_ROUTES)})
    assert serve(root, kind, RUN) == WRITTEN
    _migrated(cli, root)
    assert serve(root, kind, RUN) == WRITTEN
    assert "refresh" not in read(root, "models.py"), read(root, "models.py")


UNREAD_ROUTES = """
from crud import item_crud


@router.post("/items")
def add_item(name: str, db: session_dependency):
    item_crud.create(db, {"name": name, "owner_id": 1})
    return {"id": None, "name": name}
"""
UNREAD = {"created": [{"id": None, "name": "a"}, {"id": None, "name": "b"}], "rows": [[1, "a"], [2, "b"]]}


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_route_not_reading_what_create_returns_still_writes(cli, service, kind):
    root = service({"db/engine.py": EXPIRING, "crud.py": CRUD, SUBSYSTEM: routes(UNREAD_ROUTES)})
    assert serve(root, kind, RUN) == UNREAD
    _migrated(cli, root)
    assert serve(root, kind, RUN) == UNREAD


GUARDED_CRUD = CRUD.replace(
    "        db.add(db_obj)\n        db.commit()\n",
    "        try:\n            db.add(db_obj)\n            db.commit()\n        except Exception:\n"
    "            db.rollback()\n            raise\n",
)


@pytest.mark.parametrize("kind", KINDS)
def test_an_object_added_only_inside_a_try_blocks_the_route_naming_the_method_and_line(cli, service, kind):
    # a refresh after the commit inside the `try` is not shown to find the object in the Session
    # on every path: the route stays synchronous, and still answers
    assert GUARDED_CRUD != CRUD
    root = service({"db/engine.py": EXPIRING, "crud.py": GUARDED_CRUD, SUBSYSTEM: routes(CRUD_ROUTES)})
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM248" in found["codes"], found
    text = read(root, "crud.py")
    method, commit = line_in(text, "def create("), line_in(text, "db.commit()")
    assert any(
        r.startswith(f"crud.py:{method}: `db_obj` is returned after `db.commit()` (line {commit})")
        and "only on some paths" in r for r in found["reasons"]
    ), "\n".join(found["reasons"])
    assert "refresh" not in read(root, "crud.py")
    assert serve(root, kind, RUN) == WRITTEN
