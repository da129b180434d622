"""A unit test calling a route function itself with a fake service of its own
(`asyncio.run(count_items(svc=FakeService()))`) blocks that route in phase two (AM265).

Migrated, the route would `await svc.count()` on the async form of the service, and the test's
synchronous fake would raise TypeError: the test broke without warning. Here the route stays as it
is, naming the test's call, the rest of the router migrates, and both the application and the
unit test still run.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

service = test_phase2_soundness.service

ROUTES = (
    """
    class ItemService:
        def __init__(self, db: Session) -> None:
            self.db = db

        def count(self) -> int:
            return self.db.scalar(select(func.count(Item.id)))


    def get_service(db: session_dependency) -> ItemService:
        return ItemService(db)
    """,
    """
    @router.get("/count")
    async def count_items(svc: ItemService = Depends(get_service)):
        return {"n": svc.count()}
    """,
    """
    @router.post("/items")
    def create_item(name: str, db: session_dependency):
        db.add(Item(name=name, owner_id=1))
        db.commit()
        return {"ok": True}
    """,
)
UNIT_TEST = """
import asyncio

from api.items import count_items


class FakeService:
    def count(self):
        return 7


def test_count_items_unit():
    assert asyncio.run(count_items(svc=FakeService())) == {"n": 7}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_a_unit_test_hands_a_fake_service_stays_and_the_test_still_passes(cli, service, kind):
    root = service({SUBSYSTEM: routes(*ROUTES), "tests/test_unit.py": UNIT_TEST})
    document = apply(cli, root)
    found = handler(document, "count_items")
    assert found["action"] == "blocked" and found["codes"] == ["AM265"], found
    assert "tests/test_unit.py:12: tests.test_unit.test_count_items_unit calls the route function count_items " \
        "itself, handing `svc` (filled by `Depends(get_service)`) an object of its own" in found["reasons"][0]
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    result = serve(root, kind, """
        from tests.test_unit import test_count_items_unit

        created = client.post("/items", params={"name": "pen"}).status_code
        test_count_items_unit()  # the unit test, as pytest runs it
        print(json.dumps([created, client.get("/count").json()]))
    """)
    assert result == [200, {"n": 1}]
