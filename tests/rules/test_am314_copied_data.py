"""AM314 missing-greenlet: a model validated from plain data by its shape reads no ORM object.

`ModelMeta.model_validate(deepcopy(current.meta or {}))` validates a dict copied from the JSON
column `Model.meta`: nothing there can load lazily. Because ModelMeta has a `mode="before"`
validator and `current` is a helper's parameter, `check` reported AM314 (open_webui's models.py,
seven routes). A copy of a relationship's value still holds ORM objects and is still reported.
"""

from __future__ import annotations

DB = """
from sqlalchemy import JSON, Column, ForeignKey, Integer, String
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import declarative_base, relationship

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
AsyncSessionLocal = async_sessionmaker(engine, expire_on_commit=False)
Base = declarative_base()


class Owner(Base):
    __tablename__ = "owners"
    id = Column(Integer, primary_key=True)
    name = Column(String)


class Model(Base):
    __tablename__ = "models"
    id = Column(String, primary_key=True)
    name = Column(String)
    meta = Column(JSON)
    owner_id = Column(ForeignKey("owners.id"))
    owner = relationship(Owner)


async def get_async_db():
    async with AsyncSessionLocal() as s:
        yield s
"""
MODELS = """
from copy import deepcopy

from pydantic import BaseModel, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from db import Model


class ModelMeta(BaseModel):
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def normalize(cls, data):
        return data


class ModelsTable:
    async def _write_model(self, session, name, current=None):
        previous = {"name": current.name, "meta": ModelMeta.model_validate({validated})}
        current.name = name
        return previous

    async def update_model_by_id(self, id: str, name: str, db: AsyncSession):
        current = await db.get(Model, id)
        if current is None:
            return None
        previous = await self._write_model(db, name, current)
        await db.commit()
        return previous


Models = ModelsTable()
"""
APP = """
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from db import get_async_db
from models import Models

app = FastAPI()


@app.post("/models/{model_id}")
async def rename(model_id: str, name: str, db: AsyncSession = Depends(get_async_db)):
    return await Models.update_model_by_id(model_id, name, db=db)
"""


def _findings(cli, project, validated: str) -> list[dict]:  # type: ignore[no-untyped-def]
    root = project({"db.py": DB, "models.py": MODELS.replace("{validated}", validated), "app.py": APP})
    return [f for f in cli.json("check", root)["findings"] if f["code"] == "AM314"]


def test_a_copy_of_a_column_value_or_a_literal_is_no_orm_object(cli, project):
    for validated in ("deepcopy(current.meta or {})", "current.meta", '{"description": "x"}', "dict(current.meta)"):
        assert _findings(cli, project, validated) == [], validated


def test_near_miss_a_copy_of_a_relationship_still_reports(cli, project):
    [found] = _findings(cli, project, "deepcopy(current.owner)")
    assert "ModelMeta" in found["message"] and "unverified" in found["message"], found
