"""A method a project Session subclass adds (`AppSession.get_or_404`, calling `self.get`), called
on a Session an object holds: `self.db.get_or_404(...)` in a repository method the route calls,
or `repo.db.get_or_404(...)` in the route. Phase two runs it on the Session behind the
AsyncSession through `run_sync`, as it does for `db.get_or_404(...)` on the route's own Session;
each route is migrated and RUN, and what it wrote is read back."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, read
from test_phase2_session_subclass import HAND_STACK, TYPED_ENGINE
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
class ItemRepo:
    def __init__(self, db: Session):
        self.db = db

    def retitle(self, item_id: int, name: str) -> Item:
        item = self.db.get_or_404(Item, item_id)
        item.name = name
        self.db.commit()
        return item


@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.put("/items/{item_id}")
def retitle(item_id: int, name: str, db: session_dependency):
    item = ItemRepo(db).retitle(item_id, name)
    return {"id": item.id, "name": item.name}


@router.get("/items/{item_id}")
def read_item(item_id: int, db: session_dependency):
    repo = ItemRepo(db)
    item = repo.db.get_or_404(Item, item_id)
    return {"id": item.id, "name": item.name}
"""
SCRIPT = """
created = client.post("/items", params={"name": "pen"}).json()
renamed = client.put(f"/items/{created['id']}", params={"name": "ink"})
missing = client.put("/items/999", params={"name": "none"})
got = client.get(f"/items/{created['id']}")
absent = client.get("/items/999")
with Sync() as s:
    rows = sorted(i.name for i in s.scalars(select(Item)).all())
print(json.dumps({
    "renamed": renamed.json(), "missing": missing.status_code, "got": got.json(), "absent": absent.status_code,
    "rows": rows,
}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_held_session_runs_the_subclass_method_through_run_sync(cli, service, kind):
    root = service({"db/engine.py": TYPED_ENGINE, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("retitle", "read_item"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, SUBSYSTEM)
    assert "await self.db.run_sync(lambda sync_session: sync_session.get_or_404(Item, item_id))" in text, text
    assert "await repo.db.run_sync(lambda sync_session: sync_session.get_or_404(Item, item_id))" in text, text
    result = serve(root, kind, SCRIPT)
    assert result == {
        "renamed": {"id": 1, "name": "ink"}, "missing": 404, "got": {"id": 1, "name": "ink"}, "absent": 404,
        "rows": ["ink"],
    }


# The application's own async stack, whose async_sessionmaker makes plain AsyncSessions: the Session
# behind them is no AppSession, and the held call is blocked, not migrated into an AttributeError.
TYPED_HAND_STACK = TYPED_ENGINE.replace('@event.listens_for(AppSession, "before_flush")\n', "").replace(
    '@event.listens_for(AppSession, "after_commit")\n', ""
) + HAND_STACK[HAND_STACK.index("\nfrom sqlalchemy.ext.asyncio"):]


def test_a_reused_stack_without_the_subclass_blocks_the_held_call(cli, service):
    root = service({"db/engine.py": TYPED_HAND_STACK, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    for name in ("retitle", "read_item"):
        reasons = " ".join(handler(document, name)["reasons"])
        assert handler(document, name)["action"] == "blocked", reasons
        assert "get_or_404()` is a method of the Session class `AppSession`" in reasons, reasons



SAVED = """
class ItemRepo:
    def __init__(self, db: Session):
        self.db = db

    def create(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.save(item)
        return item


@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = ItemRepo(db).create(name)
    return {"id": item.id, "name": item.name}
"""


def test_a_held_call_of_a_method_that_commits_blocks_naming_the_commit(cli, service):
    root = service({"db/engine.py": TYPED_ENGINE, SUBSYSTEM: routes(SAVED)})
    document = apply(cli, root)
    entry = handler(document, "create_item")
    reasons = " ".join(entry["reasons"])
    assert entry["action"] == "blocked", reasons
    assert "runs AppSession.save" in reasons and "self.commit()" in reasons, reasons
