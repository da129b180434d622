"""`run_in_threadpool` with its function given by keyword, or as a value the analysis cannot name.

`await run_in_threadpool(func=crud.add_item, db=db, name=name)` runs `crud.add_item(db=db,
name=name)` in a worker thread as the positional form does: phase two writes it `await
crud.add_item(db=db, name=name)` (phase one reads it as offloaded work). A function taken out of
a container (`run_in_threadpool(HELPERS["add"], db, name)`) has no name to call in its place: the
route blocks (AM224), where it was migrated with the AsyncSession handed to the thread.
"""

from __future__ import annotations

from test_phase2_anyio_offload import CRUD
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

SCRIPT = """
    status = client.post("/items", params={"name": "pen"}).status_code
    with Sync() as s:
        names = sorted(s.scalars(select(Item.name)).all())
    print(json.dumps({"status": status, "names": names}))
"""


def _service(service, body: str):  # type: ignore[no-untyped-def]
    return service({
        "services/__init__.py": "",
        "services/crud.py": CRUD,
        SUBSYSTEM: "from fastapi.concurrency import run_in_threadpool\n" + routes(body).replace(
            "from models import Item, User", "from models import Item, User\nfrom services import crud"
        ),
    })


def test_a_helper_given_as_func_by_keyword_is_awaited_and_still_writes(cli, service):
    root = _service(service, """
        @router.post("/items")
        async def create_item(name: str, db: session_dependency):
            await run_in_threadpool(db=db, func=crud.add_item, name=name)
            return {"ok": True}
    """)
    assert serve(root, "sqlite", SCRIPT) == {"status": 200, "names": ["pen"]}
    scanned = handler(cli.json("scan", root), "create_item")
    assert "already runs in a worker thread" in " ".join(scanned["reasons"]), scanned
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "await crud.add_item(db=db, name=name)" in function(root, SUBSYSTEM, "create_item")
    assert serve(root, "sqlite", SCRIPT) == {"status": 200, "names": ["pen"]}


def test_a_function_out_of_a_container_handed_the_session_blocks(cli, service):
    root = _service(service, """
        HELPERS = {"add": crud.add_item}


        @router.post("/items")
        async def create_item(name: str, db: session_dependency):
            await run_in_threadpool(HELPERS["add"], db, name)
            return {"ok": True}
    """)
    before = serve(root, "sqlite", SCRIPT)
    document = apply(cli, root)
    blocked = handler(document, "create_item")
    assert blocked["action"] == "blocked" and blocked["codes"] == ["AM224"], blocked
    assert "hands the Session to `run_in_threadpool()` with a function the analysis cannot name" in blocked["reasons"][0]
    assert serve(root, "sqlite", SCRIPT) == before == {"status": 200, "names": ["pen"]}


def test_near_miss_a_named_helper_handed_positionally_still_migrates(cli, service):
    root = _service(service, """
        @router.post("/items")
        async def create_item(name: str, db: session_dependency):
            await run_in_threadpool(crud.add_item, db, name=name)
            return {"ok": True}
    """)
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "await crud.add_item(db, name=name)" in function(root, SUBSYSTEM, "create_item")
    assert serve(root, "sqlite", SCRIPT) == {"status": 200, "names": ["pen"]}
