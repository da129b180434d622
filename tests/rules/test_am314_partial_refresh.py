"""AM314 missing-greenlet: an attribute a commit expired (the AsyncSession's sessionmaker keeps
`expire_on_commit=True`) read after `await db.refresh(obj, ["stock"])`, which loads the attributes
it names only: every other one stays expired, and its read (or FastAPI's, through a response model
reading every field of the returned object) reloads the row outside any greenlet, MissingGreenlet
on every request. The partial refresh was taken for a whole one and check said no findings. A read
of the refreshed attribute alone, or a whole refresh, is a near miss. The premise is RUN."""

from __future__ import annotations

import json
import os

from sample import run_python

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Variant(Base):
    __tablename__ = "variants"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(20))
    stock: Mapped[int] = mapped_column()
"""
ROUTES = """
import os

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from models import Variant

engine = create_async_engine(os.environ["DATABASE_URL"])
maker = async_sessionmaker(engine)


async def get_db():
    async with maker() as db:
        yield db


class VariantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sku: str
    stock: int


router = APIRouter()


@router.post("/read")
async def read_other(db: AsyncSession = Depends(get_db)):
    variant = await db.get(Variant, 1)
    variant.stock = 5
    await db.commit()
    await db.refresh(variant, ["stock"])
    return {"stock": variant.stock, "sku": variant.sku}


@router.post("/served", response_model=VariantOut)
async def served(db: AsyncSession = Depends(get_db)):
    variant = await db.get(Variant, 1)
    variant.stock = 6
    await db.commit()
    await db.refresh(variant, attribute_names=["stock"])
    return variant


@router.post("/refreshed-only")
async def refreshed_only(db: AsyncSession = Depends(get_db)):
    variant = await db.get(Variant, 1)
    variant.stock = 7
    await db.commit()
    await db.refresh(variant, ["stock"])
    return {"stock": variant.stock}


@router.post("/whole", response_model=VariantOut)
async def whole(db: AsyncSession = Depends(get_db)):
    variant = await db.get(Variant, 1)
    variant.stock = 8
    await db.commit()
    await db.refresh(variant)
    return variant
"""
MAIN = """
from fastapi import FastAPI

import api

app = FastAPI()
app.include_router(api.router)
"""
SCRIPT = """
import asyncio, json
from fastapi.testclient import TestClient
import api
from main import app
from models import Base, Variant


async def seed():
    async with api.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with api.maker() as db:
        db.add(Variant(id=1, sku="A-1", stock=1))
        await db.commit()

asyncio.run(seed())
with TestClient(app, raise_server_exceptions=False) as client:
    print(json.dumps({p: client.post(p).status_code for p in ["/read", "/served", "/refreshed-only", "/whole"]}))
"""


def test_an_attribute_a_partial_refresh_leaves_expired_is_reported(cli, project):
    root = project({"models.py": MODELS, "api.py": ROUTES, "main.py": MAIN})
    document = cli.json("check", root)
    found = {f["function"]: f["message"] for f in document["findings"] if f["code"] == "AM314"}
    assert set(found) == {"read_other", "served"}, found
    assert "variant.sku (expired by the db.commit() at line" in found["read_other"], found
    assert "`variant` returned, whose fields the response model VariantOut reads" in found["served"], found


def test_the_premise_flagged_routes_raise_and_near_misses_answer(project, tmp_path):
    root = project({"models.py": MODELS, "api.py": ROUTES, "main.py": MAIN})
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}
    result = run_python(SCRIPT, cwd=root, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers == {"/read": 500, "/served": 500, "/refreshed-only": 200, "/whole": 200}, answers
