"""Phase two through services whose `__init__` a decorator writes (`@dataclass` and its kind):
the annotated fields are the constructor's parameters, so a `session: Session` field moves to
AsyncSession, in place or in the parallel async class.

As in test_phase2_soundness: migrated with `phase2 --apply`, then RUN with TestClient, and the
database read back through a separate synchronous session.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import MAIN, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

SERVICE = """
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


@dataclass{arguments}
class ItemService:
    session: Session
    owner_id: int = 1

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=self.owner_id)
        self.session.add(item)
        self.session.commit()
        return item

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Item))
"""
ROUTES = (
    """
    from services import ItemService


    def get_service(db: session_dependency) -> ItemService:
        return CONSTRUCTION
    """,
    """
    @router.post("/items")
    def create(name: str, service: ItemService = Depends(get_service)):
        item = service.add(name)
        return {"id": item.id, "count": service.count()}
    """,
)
OTHER = """
from fastapi import APIRouter, Depends

from core.dependencies import session_dependency
from services import ItemService

router = APIRouter()


@router.post("/other")
def create_other(name: str, db: session_dependency):
    return {"count": ItemService(db, 2).add(name).owner_id}
"""
SCRIPT = """
    first = client.post("/items", params={"name": "cup"}).json()
    second = client.post("/items", params={"name": "pen"}).json()
    other = client.post("/other", params={"name": "ink"}).json() if OTHER else None
    with Sync() as s:
        rows = sorted((i.name, i.owner_id) for i in s.scalars(select(Item)))
    print(json.dumps({"counts": [first["count"], second["count"]], "other": other, "rows": rows}))
"""


def _build(service, arguments: str, construction: str, other: bool):  # type: ignore[no-untyped-def]
    files = {
        "services.py": dedent(SERVICE).replace("{arguments}", arguments),
        SUBSYSTEM: routes(*ROUTES).replace("CONSTRUCTION", construction),
    }
    if other:
        files["api/other.py"] = dedent(OTHER)
        files["main.py"] = dedent(MAIN).replace(
            "from api.items import router", "from api.items import router\nfrom api.other import router as other"
        ) + "\napp.include_router(other)\n"
    return service(files)


@pytest.mark.parametrize(
    "arguments, construction",
    [
        ("", "ItemService(session=db)"),
        ("(slots=True)", "ItemService(db)"),
        ("(kw_only=True)", "ItemService(session=db, owner_id=1)"),
        ("(frozen=True)", "ItemService(db, 1)"),
    ],
)
def test_a_dataclass_service_moves_in_place_and_its_writes_land(cli, service, arguments, construction):
    root = _build(service, arguments, construction, other=False)
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    text = read(root, "services.py")
    assert "    session: AsyncSession\n" in text and "async def add(self, name: str) -> Item:" in text, text
    result = serve(root, "sqlite", SCRIPT.replace("if OTHER", "if False"))
    assert result == {"counts": [1, 2], "other": None, "rows": [["cup", 1], ["pen", 1]]}


def test_a_dataclass_service_shared_with_a_synchronous_router_gets_a_parallel_class(cli, service):
    root = _build(service, "", "ItemService(session=db)", other=True)
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    text = read(root, "services.py")
    # the original keeps its Session for the synchronous router; the async class has the field retyped
    original, parallel = text.split("class ItemService", 1)[1].split("\nclass ", 1)
    assert "    session: Session\n" in original, text
    assert "    session: AsyncSession\n" in parallel, text
    result = serve(root, "sqlite", SCRIPT.replace("if OTHER", "if True"))
    assert result == {"counts": [1, 2], "other": {"count": 2}, "rows": [["cup", 1], ["ink", 2], ["pen", 1]]}


def test_near_miss_a_written_init_beside_the_decorator_is_the_one_rewritten(cli, service):
    """An `__init__` the class writes itself wins over the generated one: its parameter moves,
    the field annotation is left as written."""
    root = _build(service, "(init=False)", "ItemService(db)", other=False)
    (root / "services.py").write_text(
        read(root, "services.py").replace(
            "    owner_id: int = 1\n",
            "    owner_id: int = 1\n\n    def __init__(self, session: Session) -> None:\n"
            "        self.session = session\n",
        ),
        encoding="utf-8",
    )
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    text = read(root, "services.py")
    assert "def __init__(self, session: AsyncSession) -> None:" in text, text
    result = serve(root, "sqlite", SCRIPT.replace("if OTHER", "if False"))
    assert result == {"counts": [1, 2], "other": None, "rows": [["cup", 1], ["pen", 1]]}
