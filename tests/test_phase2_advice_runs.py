"""The fixes two blockers give, followed as written, migrate and write. AM241 on a service reaching
the Session through a repository it holds (`Catalog(Repo(session))`, `self.items.session`): keep the
request's Session from an `__init__` parameter as `self.session`. AM216 on a `@contextmanager`
helper its callers hand their Session (`with transaction(session):`): its statements written in the
caller, `try` over the block, commit, roll back and raise. Each is served before and after phase
two and the rows are read back through a synchronous Session."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service  # noqa: F401

ADVISED = """
class Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: Item) -> Item:
        self.session.add(item)
        self.session.flush()
        return item


class Catalog:
    def __init__(self, items: Repo, session: Session) -> None:
        self.items = items
        self.session = session

    def create(self, name: str) -> Item:
        item = self.items.add(Item(name=name, owner_id=1))
        self.session.commit()
        return item


def get_catalog(session: session_dependency) -> Catalog:
    return Catalog(Repo(session), session)


@router.post("/items")
def add_item(name: str, catalog: Catalog = Depends(get_catalog)):
    return {"id": catalog.create(name).id}


@router.post("/items/checked")
def add_checked(name: str, db: session_dependency):
    try:
        item = Item(name=name, owner_id=1)
        db.add(item)
        if name == "bad":
            raise ValueError(name)
        db.commit()
    except Exception:
        db.rollback()
        raise
    return {"id": item.id}
"""
WRITES = """
made = [client.post("/items", params={"name": "a"}).status_code,
        client.post("/items/checked", params={"name": "b"}).status_code]
try:
    failed = client.post("/items/checked", params={"name": "bad"}).status_code
except ValueError:
    failed = "raised"
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
print(json.dumps({"made": made, "failed": failed, "names": names}))
"""
EXPECTED = {"made": [200, 200], "failed": "raised", "names": ["a", "b"]}


@pytest.mark.parametrize("kind", KINDS)
def test_the_advised_shapes_migrate_and_write(cli, service, kind):  # noqa: F811
    root = service({SUBSYSTEM: routes(ADVISED)})
    assert serve(root, kind, WRITES) == EXPECTED
    document = apply(cli, root)
    for name in ("add_item", "add_checked"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, SUBSYSTEM)
    assert "        await self.session.commit()\n" in text and "        await db.rollback()\n" in text, text
    assert serve(root, kind, WRITES) == EXPECTED
