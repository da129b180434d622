"""AM314 after a commit through a module-level singleton, in code already async.

`db = SessionLocal()` at module level, or `crud = CRUD(SessionLocal())` (a holder built at
import on one AsyncSession), committed in a route: `check` read commits only on a Session the
route names as a local or a parameter, so a read after `await db.commit()` or `await
crud.save()` passed. Where the sessionmaker is known its `expire_on_commit` decides; where the
holder is built on a Session the analysis cannot trace (`CRUD(make_session())`), the read is
reported unverified, never passed. Near misses: `expire_on_commit=False`, and a holder's method
that does not commit."""

from __future__ import annotations

from rules.test_am314_holder_built_in_with import HEAD

DB = HEAD + """

def make_session():
    return SessionLocal()


class CRUD:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def get(self, item_id: int) -> Optional[Item]:
        return await self.db.get(Item, item_id)

    async def save(self) -> None:
        await self.db.commit()

    async def flush(self) -> None:
        await self.db.flush()


db = SessionLocal()
crud = CRUD(SessionLocal())
untraced = CRUD(make_session())
"""
MAIN = """
from fastapi import FastAPI

import shared_db
from shared_db import Item, crud, db

app = FastAPI()


@app.post("/items")
async def create() -> dict:
    item = Item(stock=1)
    db.add(item)
    await db.commit()
    return {"id": item.id}


@app.put("/items/{item_id}")
async def restock(item_id: int) -> dict:
    item = await crud.get(item_id)
    item.stock += 1
    await crud.save()
    return {"stock": item.stock}


@app.put("/untraced/{item_id}")
async def untraced(item_id: int) -> dict:
    item = await shared_db.untraced.get(item_id)
    item.stock += 1
    await shared_db.untraced.save()
    return {"stock": item.stock}


@app.put("/flushed/{item_id}")
async def flushed(item_id: int) -> dict:
    item = await crud.get(item_id)
    item.stock += 1
    await crud.flush()
    return {"stock": item.stock}
"""


def _root(project, keywords: str = ""):  # type: ignore[no-untyped-def]
    return project({"shared_db.py": DB.format(url="sqlite+aiosqlite:///./app.db", keywords=keywords), "shared_main.py": MAIN})


def _am314(findings, root, name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    # AM338 reports the Session every request shares on its own
    return [f for f in findings(root, name) if f["code"] != "AM338"]


def test_a_read_after_a_commit_through_a_module_level_session_or_holder_is_am314(project, findings):
    root = _root(project)
    found = {name: _am314(findings, root, name) for name in ("create", "restock", "untraced")}
    assert {name: [f["code"] for f in each] for name, each in found.items()} == dict.fromkeys(found, ["AM314"]), found
    assert "item.id (expired by the db.commit() at line 13)" in found["create"][0]["message"]
    assert "item.stock (expired by the `crud.save()`, which commits `crud.db`, at line 21)" in found["restock"][0]["message"]
    assert "unverified" not in found["restock"][0]["message"]
    untraced = found["untraced"][0]["message"]
    assert "`shared_db.untraced.save()`, which commits `shared_db.untraced.db`" in untraced, untraced
    assert "unverified (not cleared)" in untraced, untraced


def test_near_miss_a_sessionmaker_keeping_objects_and_a_method_that_does_not_commit(project, findings):
    kept = _root(project, ", expire_on_commit=False")
    assert _am314(findings, kept, "create") == [] and _am314(findings, kept, "restock") == []
    # what the analysis cannot trace stays unverified whatever the sessionmaker it cannot see says
    assert [f["code"] for f in _am314(findings, kept, "untraced")] == ["AM314"]
    assert _am314(findings, _root(project), "flushed") == []
