"""Phase two on a model method, CRUD base or repository that hands an object to the Session with
`add_all` (`db.add_all([obj])`, or a list bound from names, `objs = [obj, log]`), commits and
returns it, proved by running.

On a sessionmaker keeping expire_on_commit (the default) the commit expires every object the
Session took, `add_all`'s as `add`'s: the synchronous route's `item.id` reloads it, the migrated one
would raise MissingGreenlet. The migrated method reloads it (`await db.refresh(obj)` after its
awaited commit). Near misses: a list that may no longer hold the object by the commit (changed
after it was built) blocks the route, naming the method; a list display not naming it adds no
refresh of it.

Migrated with `phase2 --apply`, then RUN on the three databases, the rows read back through a
separate synchronous session.
"""

from __future__ import annotations

import pytest
from test_phase2_committed_returns import (
    CRUD_ROUTES,
    EXPIRING,
    KEEPING,
    MIXIN_ROUTES,
    REPOSITORY_ROUTES,
    RUN,
    WRITTEN,
)
from test_phase2_rules import apply, handler, line_in, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class OrmBase:
    @classmethod
    def create(cls, db: Session, **values):
        obj = cls(**values)
        db.add_all([obj])
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
        objs = [db_obj]
        db.add_all(objs)
        db.commit()
        return db_obj


item_crud = CRUDBase(Item)
"""
REPOSITORY = """
from sqlalchemy.orm import Session


class ItemRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, obj):
        self.db.add_all([obj])
        self.db.commit()
        return obj
"""


def _migrated(cli, root) -> dict:  # type: ignore[no-untyped-def]
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "migrate", found["reasons"]
    return document


@pytest.mark.parametrize("kind", KINDS)
def test_a_mixin_classmethod_adding_a_list_display_reloads_the_object_after_the_commit(cli, service, kind):
    root = service({"db/engine.py": EXPIRING, "models.py": MODELS, SUBSYSTEM: routes(MIXIN_ROUTES)})
    assert serve(root, kind, RUN) == WRITTEN
    _migrated(cli, root)
    assert serve(root, kind, RUN) == WRITTEN
    assert "await db.refresh(obj)" in read(root, "models.py"), read(root, "models.py")


@pytest.mark.parametrize("kind", KINDS)
def test_a_crud_base_adding_a_list_bound_from_its_name_reloads_it_after_the_commit(cli, service, kind):
    root = service({"db/engine.py": EXPIRING, "crud.py": CRUD, SUBSYSTEM: routes(CRUD_ROUTES)})
    assert serve(root, kind, RUN) == WRITTEN
    _migrated(cli, root)
    assert serve(root, kind, RUN) == WRITTEN
    assert "await db.refresh(db_obj)" in read(root, "crud.py"), read(root, "crud.py")


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_adding_a_list_display_of_its_parameter_reloads_it_after_the_commit(cli, service, kind):
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


CHANGED_CRUD = CRUD.replace(
    "        objs = [db_obj]\n",
    "        objs = [db_obj]\n        objs.extend(self.related(db_obj))\n",
).replace(
    "item_crud = CRUDBase(Item)",
    "    def related(self, db_obj: Any) -> list[Any]:\n        return []\n\n\nitem_crud = CRUDBase(Item)",
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_changed_before_add_all_blocks_the_route_naming_the_method_and_line(cli, service, kind):
    # `objs.extend(...)` may take the object out again for all phase two shows: a refresh after the
    # commit could find it outside the Session, so the route stays synchronous, and still answers
    assert CHANGED_CRUD != CRUD
    root = service({"db/engine.py": EXPIRING, "crud.py": CHANGED_CRUD, SUBSYSTEM: routes(CRUD_ROUTES)})
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM248" in found["codes"], found
    text = read(root, "crud.py")
    method, commit = line_in(text, "def create("), line_in(text, "db.commit()")
    assert any(
        r.startswith(f"crud.py:{method}: `db_obj` is returned after `db.commit()` (line {commit})")
        and "a list that may no longer hold it" in r for r in found["reasons"]
    ), "\n".join(found["reasons"])
    assert "refresh" not in text
    assert serve(root, kind, RUN) == WRITTEN
