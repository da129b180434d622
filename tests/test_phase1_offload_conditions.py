"""`--offload-mixed` on blocking helper calls read by a test: `if crud.get(db, 1) is None:`,
`if user is None or crud.member(db, ...) is None:`, `while`, `assert`, `not`.

Mixed routes (they await something else) check a row exists before working on it; the
check's helper call is wrapped in place, `await run_in_threadpool(...)`, which keeps the
operators' order and short-circuit. A call in a generator expression of a test is not
wrapped (an `await` there makes it an async generator). The rewritten service is run: the
wrapped helpers run on a worker thread, not the event loop's, and the rows are written.
"""

from __future__ import annotations

import json

from conftest import ITEM_MODELS
from sample import run_python

ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"], connect_args={"check_same_thread": False})
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
MODELS = ITEM_MODELS
CRUD = """
import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item

THREADS: list[str] = []


def get_item(db: Session, item_id: int) -> Item | None:
    THREADS.append(threading.current_thread().name)
    return db.get(Item, item_id)


def count(db: Session) -> int:
    THREADS.append(threading.current_thread().name)
    return db.scalar(select(func.count(Item.id))) or 0


def add(db: Session, name: str) -> Item:
    THREADS.append(threading.current_thread().name)
    item = Item(name=name)
    db.add(item)
    db.commit()
    return item
"""
ROUTES = """
import asyncio
import threading

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

import crud
from db.engine import get_db_session

router = APIRouter()
LOOP: list[str] = []


@router.post("/items/{item_id}/copy")
async def copy_item(item_id: int, db: Session = Depends(get_db_session)):
    await asyncio.sleep(0)
    LOOP.append(threading.current_thread().name)
    if crud.get_item(db, item_id) is None:
        raise HTTPException(status_code=404)
    if item_id < 0 or not crud.count(db) < 10:
        raise HTTPException(status_code=409)
    while crud.count(db) < 3:
        crud.add(db, "filler")
    assert crud.count(db) >= 3
    item = crud.add(db, "copy")
    return {"id": item.id}


@router.get("/any")
async def any_item(db: Session = Depends(get_db_session)):
    await asyncio.sleep(0)
    if any(crud.get_item(db, i) for i in (1, 2)):
        return {"any": True}
    return {"any": False}
"""
MAIN = """
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)
"""
CHECK = """
import json

from fastapi.testclient import TestClient

import api.items
import crud
from db.engine import database_sessionmaker, engine
from main import app
from models import Base, Item

Base.metadata.create_all(engine)
with database_sessionmaker() as s:
    s.add(Item(name="first"))
    s.commit()
with TestClient(app) as client:
    missing = client.post("/items/99/copy").status_code
    copied = client.post("/items/1/copy").json()
with database_sessionmaker() as s:
    names = [i.name for i in s.query(Item).order_by(Item.id)]
print(json.dumps({
    "missing": missing, "copied": copied, "names": names,
    "off_loop": sorted(set(crud.THREADS) & set(api.items.LOOP)) == [] and bool(crud.THREADS),
}))
"""


def test_offload_mixed_wraps_helper_calls_read_by_a_test_and_they_run_off_the_loop(cli, project, tmp_path):
    root = project({
        "db/__init__.py": "", "db/engine.py": ENGINE, "api/__init__.py": "", "api/items.py": ROUTES,
        "crud.py": CRUD, "models.py": MODELS, "main.py": MAIN,
    })
    document = cli.json("phase1", root, "--offload-mixed", "--apply")
    [copy_item] = [h for h in document["handlers"] if h["function"] == "copy_item"]
    assert copy_item["action"] == "keep" and "AM116" not in copy_item["codes"], copy_item["reasons"]
    text = (root / "api/items.py").read_text()
    for line in (
        "    if await run_in_threadpool(crud.get_item, db, item_id) is None:",
        "    if item_id < 0 or not await run_in_threadpool(crud.count, db) < 10:",
        "    while await run_in_threadpool(crud.count, db) < 3:",
        "        await run_in_threadpool(crud.add, db, \"filler\")",
        "    assert await run_in_threadpool(crud.count, db) >= 3",
    ):
        assert line in text, text
    assert cli.json("check", root)["findings"] == [] or all(
        f["function"] == "any_item" for f in cli.json("check", root)["findings"]
    )
    result = run_python(CHECK, cwd=root, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'items.db'}", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "missing": 404, "copied": {"id": 4}, "names": ["first", "filler", "filler", "copy"], "off_loop": True,
    }


def test_near_miss_a_call_in_a_generator_expression_of_a_test_is_not_wrapped(cli, project):
    root = project({
        "db/__init__.py": "", "db/engine.py": ENGINE, "api/__init__.py": "", "api/items.py": ROUTES,
        "crud.py": CRUD, "models.py": MODELS, "main.py": MAIN,
    })
    document = cli.json("phase1", root, "--offload-mixed")
    [any_item] = [h for h in document["handlers"] if h["function"] == "any_item"]
    assert "AM115" not in any_item["codes"] and "AM116" in any_item["codes"], any_item
    assert "any(await" not in document["diff"]


def test_a_call_written_one_argument_per_line_keeps_its_layout_when_wrapped():
    import libcst as cst

    from async_migrate.codemods.phase1.offload import _WrapCalls

    source = (
        "async def restock(request, uow):\n"
        "    for item in (await request.json())['batches']:\n"
        "        messagebus.handle(\n"
        "            commands.CreateBatch(item['ref'], item['sku'], item['qty']),\n"
        "            uow,\n"
        "        )\n"
    )
    tree = cst.parse_module(source)
    # calls in tree order: request.json() is 0, messagebus.handle(...) is 1
    wrapped = tree.visit(_WrapCalls({1}, "run_in_threadpool")).code
    assert wrapped == source.replace(
        "        messagebus.handle(\n",
        "        await run_in_threadpool(\n            messagebus.handle,\n",
    ), wrapped
    one_line = cst.parse_module("def f(db):\n    crud.get(db, 1)\n").visit(_WrapCalls({0}, "run_in_threadpool")).code
    assert one_line == "def f(db):\n    await run_in_threadpool(crud.get, db, 1)\n"
