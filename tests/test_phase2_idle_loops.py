"""The event loop a migrated function fetched only to offload Session work.

`loop = asyncio.get_running_loop()` then `await loop.run_in_executor(None, crud.add_item, db,
name)`: phase two writes the call `await crud.add_item(db, name)`, and the loop was left
behind, a dead assignment (and an `asyncio` import nothing used). It is dropped where the name
has no other use, and the import where nothing else in the module reads it; a loop used
otherwise (`loop.time()`, another `run_in_executor` left as it is) stays, and so does its
import. The migrated routes RUN on SQLite, PostgreSQL and MariaDB and write their rows.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, function, handler, read
from test_phase2_soundness import CRUD, KINDS, SUBSYSTEM, routes, serve

service = test_phase2_soundness.service

HEAD = "from services import crud\n"
IDLE = """
@router.post("/items")
async def create_item(name: str, db: session_dependency):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, crud.add_item, db, name)
    return {"ok": True}
"""
RUN = """
    answers = [client.post("/items", params={"name": name}).json() for name in ("pen", "ink")]
    with Sync() as s:
        stored = [i.name for i in s.scalars(select(Item).order_by(Item.id))]
    print(json.dumps([answers, stored]))
"""
EXPECTED = [[{"ok": True}, {"ok": True}], ["pen", "ink"]]


def _service(service, text: str, imported: str = "import asyncio\n"):  # type: ignore[no-untyped-def]
    return service({"services/__init__.py": "", "services/crud.py": CRUD, SUBSYSTEM: imported + routes(HEAD, text)})


@pytest.mark.parametrize("kind", KINDS)
def test_a_loop_fetched_only_for_the_unwrapped_offload_is_dropped_with_its_import(cli, service, kind):
    root = _service(service, IDLE)
    assert serve(root, kind, RUN) == EXPECTED
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert function(root, SUBSYSTEM, "create_item") == (
        "async def create_item(name: str, db: async_session_dependency):\n"
        "    await crud.add_item(db, name)\n"
        '    return {"ok": True}'
    )
    assert "import asyncio" not in read(root, SUBSYSTEM), read(root, SUBSYSTEM)
    assert serve(root, kind, RUN) == EXPECTED


def test_a_getter_imported_by_name_is_dropped_too(cli, service):
    root = _service(
        service, IDLE.replace("asyncio.get_running_loop()", "get_running_loop()"), "from asyncio import get_running_loop\n"
    )
    apply(cli, root)
    text = read(root, SUBSYSTEM)
    assert "get_running_loop" not in text, text
    assert "    await crud.add_item(db, name)\n" in text, text
    assert serve(root, "sqlite", RUN) == EXPECTED


USED = """
@router.post("/items")
async def create_item(name: str, db: session_dependency):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, crud.add_item, db, name)
    return {"ok": loop.time() > 0}
"""
STILL_OFFLOADING = """
@router.post("/items")
async def create_item(name: str, db: session_dependency):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, crud.add_item, db, name)
    await loop.run_in_executor(None, sorted, [name])
    return {"ok": True}
"""


@pytest.mark.parametrize("text", [USED, STILL_OFFLOADING], ids=["read-otherwise", "offloading-more"])
def test_near_miss_a_loop_used_otherwise_stays_with_its_import(cli, service, text):
    root = _service(service, text)
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    migrated = function(root, SUBSYSTEM, "create_item")
    assert "    loop = asyncio.get_running_loop()\n    await crud.add_item(db, name)\n" in migrated, migrated
    assert read(root, SUBSYSTEM).startswith("import asyncio\n")
    assert serve(root, "sqlite", RUN) == EXPECTED
