"""AM314 missing-greenlet: a column the database computes on UPDATE (`onupdate=func.now()`,
`server_onupdate=`, `Computed(...)`), read after the flush of a change to the object, in an
`async def` route on an AsyncSession. The flush expires it whatever `expire_on_commit` says, so
the read (the route's, or FastAPI's through a response model naming it) reloads the row outside
any greenlet: MissingGreenlet on every request, while check said no findings. A refresh after the
flush, `"eager_defaults": True`, an `onupdate=` Python callable, or no change before the flush
loads nothing then: near misses. The premise is RUN."""

from __future__ import annotations

import json
import os

from sample import run_python

MODELS = """
from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Supplier(Base):
    __tablename__ = "suppliers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, onupdate=func.now())


class Eager(Base):
    __tablename__ = "eager"
    __mapper_args__ = {"eager_defaults": True}
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, onupdate=func.now())


class Stamped(Base):
    __tablename__ = "stamped"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, onupdate=datetime.now)
"""
ROUTES = """
import os

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from models import Eager, Stamped, Supplier

engine = create_async_engine(os.environ["DATABASE_URL"])
maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_db():
    async with maker() as db:
        yield db


class SupplierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    updated_at: object


router = APIRouter()


@router.post("/flushed")
async def flushed(db: AsyncSession = Depends(get_db)):
    supplier = await db.get(Supplier, 1)
    supplier.name = "b"
    await db.flush()
    stamp = supplier.updated_at
    await db.commit()
    return {"set": stamp is not None}


@router.post("/served", response_model=SupplierOut)
async def served(db: AsyncSession = Depends(get_db)):
    supplier = await db.get(Supplier, 1)
    supplier.name = "c"
    await db.commit()
    return supplier


@router.post("/refreshed", response_model=SupplierOut)
async def refreshed(db: AsyncSession = Depends(get_db)):
    supplier = await db.get(Supplier, 1)
    supplier.name = "d"
    await db.commit()
    await db.refresh(supplier)
    return supplier


@router.post("/eager")
async def eager(db: AsyncSession = Depends(get_db)):
    row = await db.get(Eager, 1)
    row.name = "e"
    await db.commit()
    return {"set": row.updated_at is not None}


@router.post("/python-side")
async def python_side(db: AsyncSession = Depends(get_db)):
    row = await db.get(Stamped, 1)
    row.name = "f"
    await db.commit()
    return {"set": row.updated_at is not None}


@router.post("/unchanged")
async def unchanged(db: AsyncSession = Depends(get_db)):
    supplier = await db.get(Supplier, 1)
    await db.commit()
    return {"set": supplier.updated_at is not None}
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
from models import Base, Eager, Stamped, Supplier


async def seed():
    async with api.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with api.maker() as db:
        db.add_all([Supplier(id=1, name="a"), Eager(id=1, name="a"), Stamped(id=1, name="a")])
        await db.commit()

asyncio.run(seed())
with TestClient(app, raise_server_exceptions=False) as client:
    paths = ["/flushed", "/served", "/refreshed", "/eager", "/python-side", "/unchanged"]
    print(json.dumps({p: client.post(p).status_code for p in paths}))
"""
FLAGGED = {"flushed": "/flushed", "served": "/served"}
NEAR_MISSES = {"refreshed": "/refreshed", "eager": "/eager", "python_side": "/python-side", "unchanged": "/unchanged"}


def test_a_column_the_database_computes_on_update_read_after_the_flush_is_reported(cli, project):
    root = project({"models.py": MODELS, "api.py": ROUTES, "main.py": MAIN})
    document = cli.json("check", root)
    found = {f["function"]: f["message"] for f in document["findings"] if f["code"] == "AM314"}
    assert set(found) == set(FLAGGED), found
    assert "supplier.updated_at (expired by the db.flush() at line" in found["flushed"], found
    assert "Supplier.updated_at, which the database computes on UPDATE" in found["flushed"], found
    assert "whose field SupplierOut.updated_at the response model reads" in found["served"], found
    assert "`await session.refresh(obj)` after the flush or commit" in found["served"], found


def test_the_premise_flagged_routes_raise_and_near_misses_answer(project, tmp_path):
    root = project({"models.py": MODELS, "api.py": ROUTES, "main.py": MAIN})
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}
    result = run_python(SCRIPT, cwd=root, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert {path: answers[path] for path in FLAGGED.values()} == dict.fromkeys(FLAGGED.values(), 500), answers
    assert {path: answers[path] for path in NEAR_MISSES.values()} == dict.fromkeys(NEAR_MISSES.values(), 200), answers
