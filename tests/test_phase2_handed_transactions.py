"""Phase two on a `@contextmanager` helper its callers hand their Session (`with transaction(db):`),
proved by running.

A helper whose body only yields the Session it is handed and commits or rolls it back gets an
`@asynccontextmanager` twin beside it, and the migrated callers enter it with `async with
transaction_async(db):`; code that stays synchronous keeps the original. A helper doing more (a log
line), or entered other than as the one item of a `with` binding no name, keeps its callers
blocked (AM216) with the reason. Served before and after on each database: rows written by the
block are committed, a failing block is rolled back.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

IMPORTS = """
import logging
from collections.abc import Iterator
from contextlib import contextmanager
"""
HELPERS = """
@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise


@contextmanager
def logged(session: Session):
    try:
        yield session
        session.commit()
        logging.info("committed")
    except Exception:
        session.rollback()
        raise
"""
ROUTES = """
@router.post("/items")
async def add_item(name: str, db: session_dependency):
    with transaction(db):
        item = Item(name=name, owner_id=1)
        db.add(item)
        db.flush()
        if name == "bad":
            raise ValueError(name)
    return {"id": item.id}


@router.post("/items/bound")
async def add_bound(name: str, db: session_dependency):
    with transaction(db) as s:
        s.add(Item(name=name, owner_id=2))
    return {}


@router.post("/items/logged")
async def add_logged(name: str, db: session_dependency):
    with logged(db):
        db.add(Item(name=name, owner_id=2))
    return {}
"""
OTHER = """
from fastapi import APIRouter

from api.items import transaction
from core.dependencies import session_dependency
from models import Item

router = APIRouter()


@router.post("/other")
def add_other(name: str, db: session_dependency):
    with transaction(db):
        db.add(Item(name=name, owner_id=2))
    return {}
"""
MAIN = """
from fastapi import FastAPI

from api.items import router
from api.other import router as other

app = FastAPI()
app.include_router(router)
app.include_router(other)
"""
WRITES = """
made = [client.post("/items", params={"name": "a"}).status_code]
try:
    failed = client.post("/items", params={"name": "bad"}).status_code
except ValueError:
    failed = "raised"
made += [client.post(path, params={"name": path[1:]}).status_code for path in ("/items/bound", "/items/logged", "/other")]
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
print(json.dumps({"made": made, "failed": failed, "names": names}))
"""
EXPECTED = {"made": [200, 200, 200, 200], "failed": "raised", "names": ["a", "items/bound", "items/logged", "other"]}


@pytest.mark.parametrize("kind", KINDS)
def test_a_transaction_helper_handed_the_session_gets_an_async_twin_entered_with_async_with(cli, service, kind):
    root = service({SUBSYSTEM: IMPORTS.lstrip() + routes(HELPERS, ROUTES), "api/other.py": OTHER, "main.py": MAIN})
    assert serve(root, kind, WRITES) == EXPECTED
    document = apply(cli, root)
    added = handler(document, "add_item")
    assert added["action"] == "migrate", added
    assert any("api.items.transaction_async (the async twin of transaction)" in r for r in added["reasons"]), added
    assert function(root, SUBSYSTEM, "transaction_async") == (
        "async def transaction_async(session: AsyncSession) -> AsyncIterator[AsyncSession]:\n"
        "    try:\n"
        "        yield session\n"
        "        await session.commit()\n"
        "    except Exception:\n"
        "        await session.rollback()\n"
        "        raise"
    )
    assert "    async with transaction_async(db):\n        item = Item(name=name, owner_id=1)\n" in function(
        root, SUBSYSTEM, "add_item"
    )
    # the synchronous route elsewhere keeps entering the original
    assert "with transaction(db):" in (root / "api/other.py").read_text(encoding="utf-8")
    assert "    with logged(db):\n" in function(root, SUBSYSTEM, "add_logged")
    bound = handler(document, "add_bound")
    assert bound["action"] == "blocked" and "AM216" in bound["codes"], bound
    assert any("other than as the one item of a `with` binding no name" in r for r in bound["reasons"]), bound
    logged = handler(document, "add_logged")
    assert logged["action"] == "blocked" and "AM216" in logged["codes"], logged
    assert any("`logging.info('committed')`" in r for r in logged["reasons"]), logged
    assert serve(root, kind, WRITES) == EXPECTED
