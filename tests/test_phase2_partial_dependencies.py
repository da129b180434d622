"""Phase two on a dependency named through a module-level `functools.partial`, proved by running.

`require_admin = partial(require_role, "admin")` and `Depends(require_admin)`, or
`repo_dep = partial(make_repo, ItemRepo)`: FastAPI calls `require_role` with the bound arguments.
Phase two twins functions, never a partial: pointing the route at `require_role_async` would drop
the bound `"admin"` (FastAPI would then ask the client for `role`), and writing that name left it
undefined, which only its self-check caught. Such a route is blocked with AM296, naming the
partial and what to write instead; a route of the same subsystem whose dependency is a function
calling the same helper with those arguments migrates, and both answer on every database.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

DEPENDENCIES = """
from functools import partial

from fastapi import HTTPException


def require_owner(owner_id: int, db: Session = Depends(get_db_session)) -> User:
    user = db.get(User, owner_id)
    if user is None:
        raise HTTPException(403, "no such owner")
    return user


require_ann = partial(require_owner, 1)


def require_bob(db: Session = Depends(get_db_session)) -> User:
    return require_owner(2, db)
"""

ROUTES = """
@router.post("/ann/items")
async def add_for_ann(name: str, owner: User = Depends(require_ann), db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=owner.id)
    db.add(item)
    db.commit()
    return {"id": item.id, "owner": owner.name}


@router.post("/bob/items")
async def add_for_bob(name: str, owner: User = Depends(require_bob), db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=owner.id)
    db.add(item)
    db.commit()
    return {"id": item.id, "owner": owner.name}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_partial_dependency_receiving_the_session_blocks_and_a_function_one_migrates(cli, service, kind):
    root = service({SUBSYSTEM: routes(DEPENDENCIES, ROUTES)})
    document = apply(cli, root)
    blocked = handler(document, "add_for_ann")
    assert blocked["action"] == "blocked", blocked
    reason = next(r for r in blocked["reasons"] if "functools.partial" in r)
    assert "runs the dependency `require_ann`, a `functools.partial` of `api.items.require_owner`" in reason
    assert "drop the arguments the partial binds" in reason
    assert "self-check" not in " ".join(blocked["reasons"])
    assert blocked["codes"] == ["AM296"], blocked
    assert handler(document, "add_for_bob")["action"] == "migrate"
    text = read(root, SUBSYSTEM)
    assert "async def add_for_ann(name: str, owner: User = Depends(require_ann), db: Session = Depends(get_db_session)):" in text
    assert "Depends(require_bob_async)" in text
    result = serve(root, kind, """
        ann = client.post("/ann/items", params={"name": "pen"})
        bob = client.post("/bob/items", params={"name": "cup"})
        with Sync() as s:
            rows = sorted((i.name, i.owner_id) for i in s.scalars(select(Item)))
        print(json.dumps({"ann": [ann.status_code, ann.json()["owner"]], "bob": [bob.status_code, bob.json()["owner"]], "rows": rows}))
    """)
    assert result == {"ann": [200, "Ann"], "bob": [200, "Bob"], "rows": [["cup", 2], ["pen", 1]]}
