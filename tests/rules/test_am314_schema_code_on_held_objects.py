"""AM314 missing-greenlet through a response schema's own code: a field typed to keep what it is
given (`team: Any`), validated from a relationship, holds the ORM object, and a `@computed_field`
calling `self.team.headline()` reads `Team.members` on it while FastAPI serialises the response,
on the event loop. `check` followed the fields by name only and cleared such a route; it now reads
the schema's instance code on the held objects, and credits the options loading along the path;
code whose reads it cannot follow there (the object handed to a function) is unverified, not cleared."""

from __future__ import annotations

import pytest
from sample import async_routes

TEAMS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    members: Mapped[list["Person"]] = relationship(back_populates="team")

    def headline(self) -> str:
        return f"{self.name} ({len(self.members)})"


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    team: Mapped[Team] = relationship(back_populates="members")


def describe(team: Team) -> str:
    return team.name
"""
SCHEMAS = """
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from teams import describe


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    team: Any = Field(exclude=True)

    @computed_field
    @property
    def team_line(self) -> str:
        return self.team.headline()


class PersonHanded(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    team: Any = Field(exclude=True)

    @computed_field
    @property
    def team_name(self) -> str:
        return describe(self.team)


class PersonTyped(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str

    @computed_field
    @property
    def shout(self) -> str:
        return self.name.upper()
"""
ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from teams import Person, Team
from team_schemas import PersonHanded, PersonOut, PersonTyped


@router.get("/got", response_model=PersonOut)
async def got(db: AsyncSession):
    return await db.get(Person, 1, options=[selectinload(Person.team)])


@router.get("/listed", response_model=list[PersonOut])
async def listed(db: AsyncSession):
    return (await db.scalars(select(Person).options(selectinload(Person.team)))).all()


@router.get("/chained", response_model=list[PersonOut])
async def chained(db: AsyncSession):
    return (await db.scalars(select(Person).options(selectinload(Person.team).selectinload(Team.members)))).all()


@router.get("/handed", response_model=PersonHanded)
async def handed(db: AsyncSession):
    return await db.get(Person, 1, options=[selectinload(Person.team)])


@router.get("/own_fields", response_model=PersonTyped)
async def own_fields(db: AsyncSession):
    return await db.get(Person, 1)
"""
FILES = {"teams.py": TEAMS, "team_schemas.py": SCHEMAS}


@pytest.mark.parametrize("function", ["got", "listed"])
def test_schema_code_reading_a_relationship_of_a_held_object_is_am314(app, findings, function):
    found = findings(app(ROUTES, FILES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert "PersonOut.team_line" in message and "team.members" in message, message


def test_schema_code_handing_a_held_object_to_code_not_followed_is_unverified_am314(app, findings):
    found = findings(app(ROUTES, FILES), "handed")
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert "PersonHanded.team_name" in message and "`describe(...)`" in message, message
    assert "unverified (not cleared)" in message, message


@pytest.mark.parametrize("function", ["chained", "own_fields"])
def test_near_miss_the_option_loading_along_the_path_or_code_on_own_fields_is_clean(app, findings, function):
    assert findings(app(ROUTES, FILES), function) == []


def test_the_premise_the_computed_field_raises_unless_the_path_is_loaded(tmp_path):
    def seed(teams):  # type: ignore[no-untyped-def]
        team = teams.Team(id=1, name="a")
        return [team, teams.Person(id=1, name="p", team=team)]

    with async_routes(tmp_path, {"teams": TEAMS, "team_schemas": SCHEMAS}, ROUTES, seed) as client:
        assert client.get("/listed").status_code == 500  # MissingGreenlet on Team.members
        assert client.get("/chained").json() == [{"id": 1, "name": "p", "team_line": "a (1)"}]
