"""Phase two on a route awaiting an async facade whose methods run a synchronous client in a
worker thread (`await asyncio.to_thread(lambda: self.sync.remove(ref))`), the client holding a
Session of its own (a `scoped_session` global), proved by running.

The work in that thread never meets the request's Session and never runs on the event loop, so
phase two leaves the facade and the client synchronous and migrates the route around them; the
route's own writes and the thread's land on every database. A lambda handed the request's Session
still blocks (AM224): migrated, it would give the thread a coroutine nobody awaits.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_models import user_item_models
from test_phase2_rules import apply, function, handler, line_of, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

MODELS = user_item_models(after="""
    class Chunk(Base):
        __tablename__ = "chunks"
        id: Mapped[int] = mapped_column(primary_key=True)
        ref: Mapped[int]
        text: Mapped[str] = mapped_column(String(100))
""")
# Several backends behind one base class, the one in use chosen at run time, and an awaitable
# facade handing each call to a worker thread: only the SQL backend holds a Session.
INDEX = """
import asyncio
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

from db.engine import database_sessionmaker
from models import Chunk

ScopedSession = scoped_session(database_sessionmaker)


class IndexBase:
    def add(self, ref: int, text: str) -> None:
        raise NotImplementedError

    def remove(self, ref: int) -> None:
        raise NotImplementedError


class MemoryIndex(IndexBase):
    def __init__(self) -> None:
        self.texts: dict[int, str] = {}

    def add(self, ref: int, text: str) -> None:
        self.texts[ref] = text

    def remove(self, ref: int) -> None:
        self.texts.pop(ref, None)


class SqlIndex(IndexBase):
    def __init__(self) -> None:
        if not os.environ.get("INDEX_URL"):
            self.session = ScopedSession
        else:
            self.session = scoped_session(sessionmaker(create_engine(os.environ["INDEX_URL"])))

    def add(self, ref: int, text: str) -> None:
        self.session.add(Chunk(ref=ref, text=text))
        self.session.commit()

    def remove(self, ref: int) -> None:
        self.session.query(Chunk).filter(Chunk.ref == ref).delete()
        self.session.commit()


_index: IndexBase | None = None


def get_index() -> IndexBase:
    global _index
    if _index is None:
        _index = MemoryIndex() if os.environ.get("INDEX") == "memory" else SqlIndex()
    return _index


class AsyncIndex:
    def __init__(self, sync_index: IndexBase | None = None) -> None:
        self._sync = sync_index

    @property
    def sync(self) -> IndexBase:
        return self._sync if self._sync is not None else get_index()

    async def add(self, ref: int, text: str) -> None:
        return await asyncio.to_thread(lambda: self.sync.add(ref, text))

    async def remove(self, ref: int) -> None:
        return await asyncio.to_thread(lambda: self.sync.remove(ref))


ASYNC_INDEX = AsyncIndex()
"""
ROUTES = """
import asyncio

from search.index import ASYNC_INDEX


@router.post("/items")
async def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    await ASYNC_INDEX.add(item.id, name)
    return {"id": item.id}


@router.delete("/items/{id}", status_code=204)
async def delete_item(id: int, db: session_dependency):
    item = db.get(Item, id)
    db.delete(item)
    db.commit()
    await ASYNC_INDEX.remove(id)


@router.post("/items/{id}/rename")
async def rename_item(id: int, name: str, db: session_dependency):
    item = db.get(Item, id)
    item.name = name
    db.commit()
    await asyncio.to_thread(lambda: ASYNC_INDEX.sync.add(id, name))
    return {"name": item.name}


@router.post("/chunks/{ref}/forget", status_code=204)
async def forget(ref: int):
    await ASYNC_INDEX.remove(ref)
"""
CHECK = """
    from models import Chunk

    created = [client.post("/items", params={"name": name}).json()["id"] for name in ("pen", "ink", "cap")]
    status = client.delete(f"/items/{created[1]}").status_code
    renamed = client.post(f"/items/{created[2]}/rename", params={"name": "lid"}).json()
    client.post(f"/chunks/{created[0]}/forget")
    with Sync() as s:
        items = list(s.scalars(select(Item.name).order_by(Item.id)))
        chunks = list(s.scalars(select(Chunk.text).order_by(Chunk.id)))
    print(json.dumps({"status": status, "renamed": renamed, "items": items, "chunks": chunks}))
