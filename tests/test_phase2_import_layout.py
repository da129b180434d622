"""Phase two's import edits keep the layout the user's imports are written in: a statement
written one name a line (`from m import (\n    a,\n    b,\n)`, as black, isort's black profile
and ruff write it) stays so, with the names in isort's order, whatever phase two adds or drops;
ruff's import sorting finds nothing to change in the result, and the migrated service runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import DEPENDENCIES, KINDS, SUBSYSTEM, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = '''from fastapi import (
    APIRouter,
    Depends,
)
from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import (
    Session,  # the request's
)

from core.dependencies import (
    session_dependency,
)
from models import (
    Item,
    User,
)

router = APIRouter()


def count_items(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Item))


@router.post("/items")
def create_item(name: str, db: session_dependency, owner: int = Depends(lambda: 1)):
    db.add(Item(name=name, owner_id=db.get(User, owner).id))
    db.commit()
    return {"count": count_items(db)}
'''


def test_imports_written_one_name_a_line_stay_so_after_phase_two(cli, service):
    root = service({"core/dependencies.py": DEPENDENCIES, SUBSYSTEM: ROUTES})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, SUBSYSTEM)
    assert "from core.dependencies import (\n    async_session_dependency,\n)\n" in text, text
    # the synchronous Session's import goes with its comment; AsyncSession's is a statement of its own
    assert "from sqlalchemy.ext.asyncio import AsyncSession\n" in text and "the request's" not in text, text
    ruff = Path(sys.executable).with_name("ruff")
    sorting = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "I", "--diff", SUBSYSTEM],
        capture_output=True, text=True, check=False, cwd=root,
    )
    assert sorting.returncode == 0, sorting.stdout + sorting.stderr
    result = serve(root, "sqlite", """
        response = client.post("/items", params={"name": "pen"}).json()
        with Sync() as s:
            names = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"response": response, "names": names}))
    """)
    assert result == {"response": {"count": 1}, "names": ["pen"]}


UOW = '''from sqlalchemy.orm import Session

from models import Item


class ItemUnitOfWork:
    def __init__(self, db: Session):
        self.db = db

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item
'''

UOW_ROUTES = '''from fastapi import APIRouter

from core.dependencies import session_dependency
from uow import ItemUnitOfWork

router = APIRouter()


@router.post("/items")
def create_item(name: str, db: session_dependency):
    return {"id": ItemUnitOfWork(db).add(name).id}
'''


@pytest.mark.parametrize("kind", KINDS)
def test_a_library_import_replacing_the_only_one_goes_above_the_projects_top_level_modules(cli, service, kind):
    # `uow.py` and `models.py` are modules of the project's import root, not packages: ruff and
    # isort take `models` for first-party from the folder, so AsyncSession's import (the
    # Session's dropped) opens the file in a section of its own, above `from models import`
    root = service({"uow.py": UOW, SUBSYSTEM: UOW_ROUTES})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, "uow.py")
    assert text.startswith("from sqlalchemy.ext.asyncio import AsyncSession\n\nfrom models import Item\n"), text
    ruff = Path(sys.executable).with_name("ruff")
    sorting = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "I", "--diff", "uow.py", SUBSYSTEM],
        capture_output=True, text=True, check=False, cwd=root,
    )
    assert sorting.returncode == 0, sorting.stdout + sorting.stderr
    result = serve(root, kind, """
        response = client.post("/items", params={"name": "pen"}).json()
        with Sync() as s:
            names = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"response": response, "names": names}))
    """)
    assert result == {"response": {"id": 1}, "names": ["pen"]}
