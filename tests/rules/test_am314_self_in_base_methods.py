"""AM314 on model code a base or mixin class defines, reached through a helper the route hands its
objects to. `self` in such a method is an object of that class or a subclass, and of those only
of the classes the closure calls it on (`note.to_dict()` on a Note): `check` read it as every
model defining a member of that name (a mixin's `self.label()` ran an unrelated model's `label`,
reading its relationship). An attribute only a subclass declares is a lazy load on a base-class
query only where the mapping is polymorphic (`polymorphic_on`): `__mapper_args__ =
{"confirm_deleted_rows": False}` on a declarative base's `cls=` leaves every model a class of its
own, whose columns its own query loads (fides reported `CustomAsset.key` as a lazy load). An
object handed by name to a project function (`OrmBase.render(self)`) is judged by what that
function reads on it, not left unverified. The premise test runs each route on aiosqlite."""

from __future__ import annotations

import pytest
from sample import async_routes, raised

MODELS = '''
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, declared_attr, relationship


class OrmBase:
    __mapper_args__ = {"confirm_deleted_rows": False}

    @declared_attr
    def __tablename__(cls) -> str:
        return cls.__name__.lower()

    id = Column(Integer, primary_key=True)

    def label(self) -> str:
        if hasattr(self, "key"):
            return str(getattr(self, "key"))
        return str(self.id)

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label()}

    @classmethod
    def render(cls, obj) -> str:
        return f"<{obj.label()}>"

    def shown(self) -> str:
        return OrmBase.render(self)


Base = declarative_base(cls=OrmBase)


class Asset(Base):
    __tablename__ = "assets"
    key = Column(String(20), nullable=False)


class Note(Base):
    text = Column(String(50))


class Owner(Base):
    name = Column(String(50))


class Describable:
    def describe(self) -> str:
        return f"{type(self).__name__}: {self.label()}"


class Card(Describable, Base):
    title = Column(String(50))

    def label(self) -> str:
        return self.title


class Tagged(Base):
    owner_id = Column(Integer, ForeignKey("owner.id"))
    owner = relationship(Owner)

    def label(self) -> str:
        return self.owner.name
'''

HELPERS = '''
from models import Card, Note, OrmBase, Tagged


def labelled(obj: OrmBase) -> str:
    return obj.label()


def note_out(note: Note) -> dict:
    return note.to_dict()


def card_out(card: Card) -> dict:
    return {"text": card.describe()}


def tagged_out(tagged: Tagged) -> dict:
    return tagged.to_dict()


def shown_out(obj: Note) -> str:
    return obj.shown()


def tagged_shown(tagged: Tagged) -> str:
    return tagged.shown()


def fresh_label(text: str) -> str:
    return Note(text=text).label()
'''

ROUTES = '''
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from helpers import card_out, fresh_label, labelled, note_out, shown_out, tagged_out, tagged_shown
from models import Asset, Card, Note, Tagged


@router.get("/note")
async def note(db: AsyncSession):
    return note_out(await db.get(Note, 1))


@router.get("/card")
async def card(db: AsyncSession):
    return card_out(await db.get(Card, 1))


@router.get("/shown")
async def shown(db: AsyncSession):
    return shown_out(await db.get(Note, 1))


@router.get("/fresh")
async def fresh(db: AsyncSession):
    found = await db.get(Note, 1)
    return fresh_label(found.text)


@router.get("/base-typed")
async def base_typed(db: AsyncSession):
    return labelled(await db.get(Asset, 1)) + labelled(await db.get(Note, 1))


@router.get("/tagged-eager")
async def tagged_eager(db: AsyncSession):
    found = await db.get(Tagged, 1, options=[selectinload(Tagged.owner)])
    return tagged_out(found)


@router.get("/tagged")
async def tagged(db: AsyncSession):
    return tagged_out(await db.get(Tagged, 1))


@router.get("/tagged-shown")
async def tagged_shown_route(db: AsyncSession):
    return tagged_shown(await db.get(Tagged, 1))
'''
FILES = {"models.py": MODELS, "helpers.py": HELPERS}
CLEAN = ("note", "card", "shown", "fresh", "base_typed", "tagged_eager")
LAZY = ("tagged", "tagged_shown_route")


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, FILES)


@pytest.mark.parametrize("function", CLEAN)
def test_self_of_a_base_method_is_only_what_the_route_calls_it_on(root, findings, function):
    assert findings(root, function) == []


@pytest.mark.parametrize(("function", "read"), [("tagged", "self.label"), ("tagged_shown_route", "tagged.shown")])
def test_near_miss_the_subclass_it_is_called_on_reads_its_relationship(root, findings, function, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load at " in found[0]["message"], found
    assert "unverified" not in found[0]["message"] and "Asset.key" not in found[0]["message"], found


def _seed(models):  # type: ignore[no-untyped-def]
    return [
        models.Asset(id=1, key="a"), models.Note(id=1, text="n"), models.Card(id=1, title="c"),
        models.Tagged(id=1, owner=models.Owner(id=1, name="o")),
    ]


def test_the_premise_clean_routes_answer_and_the_subclass_read_raises(tmp_path):
    with async_routes(
        tmp_path, {"models": MODELS, "helpers": HELPERS}, ROUTES, _seed, raise_server_exceptions=True
    ) as client:
        said = {path: raised(client, f"/{path.replace('_', '-')}") for path in (*CLEAN, "tagged")}
        said["tagged_shown_route"] = raised(client, "/tagged-shown")
    assert said == {**dict.fromkeys(CLEAN, ""), **dict.fromkeys(LAZY, "MissingGreenlet")}
