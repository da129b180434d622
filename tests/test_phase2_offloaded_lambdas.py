"""Phase two on a repository method run in a worker thread through a lambda, `functools.partial`,
`run_in_executor` or a nested `def`, proved by running.

Once the repository moves (`ItemRepositoryAsync`), its methods return coroutines: left inside
`await run_in_threadpool(lambda: repo.get(id))`, the thread hands back a coroutine nobody awaits,
and the route answers 204 with nothing deleted. Phase two writes the parameterless lambda's call in
its place (`await repo.get(id)`), as it writes `await run_in_threadpool(repo.get, id)`, and unwraps
`loop.run_in_executor(None, repo.get, id)` and `partial(repo.get, id)` alike; a shape it cannot write
that way (a nested `def`, a lambda doing more than the one call) blocks the route with AM224.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects
from test_phase2_rules import function, handler, imports, run
from test_phase2_soundness import KINDS, routes, serve

from async_migrate.codemods.phase2 import plan
from async_migrate.codemods.phase2.rewrites import CallKind

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

REPOSITORY = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item


class ItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, id: int) -> Item | None:
        return self.session.get(Item, id)

    def delete(self, item: Item) -> None:
        self.session.delete(item)

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name).order_by(Item.id)))
"""
ROUTES = """
import asyncio
import functools

import anyio
from fastapi.concurrency import run_in_threadpool

from repository import ItemRepository


@router.post("/items/{id}/archive", status_code=204)
async def archive(id: int, db: session_dependency):
    repo = ItemRepository(db)
    item = await run_in_threadpool(lambda: repo.get(id))
    await run_in_threadpool(lambda: repo.delete(item))
    db.commit()


@router.get("/items/{id}")
async def read_item(id: int, db: session_dependency):
    repo = ItemRepository(db)
    item = await asyncio.to_thread(lambda: repo.get(id))
    return {"name": item.name}


@router.get("/executor/{id}")
async def read_executor(id: int, db: session_dependency):
    repo = ItemRepository(db)
    loop = asyncio.get_running_loop()
    item = await loop.run_in_executor(None, repo.get, id)
    return {"name": item.name}


@router.get("/partial/{id}")
async def read_partial(id: int, db: session_dependency):
    repo = ItemRepository(db)
    loop = asyncio.get_running_loop()
    item = await loop.run_in_executor(None, functools.partial(repo.get, id))
    return {"name": item.name}


@router.get("/anyio/{id}")
async def read_anyio(id: int, db: session_dependency):
    repo = ItemRepository(db)
    item = await anyio.to_thread.run_sync(lambda: repo.get(id))
    return {"name": item.name}


@router.get("/items")
async def names(db: session_dependency):
    repo = ItemRepository(db)
    return await run_in_threadpool(repo.names)
"""
CHECK = """
    with Sync() as s:
        s.add_all([Item(name="a", owner_id=1), Item(name="b", owner_id=2), Item(name="c", owner_id=1)])
        s.commit()
    read = [client.get(f"/{path}/1").json() for path in ("items", "executor", "partial", "anyio")]
    status = client.post("/items/2/archive").status_code
    names = client.get("/items").json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"read": read, "status": status, "names": names, "rows": rows}))
"""
EXPECTED = {"read": [{"name": "a"}] * 4, "status": 204, "names": ["a", "c"], "rows": ["a", "c"]}


@pytest.mark.parametrize("kind", KINDS)
def test_a_lambda_or_method_handed_to_a_thread_is_awaited_in_place_and_deletes(cli, service, kind):
    root = service({"repository.py": REPOSITORY, SUBSYSTEM: routes(ROUTES)})
    assert serve(root, kind, CHECK) == EXPECTED
    document = apply_objects(cli, root)
    for route in ("archive", "read_item", "read_executor", "read_partial", "read_anyio", "names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert function(root, SUBSYSTEM, "archive") == (
        "async def archive(id: int, db: async_session_dependency):\n"
        "    repo = ItemRepositoryAsync(db)\n"
        "    item = await repo.get(id)\n"
        "    await repo.delete(item)\n"
        "    await db.commit()"
    )
    assert "    item = await repo.get(id)\n" in function(root, SUBSYSTEM, "read_item")
    assert "    item = await repo.get(id)\n" in function(root, SUBSYSTEM, "read_executor")
    assert "    item = await repo.get(id)\n" in function(root, SUBSYSTEM, "read_partial")
    assert "    item = await repo.get(id)\n" in function(root, SUBSYSTEM, "read_anyio")
    assert "    return await repo.names()" in function(root, SUBSYSTEM, "names")
    assert serve(root, kind, CHECK) == EXPECTED


