"""`await anyio.to_thread.run_sync(helper, db, ...)` with no keyword of anyio's own runs
`helper(db, ...)` as `run_in_threadpool` does: phase two writes it `await helper(db, ...)` and the
migrated route still writes. The migrated code is served and the row read back."""

from __future__ import annotations

from test_phase2_rules import apply, function, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve, service  # noqa: F401

CRUD = """
from sqlalchemy.orm import Session

from models import Item


def add_item(db: Session, name: str) -> None:
    db.add(Item(name=name, owner_id=1))
    db.commit()
"""


def test_an_anyio_offloaded_helper_is_awaited_and_still_writes(cli, service):  # noqa: F811
    root = service({
        "services/__init__.py": "",
        "services/crud.py": CRUD,
        SUBSYSTEM: "import anyio\n" + routes(
            """
            @router.post("/items")
            async def create_item(name: str, db: session_dependency):
                await anyio.to_thread.run_sync(crud.add_item, db, name)
                return {"ok": True}
            """,
        ).replace("from models import Item, User", "from models import Item, User\nfrom services import crud"),
    })
    script = """
        status = client.post("/items", params={"name": "pen"}).status_code
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": status, "names": names}))
    """
    assert serve(root, "sqlite", script) == {"status": 200, "names": ["pen"]}
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "await crud.add_item(db, name)" in function(root, SUBSYSTEM, "create_item")
    assert "anyio" not in function(root, SUBSYSTEM, "create_item")
    assert serve(root, "sqlite", script) == {"status": 200, "names": ["pen"]}
