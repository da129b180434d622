"""Phase two on a route importing its helper inside its body (`from crud import add_item`):
the migrated route must call the helper's async counterpart through that import. RUN after.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects
from test_phase2_rules import handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

CRUD = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


def add_item(db: Session, name: str) -> int:
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return db.scalar(select(func.count(Item.id)))
"""
ROUTES = {
    "from": """
@router.post("/items")
def create(name: str, db: session_dependency):
    from crud import add_item

    return {"count": add_item(db, name)}
""",
    "as": """
@router.post("/items")
def create(name: str, db: session_dependency):
    from crud import add_item as add

    return {"count": add(db, name)}
""",
    "relative": """
@router.post("/items")
def create(name: str, db: session_dependency):
    from .crud import add_item

    return {"count": add_item(db, name)}
""",
    "module": """
@router.post("/items")
def create(name: str, db: session_dependency):
    import crud

    return {"count": crud.add_item(db, name)}
""",
}
OTHER = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from crud import add_item
from db.engine import get_db_session

router = APIRouter()


@router.post("/sync/items")
def create_sync(name: str, db: Session = Depends(get_db_session)):
    return {"count": add_item(db, name)}
"""
MAIN = """
from fastapi import FastAPI

from api import items, other

app = FastAPI()
app.include_router(items.router)
app.include_router(other.router)
"""
CHECK = """
    made = [client.post("/items", params={"name": "a"}).json(), client.post("/sync/items", params={"name": "b"}).json()]
    with Sync() as s:
        rows = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
    print(json.dumps({"made": made, "rows": rows}))
"""
EXPECTED = {"made": [{"count": 1}, {"count": 2}], "rows": [["a", 1], ["b", 1]]}


TWIN_IMPORTS = {
    "from": "    from crud import add_item_async\n",
    "as": "    from crud import add_item_async\n",
    "relative": "    from .crud import add_item_async\n",
    "module": "    import crud\n",
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(ROUTES))
@pytest.mark.parametrize("shared", [False, True], ids=["alone", "shared"])
def test_a_helper_imported_inside_the_route_is_called_through_its_async_counterpart(cli, service, kind, shape, shared):
    """Shared with a synchronous router, the helper gets an async twin: the route's own import
    binds it (an import at the top may be the cycle the local one avoids), and the original name,
    read no more, goes."""
    home = "api/crud.py" if shape == "relative" else "crud.py"
    extra = {"api/other.py": OTHER.replace("from crud import", f"from {home[:-3].replace('/', '.')} import"),
             "main.py": MAIN} if shared else {}
    root = service({home: CRUD, SUBSYSTEM: routes(ROUTES[shape]), **extra})
    expected = EXPECTED if shared else {"made": [{"count": 1}], "rows": [["a", 1]]}
    check = CHECK if shared else CHECK.replace(', client.post("/sync/items", params={"name": "b"}).json()', "")
    assert serve(root, kind, check) == expected
    document = apply_objects(cli, root)
    found = handler(document, "create")
    assert found["action"] == "migrate", found["reasons"]
    text = read(root, SUBSYSTEM)
    if shared:
        assert TWIN_IMPORTS[shape] in text, text
        assert "await add_item_async(db, name)" in text or "await crud.add_item_async(db, name)" in text, text
        assert "def add_item(db: Session" in read(root, home)
    assert serve(root, kind, check) == expected


SERVICES = """
from sqlalchemy.orm import Session


def create(db: Session, name: str) -> int:
    from crud import add_item

    return add_item(db, name)
"""
SERVICE_ROUTE = """
from services import create as create_item


@router.post("/items")
def create(name: str, db: session_dependency):
    return {"count": create_item(db, name)}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_twinned_helper_importing_its_own_helper_inside_binds_that_ones_twin(cli, service, kind):
    other = OTHER.replace("from crud import add_item", "from services import create as add_item")
    root = service({"crud.py": CRUD, "services.py": SERVICES, SUBSYSTEM: routes(SERVICE_ROUTE), "api/other.py": other,
                    "main.py": MAIN})
    assert serve(root, kind, CHECK) == EXPECTED
    document = apply_objects(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")["reasons"]
    text = read(root, "services.py")
    assert "    from crud import add_item\n\n    return add_item(db, name)" in text, text
    assert "    from crud import add_item_async\n\n    return await add_item_async(db, name)" in text, text
    assert serve(root, kind, CHECK) == EXPECTED
