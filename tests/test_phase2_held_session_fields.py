"""The annotations of the fields holding the Session on a class that moves to AsyncSession
(`session: Session` in its body, `self.db: Session = db` in `__init__`): phase two retypes them
to AsyncSession, in the class moving in place or in its parallel async class (whose synchronous
original keeps them), with the imports adjusted. Each case is migrated, then RUN (TestClient)
and the database read back, as in test_phase2_soundness.
"""

from __future__ import annotations

import pytest
from test_phase2_dataclass_holders import OTHER, ROUTES, SCRIPT
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import KINDS, MAIN, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

SERVICE = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


class ItemService:
    session: Session

    def __init__(self, session: Session, owner_id: int = 1) -> None:
        self.session = session
        self.reader: Session | None = session
        self.owner_id = owner_id

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=self.owner_id)
        self.session.add(item)
        self.session.commit()
        return item

    def count(self) -> int:
        assert self.reader is not None
        return self.reader.scalar(select(func.count()).select_from(Item))
"""


def _build(service, other: bool):  # type: ignore[no-untyped-def]
    files = {"services.py": dedent(SERVICE), SUBSYSTEM: routes(*ROUTES).replace("CONSTRUCTION", "ItemService(db)")}
    if other:
        files["api/other.py"] = dedent(OTHER)
        files["main.py"] = dedent(MAIN).replace(
            "from api.items import router", "from api.items import router\nfrom api.other import router as other"
        ) + "\napp.include_router(other)\n"
    return service(files)


@pytest.mark.parametrize("kind", KINDS)
def test_the_session_fields_of_a_class_moving_in_place_name_async_session(cli, service, kind):
    root = _build(service, other=False)
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    text = read(root, "services.py")
    assert "class ItemService:\n    session: AsyncSession\n" in text, text
    assert "        self.reader: AsyncSession | None = session\n" in text, text
    # nothing names the synchronous Session any more: its import goes
    assert "from sqlalchemy.ext.asyncio import AsyncSession\n" in text and "Session\n" not in text.replace(
        "AsyncSession\n", ""
    ), text
    result = serve(root, kind, SCRIPT.replace("if OTHER", "if False"))
    assert result == {"counts": [1, 2], "other": None, "rows": [["cup", 1], ["pen", 1]]}


@pytest.mark.parametrize("kind", KINDS)
def test_the_session_fields_of_a_parallel_class_name_async_session_and_the_original_keeps_its_own(cli, service, kind):
    root = _build(service, other=True)
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    text = read(root, "services.py")
    original, parallel = text.split("class ItemService", 1)[1].split("\nclass ", 1)
    assert "    session: Session\n" in original and "self.reader: Session | None = session" in original, text
    assert "    session: AsyncSession\n" in parallel and "self.reader: AsyncSession | None = session" in parallel, text
    result = serve(root, kind, SCRIPT.replace("if OTHER", "if True"))
    assert result == {"counts": [1, 2], "other": {"count": 2}, "rows": [["cup", 1], ["ink", 2], ["pen", 1]]}


# The same service, the Session type spelled through its module or as a forward reference.
SPELLINGS = {
    "module attribute": (
        SERVICE.replace("from sqlalchemy.orm import Session", "from sqlalchemy import orm")
        .replace("session: Session", "session: orm.Session").replace("reader: Session", "reader: orm.Session"),
        ("class ItemService:\n    session: AsyncSession\n", "        self.reader: AsyncSession | None = session\n"),
    ),
    "string": (
        SERVICE.replace("    session: Session\n", '    session: "Session"\n')
        .replace("reader: Session | None", 'reader: Optional["Session"]')
        .replace("from sqlalchemy import", "from typing import Optional\n\nfrom sqlalchemy import"),
        ('class ItemService:\n    session: "AsyncSession"\n', '        self.reader: Optional["AsyncSession"] = session\n'),
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_the_session_fields_are_retyped_however_the_type_is_spelled(cli, service, kind, spelling):
    written, expected = SPELLINGS[spelling]
    root = service({"services.py": dedent(written), SUBSYSTEM: routes(*ROUTES).replace("CONSTRUCTION", "ItemService(db)")})
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")["reasons"]
    text = read(root, "services.py")
    for line in expected:
        assert line in text, text
    assert "orm.Session" not in text and '"Session' not in text, text
    result = serve(root, kind, SCRIPT.replace("if OTHER", "if False"))
    assert result == {"counts": [1, 2], "other": None, "rows": [["cup", 1], ["pen", 1]]}
