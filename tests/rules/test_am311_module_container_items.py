"""AM311 for a coroutine method called, unawaited, on an item of a module-level container.

`REPOS = {"task": Repo(SessionLocal())}` then `REPOS["task"].save(task)` without `await`, where
`Repo.save` is `async def`: the call only makes a coroutine, nothing is saved. The value flow does
not type a module-level container's items, so the call had no edge and `check` passed the route
(`module_items` made such a call unverified only for a method doing synchronous Session work).
Now unverified AM311, naming the coroutine method. Near misses: the same call awaited, and a plain
`def` method of the item called as it is."""

from __future__ import annotations

REPO = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Repo:
    def __init__(self, db):
        self.db = db

    async def save(self, task) -> None:
        self.db.add(task)
        await self.db.commit()

    def build(self, title: str) -> dict:
        return {"title": title}


REPOS = {"task": Repo(SessionLocal())}
"""
MAIN = """
from fastapi import FastAPI

from items_repo import REPOS

app = FastAPI()


@app.post("/unawaited")
async def unawaited(title: str) -> dict:
    REPOS["task"].save(title)
    return {"ok": True}


@app.post("/looked_up")
async def looked_up(title: str) -> dict:
    repo = REPOS.get("task")
    repo.save(title)
    return {"ok": True}


@app.post("/awaited")
async def awaited(title: str) -> dict:
    await REPOS["task"].save(title)
    return {"ok": True}


@app.post("/plain")
async def plain(title: str) -> dict:
    return REPOS["task"].build(title)
"""


def test_an_unawaited_coroutine_method_on_a_module_containers_item_is_am311_unverified(project, findings):
    root = project({"items_repo.py": REPO, "items_main.py": MAIN})
    for name in ("unawaited", "looked_up"):
        found = findings(root, name)
        assert [f["code"] for f in found] == ["AM311"], (name, found)
        message = found[0]["message"]
        assert "runs on an item of the module-level container `REPOS` (items_repo.py)" in message, message
        assert "a project `save()` is a coroutine function: items_repo.Repo.save: unverified, not cleared" in message, message


def test_near_miss_the_call_awaited_and_a_plain_method(project, findings):
    root = project({"items_repo.py": REPO, "items_main.py": MAIN})
    for name in ("awaited", "plain"):
        # AM311 only: the Session the one Repo keeps is every request's (AM338's question)
        assert [f for f in findings(root, name) if f["code"] == "AM311"] == [], name
