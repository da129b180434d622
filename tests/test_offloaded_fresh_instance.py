"""A method of an instance built on the spot, handed to the threadpool with the Session.

`await run_in_threadpool(crud.Items().add, db, name)` (the shape of mlrun's endpoints) runs
`Items.add(db, name)` in a worker thread; only the constructor runs on the loop. `check` read
the Session handed there as Session work on the event loop (AM301) and phase one kept the
route as mixed, because the function it runs has no dotted name. Now the call is read as the
method's, offloaded: no finding, and phase two awaits the method (moved to AsyncSession) in its place.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

CRUD = """
from sqlalchemy.orm import Session

from models import Item


class Items:
    def add(self, db: Session, name: str) -> None:
        db.add(Item(name=name, owner_id=1))
        db.commit()
"""
SCRIPT = """
    status = client.post("/items", params={"name": "pen"}).status_code
    with Sync() as s:
        names = sorted(s.scalars(select(Item.name)).all())
    print(json.dumps({"status": status, "names": names}))
"""


def _service(service, call: str, extra: str = ""):  # type: ignore[no-untyped-def]
    return service({
        "services/__init__.py": "",
        "services/crud.py": CRUD,
        SUBSYSTEM: "from fastapi.concurrency import run_in_threadpool\n" + routes(f"""
            @router.post("/items")
            async def create_item(name: str, db: session_dependency):
                await run_in_threadpool({call}, db, name)
                return {{"ok": True}}
        """).replace("from models import Item, User", "from models import Item, User\nfrom services import crud" + extra),
    })


def test_check_and_scan_read_the_fresh_instances_method_as_offloaded(cli, service):
    root = _service(service, "crud.Items().add")
    assert [f["code"] for f in cli.json("check", root)["findings"]] == []
    scanned = handler(cli.json("scan", root), "create_item")
    assert "already runs in a worker thread" in " ".join(scanned["reasons"]), scanned


def test_near_miss_a_method_of_a_value_out_of_a_container_is_still_no_method_named(cli, service):
    # `REGISTRY["items"].add` names no method the analysis can follow: unchanged by this reading
    root = _service(service, 'REGISTRY["items"].add', '\nREGISTRY = {"items": crud.Items()}')
    scanned = handler(cli.json("scan", root), "create_item")
    assert "already runs in a worker thread" not in " ".join(scanned["reasons"]), scanned


@pytest.mark.parametrize("kind", KINDS)
def test_phase_two_awaits_the_fresh_instances_method_and_still_writes(cli, service, kind):
    root = _service(service, "crud.Items().add")
    assert serve(root, kind, SCRIPT) == {"status": 200, "names": ["pen"]}
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "await crud.Items().add(db, name)" in function(root, SUBSYSTEM, "create_item")  # moved in place
    assert serve(root, kind, SCRIPT) == {"status": 200, "names": ["pen"]}


HELPER_CRUD = CRUD + '''

def add_item(db: Session, name: str) -> None:
    Items().add(db, name)
'''


def _through_helper(service, helper: str):  # type: ignore[no-untyped-def]
    return service({
        "services/__init__.py": "",
        "services/crud.py": HELPER_CRUD,
        SUBSYSTEM: "from fastapi.concurrency import run_in_threadpool\n" + routes(helper, """
            @router.post("/items")
            async def create_item(name: str, db: session_dependency):
                return await _store(
                    name=name,
                    db=db,
                )
        """).replace("from models import Item, User", "from models import Item, User\nfrom services import crud"),
    })


def test_a_session_handed_to_a_coroutine_that_offloads_its_work_is_no_work_on_the_loop(cli, service):
    # mlrun's `await _delete_artifacts(..., db_session=db_session)`, whose Session work all goes
    # through `run_in_threadpool`: the route's Session was "used in a way the index cannot name"
    root = _through_helper(service, """
        async def _store(name: str, db: Session = None):
            await run_in_threadpool(crud.add_item, db, name)
            return {"ok": True}
    """)
    assert [f["code"] for f in cli.json("check", root)["findings"]] == []
    scanned = handler(cli.json("scan", root), "create_item")
    assert scanned["codes"] == ["AM131"], scanned
    assert "_store(...), which runs it in a worker thread" in scanned["reasons"][0], scanned


def test_near_miss_a_coroutine_that_offloads_and_also_hands_the_session_to_a_library_still_blocks(cli, service):
    root = _through_helper(service, """
        import somelib


        async def _store(name: str, db: Session = None):
            await run_in_threadpool(crud.add_item, db, name)
            somelib.audit(db, name)
            return {"ok": True}
    """)
    assert [f["code"] for f in cli.json("check", root)["findings"]] == ["AM301"]


def test_near_miss_a_coroutine_doing_session_work_on_the_loop_still_blocks(cli, service):
    root = _through_helper(service, """
        async def _store(name: str, db: Session = None):
            await run_in_threadpool(crud.add_item, db, name)
            db.commit()
            return {"ok": True}
    """)
    assert [f["code"] for f in cli.json("check", root)["findings"]] == ["AM301"]


@pytest.mark.parametrize("kind", KINDS)
def test_phase_two_awaits_the_helper_the_coroutine_offloaded_and_still_writes(cli, service, kind):
    root = _through_helper(service, """
        async def _store(name: str, db: Session = None):
            await run_in_threadpool(crud.add_item, db, name)
            return {"ok": True}
    """)
    assert serve(root, kind, SCRIPT) == {"status": 200, "names": ["pen"]}
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "await crud.add_item(db, name)" in function(root, SUBSYSTEM, "_store")
    assert serve(root, kind, SCRIPT) == {"status": 200, "names": ["pen"]}
