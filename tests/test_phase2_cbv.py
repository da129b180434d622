"""Phase two on fastapi-utils class-based views (`@cbv(router)`): FastAPI builds the class.

`@cbv` turns the class's `__init__` parameters into the routes' dependencies, so nothing in
the project calls that `__init__`: its `Depends(get_db)` is what gives the view its Session.
When the class moves to AsyncSession the dependency moves with the annotation, or every
migrated route would await the methods of a synchronous Session (TypeError, nothing saved).
Each case is migrated and then RUN; a broken rewrite is caught by the self-check.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

from async_migrate.codemods.phase2.rewrites import session_params

VIEWS = """
from fastapi import HTTPException
from fastapi_utils.cbv import cbv


@cbv(router)
class ItemViews:
    def __init__(self, {param}):
        self.db = db

    @router.post("/items")
    async def create_item(self, name: str):
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return {{"id": item.id}}

    @router.get("/items/{{item_id}}")
    async def read_item(self, item_id: int):
        return {{"name": self._get(item_id).name}}

    def _get(self, item_id: int) -> Item:
        item = self.db.get(Item, item_id)
        if item is None:
            raise HTTPException(404)
        return item
"""
DEPENDS = "db: Session = Depends(get_db_session)"
ALIAS = "db: session_dependency"
SCRIPT = """
created = client.post("/items", params={"name": "kept"})
found = client.get(f"/items/{created.json()['id']}")
missing = client.get("/items/999")
with Sync() as s:
    saved = s.scalar(select(func.count()).select_from(Item).where(Item.name == "kept"))
print(json.dumps({"created": created.status_code, "found": found.json(), "missing": missing.status_code,
                  "saved": saved}))
"""
service = test_phase2_soundness.service  # the same small application on the sync stack
EXPECTED = {"created": 200, "found": {"name": "kept"}, "missing": 404, "saved": 1}


@pytest.mark.parametrize("param", [DEPENDS, ALIAS], ids=["depends", "alias"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_class_based_view_moves_with_its_dependency(cli, service, kind, param):
    root = service({SUBSYSTEM: routes(VIEWS.format(param=param))})
    assert serve(root, kind, SCRIPT) == EXPECTED
    document = apply(cli, root)
    for name in ("ItemViews.create_item", "ItemViews.read_item"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, SUBSYSTEM)
    assert "await self.db.commit()" in text and "await self._get(item_id)" in text
    init = text.split("def __init__(self, ")[1].split(")")[0]
    assert "AsyncSession = Depends(get_async_db_session" in init or init.startswith("db: async_session_dependency")
    assert serve(root, kind, SCRIPT) == EXPECTED
    # idempotent: a second run has nothing left to change
    assert run(cli, root)["files_changed"] == []


def test_a_class_level_session_stays_blocked(cli, service):
    # `db: Session = Depends(get_db_session)` on the class: @cbv makes it an `__init__`
    # parameter phase two does not rewrite; the view is blocked, named, and runs as before.
    views = VIEWS.format(param="").replace("    def __init__(self, ):\n        self.db = db\n",
                                           "    db: Session = Depends(get_db_session)\n")
    root = service({SUBSYSTEM: routes(views)})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "ItemViews.create_item")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", SCRIPT) == EXPECTED


def test_a_dependency_left_synchronous_is_refused_by_the_self_check(cli, service, monkeypatch):
    # The rewrite "forgets" that FastAPI fills `__init__`: AsyncSession annotated, sync dependency kept.
    monkeypatch.setattr(session_params, "_depends_default", lambda project, param: False)
    root = service({SUBSYSTEM: routes(VIEWS.format(param=DEPENDS))})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root, "--jobs", "1")
    found = handler(document, "ItemViews.create_item")
    assert found["action"] == "blocked", found
    reasons = " ".join(found["reasons"])
    assert "self-check:" in reasons and "declares `Depends(get_db_session)`" in reasons, reasons
    assert read(root, SUBSYSTEM) == before