NESTED_DEF = """
from fastapi.concurrency import run_in_threadpool

from repository import ItemRepository


@router.post("/items/{id}/archive", status_code=204)
async def archive(id: int, db: session_dependency):
    repo = ItemRepository(db)

    def remove():
        repo.delete(repo.get(id))

    await run_in_threadpool(remove)
    db.commit()


@router.post("/items/{id}/rename")
async def rename(id: int, name: str, db: session_dependency):
    repo = ItemRepository(db)
    await run_in_threadpool(lambda: setattr(repo.get(id), "name", name))
    db.commit()
    return {"ok": True}
"""
NESTED_CHECK = """
    with Sync() as s:
        s.add_all([Item(name="a", owner_id=1), Item(name="b", owner_id=2)])
        s.commit()
    status = client.post("/items/2/archive").status_code
    renamed = client.post("/items/1/rename", params={"name": "z"}).json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"status": status, "renamed": renamed, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_nested_def_or_a_lambda_doing_more_blocks_and_still_writes(cli, service, kind):
    root = service({"repository.py": REPOSITORY, SUBSYSTEM: routes(NESTED_DEF)})
    before = serve(root, kind, NESTED_CHECK)
    assert before == {"status": 204, "renamed": {"ok": True}, "rows": ["z"]}
    document = apply_objects(cli, root)
    archive = handler(document, "archive")
    assert archive["action"] == "blocked" and "AM224" in archive["codes"], archive
    assert any("`remove`, a function defined in the route" in r for r in archive["reasons"]), archive
    rename = handler(document, "rename")
    assert rename["action"] == "blocked" and "AM224" in rename["codes"], rename
    assert any("a lambda handed to `run_in_threadpool()` that does more than" in r for r in rename["reasons"]), rename
    assert serve(root, kind, NESTED_CHECK) == before


def test_self_check_a_lambda_left_calling_the_moved_repository_in_a_thread_blocks_the_route(cli, service, monkeypatch):
    # A plan that moves the repository but leaves `await run_in_threadpool(lambda: repo.get(id))`
    # as written: the thread would hand back a coroutine nobody awaits.
    root = service({"repository.py": REPOSITORY, SUBSYSTEM: routes(ROUTES)})
    original = plan._plan_calls

    def keep_lambdas(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        for index, action in list(fplan.calls.items()):
            if action.kind is CallKind.UNWRAP_LAMBDA:
                del fplan.calls[index]

    monkeypatch.setattr(plan, "_plan_calls", keep_lambdas)
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = run(cli, root, "--apply", "--allow-dirty", "--jobs", "1")
    for route in ("archive", "read_item", "read_anyio"):
        found = handler(document, route)
        assert found["action"] == "blocked" and set(found["codes"]) == {"AM223"}, found
        assert f"self-check: {route}: runs repository.ItemRepositoryAsync.get, a coroutine function, in a worker " \
            "thread" in found["reasons"][0], found
    assert "    return await repo.names()" in function(root, SUBSYSTEM, "names")
    assert (root / SUBSYSTEM).read_bytes() != before[root / SUBSYSTEM]
    assert "await run_in_threadpool(lambda: repo.get(id))" in function(root, SUBSYSTEM, "archive")


# Each offload's imports are read by nothing but the offload, except the `partial` a module-level
# value still reads: that one stays.
OFFLOAD_IMPORTS = '''import functools
from asyncio import to_thread
from functools import partial

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from core.dependencies import session_dependency
from repository import ItemRepository

router = APIRouter()
BINARY = partial(int, base=2)


@router.post("/items/{id}/archive", status_code=204)
async def archive(id: int, db: session_dependency):
    repo = ItemRepository(db)
    item = await to_thread(lambda: repo.get(id))
    await run_in_threadpool(functools.partial(repo.delete, item))
    db.commit()


@router.get("/items/{id}")
async def read_item(id: int, db: session_dependency):
    repo = ItemRepository(db)
    item = await run_in_threadpool(partial(repo.get, id))
    return {"name": item.name, "bits": BINARY("101")}
'''
OFFLOAD_IMPORTS_CHECK = """
    with Sync() as s:
        s.add_all([Item(name="a", owner_id=1), Item(name="b", owner_id=2)])
        s.commit()
    read = client.get("/items/1").json()
    status = client.post("/items/2/archive").status_code
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"read": read, "status": status, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_the_imports_only_the_offloads_read_go_with_them(cli, service, kind):
    root = service({"repository.py": REPOSITORY, SUBSYSTEM: OFFLOAD_IMPORTS})
    expected = {"read": {"name": "a", "bits": 5}, "status": 204, "rows": ["a"]}
    assert serve(root, kind, OFFLOAD_IMPORTS_CHECK) == expected
    document = apply_objects(cli, root)
    for route in ("archive", "read_item"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert imports(root, SUBSYSTEM) == [
        "from functools import partial",
        "from fastapi import APIRouter",
        "from core.dependencies import async_session_dependency",
        "from repository import ItemRepositoryAsync",
    ]
    assert "    item = await repo.get(id)\n    await repo.delete(item)\n" in function(root, SUBSYSTEM, "archive")
    assert serve(root, kind, OFFLOAD_IMPORTS_CHECK) == expected
