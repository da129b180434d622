"""Reads in a service's methods judged by data flow and annotations, not by attribute name.

`data.items` on a pydantic body whose field shares its name with a relationship (`User.items`)
is no ORM read; `user = self.get(user_id)` (annotated `-> User`) then `user.items` on a
`lazy="selectin"` relationship loads nothing. Such a service method migrates, and runs; on a
lazily loaded relationship the getter's query gets the eager load, and runs too.

As in test_phase2_soundness: migrated with `phase2 --apply`, then RUN with TestClient, and the
database read back through a separate synchronous session.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import MODELS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

RELATED = MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
).replace(
    '    name: Mapped[str] = mapped_column(String(100))\n\n\nclass Item(Base):',
    '    name: Mapped[str] = mapped_column(String(100))\n'
    '    items: Mapped[list["Item"]] = relationship(LAZY)\n\n\nclass Item(Base):',
)
SERVICE = """
from fastapi import HTTPException
from pydantic import BaseModel
from sqlalchemy.orm import Session

from models import Item, User


class ItemsIn(BaseModel):
    items: list[str]


class UserService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> User:
        user = self.session.get(User, user_id)
        if user is None:
            raise HTTPException(status_code=404)
        return user

    def add_items(self, user_id: int, data: ItemsIn) -> dict:
        user = self.get(user_id)
        before = [item.name for item in user.items]
        for name in data.items:
            self.session.add(Item(name=name, owner_id=user.id))
        self.session.commit()
        return {"before": before}
"""
ROUTES = (
    """
    from services import ItemsIn, UserService


    def get_service(db: session_dependency) -> UserService:
        return UserService(db)
    """,
    """
    @router.post("/users/{user_id}/items")
    def add_items(user_id: int, data: ItemsIn, service: UserService = Depends(get_service)):
        return service.add_items(user_id, data)
    """,
)
SCRIPT = """
    first = client.post("/users/1/items", json={"items": ["cup", "pen"]}).json()
    second = client.post("/users/1/items", json={"items": ["ink"]}).json()
    with Sync() as s:
        rows = sorted(s.scalars(select(Item.name)))
    print(json.dumps({"first": first, "second": second, "rows": rows}))
"""


def _build(service, lazy: str):  # type: ignore[no-untyped-def]
    return service({
        "models.py": dedent(RELATED).replace("LAZY", lazy),
        "services.py": dedent(SERVICE),
        SUBSYSTEM: routes(*ROUTES),
    })


@pytest.mark.parametrize("lazy", ['lazy="selectin"', 'lazy="joined"'])
def test_a_schema_field_named_like_a_relationship_and_an_annotated_getter_migrate_and_run(cli, service, lazy):
    root = _build(service, lazy)
    document = apply(cli, root)
    found = handler(document, "add_items")
    assert found["action"] == "migrate", found["reasons"]
    assert "async def add_items(self, user_id: int, data: ItemsIn) -> dict:" in read(root, "services.py")
    result = serve(root, "sqlite", SCRIPT)
    assert result == {"first": {"before": []}, "second": {"before": ["cup", "pen"]}, "rows": ["cup", "ink", "pen"]}


def test_a_lazily_loaded_relationship_read_through_the_getter_gets_its_eager_load_and_runs(cli, service):
    # the getter moves with the route: its `get()` becomes a select loading what the caller reads
    root = _build(service, "")
    document = apply(cli, root)
    found = handler(document, "add_items")
    assert found["action"] == "migrate", found
    reasons = " ".join(found["reasons"])
    assert "adds the eager load of User.items to the query in services.UserService.get" in reasons, reasons
    assert "`data.items`" not in reasons, reasons  # the schema's field is no relationship
    text = read(root, "services.py")
    assert "select(User).where(User.id == user_id).options(selectinload(User.items))" in text, text
    result = serve(root, "sqlite", SCRIPT)
    assert result == {"first": {"before": []}, "second": {"before": ["cup", "pen"]}, "rows": ["cup", "ink", "pen"]}
