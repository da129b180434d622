"""AM314 on objects that are no ORM objects: a project class deriving from a library class that
is never mapped (`pydantic.v1.BaseModel`, `RootModel`, `BaseSettings`, a LangChain `Document`, an
`Exception`) was read as a possible model, since its base lies outside PATH: every attribute its
code reads "may be defined" there, so a route handing such an object to a helper after a commit
(`Out.parse_obj({...})`, `Chunk(page_content=...)`) was reported as a lazy load. Only mapped
classes' instances a Session loaded or holds load or expire; those libraries' classes are never
mapped. A class whose base comes from a library the tool does not know stays unverified, and says
so rather than claiming a relationship no query loads."""

from __future__ import annotations

import pytest

MODELS = '''
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "docs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
'''
ENGINE = '''
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
maker = async_sessionmaker(engine)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
'''
SCHEMAS = '''
from langchain_core.documents import Document
from pydantic import RootModel
from pydantic.v1 import BaseModel as V1Model
from pydantic_settings import BaseSettings
from vendorlib.records import Record


class Legacy(V1Model):
    name: str

    def label(self) -> str:
        return self.name + self.suffix


class Ids(RootModel[list[int]]):
    def label(self) -> str:
        return str(self.root) + self.suffix


class Settings(BaseSettings):
    name: str = ""

    def label(self) -> str:
        return self.name + self.suffix


class Chunk(Document):
    def label(self) -> str:
        return self.page_content[:10] + self.suffix


class Conflict(Exception):
    def label(self) -> str:
        return str(self.args) + self.suffix


class Vendor(Record):
    def label(self) -> str:
        return self.suffix
'''
HELPERS = '''
from schemas import Chunk, Conflict, Ids, Legacy, Settings, Vendor


def show_legacy(o: Legacy) -> str:
    return o.label()


def show_ids(o: Ids) -> str:
    return o.label()


def show_settings(o: Settings) -> str:
    return o.label()


def show_chunk(o: Chunk) -> str:
    return o.label()


def show_conflict(o: Conflict) -> str:
    return o.label()


def show_vendor(o: Vendor) -> str:
    return o.label()
'''
ROUTES = '''
from fastapi import Depends
from langchain_community.document_loaders import WebBaseLoader
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_session
from docs import Doc
from helpers import show_chunk, show_conflict, show_ids, show_legacy, show_settings, show_vendor
from schemas import Chunk, Conflict, Ids, Legacy, Settings, Vendor


@router.post("/legacy")
async def legacy(name: str, db: AsyncSession = Depends(get_session)):
    out = Legacy.parse_obj({"name": name})
    db.add(Doc(name=name))
    await db.commit()
    return {"label": show_legacy(out), "own": out.label()}


@router.post("/ids")
async def ids(name: str, db: AsyncSession = Depends(get_session)):
    out = Ids.model_validate([1, 2])
    db.add(Doc(name=name))
    await db.commit()
    return {"label": show_ids(out)}


@router.post("/settings")
async def settings(name: str, db: AsyncSession = Depends(get_session)):
    out = Settings()
    db.add(Doc(name=name))
    await db.commit()
    return {"label": show_settings(out)}


@router.post("/chunk")
async def chunk(url: str, db: AsyncSession = Depends(get_session)):
    docs = WebBaseLoader(url).load()
    piece = Chunk(page_content=docs[0].page_content)
    db.add(Doc(name=url))
    await db.commit()
    return {"label": show_chunk(piece), "text": docs[0].page_content}


@router.post("/conflict")
async def conflict(name: str, db: AsyncSession = Depends(get_session)):
    error = Conflict(name)
    db.add(Doc(name=name))
    await db.commit()
    return {"label": show_conflict(error)}


@router.post("/vendor")
async def vendor(name: str, db: AsyncSession = Depends(get_session)):
    record = Vendor()
    db.add(Doc(name=name))
    await db.commit()
    return {"label": show_vendor(record)}
'''
FILES = {"docs.py": MODELS, "db/async_engine.py": ENGINE, "schemas.py": SCHEMAS, "helpers.py": HELPERS}


@pytest.mark.parametrize("function", ["legacy", "ids", "settings", "chunk", "conflict"])
def test_objects_of_a_class_deriving_from_an_unmapped_library_are_clean(app, findings, function):
    assert findings(app(ROUTES, FILES), function) == []


def test_a_base_from_a_library_the_tool_does_not_know_is_unverified_not_a_lazy_load(app, findings):
    found = findings(app(ROUTES, FILES), "vendor")
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert "o.label" in message and "unverified (not cleared)" in message, message
    assert "reads relationships no query eager-loads" not in message, message