"""
EXPECTED = {"status": 204, "renamed": {"name": "lid"}, "items": ["pen", "lid"], "chunks": ["cap", "lid"]}


def build(service):  # type: ignore[no-untyped-def]
    return service({
        "models.py": MODELS, "search/__init__.py": "", "search/index.py": INDEX, SUBSYSTEM: routes(ROUTES),
    })


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_awaiting_a_facade_that_runs_its_own_session_in_a_thread_migrates_and_both_write(
    cli, service, kind
):
    root = build(service)
    assert serve(root, kind, CHECK) == EXPECTED
    index_before = read(root, "search/index.py")
    forget_line = line_of(root, SUBSYSTEM, "await ASYNC_INDEX.remove(ref)")
    document = apply(cli, root)
    for route in ("create_item", "delete_item", "rename_item"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    forget = handler(document, "forget")
    assert forget["action"] == "unchanged" and forget["codes"] == ["AM205"], forget
    assert forget["reasons"][0].startswith(
        "does no synchronous Session work on the event loop: search.index.AsyncIndex.remove "
        f"(line {forget_line}) runs it in a worker thread"
    ), forget
    assert function(root, SUBSYSTEM, "delete_item") == (
        "async def delete_item(id: int, db: async_session_dependency):\n"
        "    item = await db.get(Item, id)\n"
        "    await db.delete(item)\n"
        "    await db.commit()\n"
        "    await ASYNC_INDEX.remove(id)"
    )
    assert "    await asyncio.to_thread(lambda: ASYNC_INDEX.sync.add(id, name))\n" in function(root, SUBSYSTEM, "rename_item")
    # The facade and the client it runs in the thread stay as they are.
    assert read(root, "search/index.py") == index_before
    # Nothing synchronous left on the loop: the thread's work is no finding either.
    assert [f["code"] for f in cli.json("check", root)["findings"]] == []
    assert serve(root, kind, CHECK) == EXPECTED


# The client is handed its Session by whoever builds it: the route builds one on the request's, so
# the class moves to AsyncSession, and the facade's thread would get its coroutines unawaited.
HANDED_INDEX = INDEX.replace(
    """    def __init__(self) -> None:
        if not os.environ.get("INDEX_URL"):
            self.session = ScopedSession
        else:
            self.session = scoped_session(sessionmaker(create_engine(os.environ["INDEX_URL"])))
""",
    """    def __init__(self, session: Session) -> None:
        self.session = session
""",
).replace("else SqlIndex()", "else SqlIndex(database_sessionmaker())").replace(
    "from sqlalchemy.orm import scoped_session, sessionmaker", "from sqlalchemy.orm import Session, scoped_session, sessionmaker"
)
HANDED = """
from search.index import ASYNC_INDEX, SqlIndex


@router.post("/items")
async def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.flush()
    SqlIndex(db).add(item.id, name)
    return {"id": item.id}


@router.delete("/items/{id}", status_code=204)
async def delete_item(id: int, db: session_dependency):
    item = db.get(Item, id)
    db.delete(item)
    db.commit()
    await ASYNC_INDEX.remove(id)
"""
HANDED_CHECK = """
    from models import Chunk

    created = [client.post("/items", params={"name": name}).json()["id"] for name in ("pen", "ink")]
    status = client.delete(f"/items/{created[0]}").status_code
    with Sync() as s:
        items = list(s.scalars(select(Item.name).order_by(Item.id)))
        chunks = list(s.scalars(select(Chunk.text).order_by(Chunk.id)))
    print(json.dumps({"status": status, "items": items, "chunks": chunks}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_client_handed_its_session_by_its_builder_blocks_the_facade_route(cli, service, kind):
    root = service({
        "models.py": MODELS, "search/__init__.py": "", "search/index.py": HANDED_INDEX, SUBSYSTEM: routes(HANDED),
    })
    before = serve(root, kind, HANDED_CHECK)
    assert before == {"status": 204, "items": ["ink"], "chunks": ["ink"]}
    document = apply(cli, root)
    route = handler(document, "delete_item")
    assert route["action"] == "blocked", route
    assert serve(root, kind, HANDED_CHECK) == before
