"""Phase two's import edits keep the layout the user's imports are written in: a statement
written one name a line (`from m import (\n    a,\n    b,\n)`, as black, isort's black profile
and ruff write it) stays so, with the names in isort's order, whatever phase two adds or drops;
ruff's import sorting finds nothing to change in the result, and the migrated service runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_phase2_rules import apply, handler, read
from test_phase2_soundness import DEPENDENCIES, SUBSYSTEM, serve, service

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
