"""AM314 after a project function the route hands its AsyncSession commits or expires it.

`await finish(db, item)` where `finish(db, obj)` (typed or not) ends `await db.commit()`, and
`forget(db, item)` ending `db.expire(obj)` or `await forget_all(db)` ending `db.expire_all()`,
expire what the route's Session holds as the same call in its own body does: the read after
refreshes the row and raises MissingGreenlet. `check` read only the route's own calls, and
passed them all. Near misses: a refresh after the call, a helper whose rollback is followed by
the raise leaving it, and `expire_on_commit=False` (an `expire()` still expires)."""

from __future__ import annotations

from rules.test_am314_holder_built_in_with import HEAD

MAIN = """
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app_db import Item, get_db

app = FastAPI()


async def finish(db, obj):
    await db.commit()


async def finish_typed(db: AsyncSession, obj: Item) -> None:
    obj.stock += 1
    await db.commit()


def forget(db, obj):
    db.expire(obj)


async def forget_all(db):
    db.expire_all()


async def outer(session, obj):
    await finish(session, obj)


async def guarded(db, obj):
    try:
        await db.commit()
    except Exception:
        await db.rollback()
        raise HTTPException(409)


@app.post("/a/{item_id}")
async def committed(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    item.stock += 1
    await finish(db, item)
    return {"stock": item.stock}


@app.post("/b/{item_id}")
async def typed(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    await finish_typed(db, item)
    return {"stock": item.stock}


@app.post("/c/{item_id}")
async def expired(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    forget(db, item)
    return {"stock": item.stock}


@app.post("/d/{item_id}")
async def expired_all(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    await forget_all(db)
    return {"stock": item.stock}


@app.post("/e/{item_id}")
async def nested(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    await outer(db, item)
    return {"stock": item.stock}


@app.post("/f/{item_id}")
async def refreshed(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    await finish(db, item)
    await db.refresh(item)
    return {"stock": item.stock}


@app.post("/g/{item_id}")
async def raised(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    item.stock += 1
    await guarded(db, item)
    return {"stock": item.stock}


@app.post("/h/{item_id}")
async def other(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    forget(None, item)
    return {"stock": item.stock}


async def reply(db, name, stock):
    await db.commit()
    return {"name": name, "stock": stock}


@app.post("/i/{item_id}")
async def read_as_arguments(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    return await reply(
        db,
        item.name,
        stock=item.stock,
    )


@app.post("/j/{item_id}")
async def read_after_a_long_call(item_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    item = await db.get(Item, item_id)
    await reply(
        db,
        item.name,
        stock=item.stock,
    )
    return {"stock": item.stock}
"""


def _root(project, keywords: str = ""):  # type: ignore[no-untyped-def]
    return project({"app_db.py": HEAD.format(url="sqlite+aiosqlite:///./app.db", keywords=keywords), "app.py": MAIN})


def test_a_read_after_a_helper_committing_the_session_is_am314(project, findings):
    root = _root(project)
    for name, written in (
        ("committed", "item.stock (expired by the `finish(...)`, which calls `db.commit()`, at line 42)"),
        ("typed", "item.stock (expired by the `finish_typed(...)`, which calls `db.commit()`, at line 49)"),
        ("nested", "item.stock (expired by the `outer(...)`, which calls `db.commit()`, at line 70)"),
    ):
        found = findings(root, name)
        assert [f["code"] for f in found] == ["AM314"], (name, found)
        assert written in found[0]["message"], (name, found)


def test_a_helper_expiring_expires_whatever_the_sessionmaker_says(project, findings):
    root = _root(project, ", expire_on_commit=False")
    found = findings(root, "expired")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "`forget(...)`, which calls `db.expire(obj)`" in found[0]["message"], found
    found = findings(root, "expired_all")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "`forget_all(...)`, which calls `db.expire_all()`" in found[0]["message"], found


def test_near_miss_a_refresh_a_raise_after_the_rollback_and_a_sessionmaker_keeping_objects(project, findings):
    assert findings(_root(project), "refreshed") == []
    kept = _root(project, ", expire_on_commit=False")
    for name in ("committed", "typed", "nested", "raised", "other"):
        assert findings(kept, name) == [], name


def test_reads_that_are_the_calls_own_arguments_run_before_it_and_a_read_after_it_is_am314(project, findings):
    """The arguments of a call written over several lines are read before the helper commits
    (open_webui's `generate_app_channel_reply(...)`, whose keyword arguments read `message.*`)."""
    root = _root(project)
    assert findings(root, "read_as_arguments") == []
    (found,) = findings(root, "read_after_a_long_call")
    start = (root / "app.py").read_text().splitlines().index("    await reply(") + 1
    assert found["code"] == "AM314", found
    assert f"item.stock (expired by the `reply(...)`, which calls `db.commit()`, at line {start})" in found["message"], found
