"""A model method handing its object to a Session method (`session.add(self)`) migrates and runs.

SQLAlchemy's own Session methods read nothing lazily from the object they are given (`add`'s
cascade leaves unloaded relationships alone; `delete` and `merge` are awaited on an AsyncSession,
where loads may run): such a hand-off is no unverified read, so the route it was the only
reason for moves, and the migrated application writes what the synchronous one did.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler
from test_phase2_soundness import KINDS, MODELS, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

HANDING_MODELS = MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship",
) + '''
    owner: Mapped[User] = relationship()

    def rename(self, session: Session, name: str) -> None:
        self.name = name
        session.add(self)
'''
ROUTES = routes(
    "",
    """
    def current_item(db: Session = Depends(get_db_session)) -> Item:
        return db.get(Item, 1)


    @router.put("/items/current")
    def rename_current(name: str, db: Session = Depends(get_db_session), item: Item = Depends(current_item)):
        item.rename(db, name)
        db.commit()
        return {"ok": True}
    """,
)
SCRIPT = """
with Sync() as s:
    s.add(Item(id=1, name="old", owner_id=1))
    s.commit()
status = client.put("/items/current", params={"name": "new"}).status_code
with Sync() as s:
    names = s.scalars(select(Item.name)).all()
print(json.dumps({"status": status, "names": names}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_whose_model_method_hands_the_object_to_session_add_migrates_and_saves(cli, service, kind):
    root = service({"models.py": HANDING_MODELS, "api/items.py": ROUTES})
    expected = {"status": 200, "names": ["new"]}
    assert serve(root, kind, SCRIPT) == expected
    document = apply(cli, root)
    route = handler(document, "rename_current")
    assert route["action"] == "migrate", route
    assert serve(root, kind, SCRIPT) == expected
