"""A view reading through a unit of work's Session (the "Cosmic Python" shape): `with uow:
rows = uow.session.execute(...)` in a function outside the unit-of-work class.

A Session method called on the unit of work's Session where it is read is followed as Session
work on the held Session: after phase two it is awaited there (`rows = await
uow.session.execute(...)`), so the view moves with the class. The Session itself taken out of
the unit of work (`session = uow.session`) is not followed: the route stays blocked, naming the
read. The migrated views run (TestClient) and read back what the routes wrote.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve
from test_phase2_uow_opening import UOW

service = test_phase2_soundness.service

VIEWS = """
from sqlalchemy import select

from models import Item


def item_names(uow) -> list[str]:
    with uow:
        rows = uow.session.execute(select(Item.name).order_by(Item.name))
        return [row.name for row in rows]
"""
ROUTES = (
    """
    from uow import SqlAlchemyUnitOfWork, add_item, get_uow
    from views import item_names
    """,
    """
    @router.post("/items")
    def create_item(name: str, uow: SqlAlchemyUnitOfWork = Depends(get_uow)):
        return {"id": add_item(name, uow)}
    """,
    """
    @router.get("/names")
    def names(uow: SqlAlchemyUnitOfWork = Depends(get_uow)):
        return {"names": item_names(uow)}
    """,
)
RUN = """
    created = [client.post("/items", params={"name": n}).status_code for n in ("pen", "ink")]
    listed = client.get("/names").json()
    with Sync() as s:
        stored = sorted(i.name for i in s.scalars(select(Item)))
    print(json.dumps([created, listed, stored]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_view_calling_a_session_method_on_the_unit_of_works_session_moves_with_it(cli, service, kind):
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW, "views.py": VIEWS})
    assert serve(root, kind, RUN) == [[200, 200], {"names": ["ink", "pen"]}, ["ink", "pen"]]
    document = apply(cli, root)
    for name in ("create_item", "names"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
    text = read(root, "views.py")
    assert (
        "async def item_names(uow) -> list[str]:\n    async with uow:\n"
        "        rows = await uow.session.execute(select(Item.name).order_by(Item.name))\n"
    ) in text, text
    assert "    return {\"names\": await item_names(uow)}" in read(root, SUBSYSTEM)
    assert serve(root, kind, RUN) == [[200, 200], {"names": ["ink", "pen"]}, ["ink", "pen"]]


def test_near_miss_the_session_taken_out_of_the_unit_of_work_still_blocks(cli, service):
    taken = VIEWS.replace(
        "        rows = uow.session.execute(",
        "        session = uow.session\n        rows = session.execute(",
    )
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW, "views.py": taken})
    document = run(cli, root)
    blocked = handler(document, "names")
    assert blocked["action"] == "blocked"
    assert any(
        "views.py:8: reads the Session SqlAlchemyUnitOfWork holds (`uow.session`) from outside the class" in reason
        for reason in blocked["reasons"]
    ), blocked["reasons"]
