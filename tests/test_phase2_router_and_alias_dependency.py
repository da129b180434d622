"""Phase two on a router whose `dependencies=[Depends(get_current_user)]` and an `Annotated` alias
of the same dependency (`CurrentUser`) sit in one module: the plan points both at the twin, but
the self-check read the router's list as still naming `get_current_user` (a whole name was
matched as a substring of `get_current_user_async`) and refused every route of the router, "the
dependency receives the synchronous Session too" (found by a new-user trial). The routes are
migrated and RUN: the user the dependency loads is written by the route's commit, on one Session."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

from async_migrate.codemods.phase2.dependencies import named_in

service = test_phase2_soundness.service

ROUTES = """
from typing import Annotated


def get_current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


CurrentUser = Annotated[User, Depends(get_current_user)]
router = APIRouter(dependencies=[Depends(get_current_user)])


@router.get("/count")
def count_items(db: session_dependency):
    return {"n": db.scalar(select(func.count(Item.id)))}


@router.put("/me")
def rename_me(name: str, user: CurrentUser, db: session_dependency):
    user.name = name
    db.commit()
    return {"name": user.name}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_router_list_and_an_alias_of_one_dependency_both_move_to_its_twin(cli, service, kind):
    root = service({SUBSYSTEM: routes(ROUTES).replace("router = APIRouter()\n", "")})
    document = apply(cli, root)
    for name in ("count_items", "rename_me"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    source = read(root, SUBSYSTEM)
    assert "router = APIRouter(dependencies=[Depends(get_current_user_async)])" in source
    result = serve(root, kind, """
        counted = client.get("/count").status_code
        renamed = client.put("/me", params={"name": "Zoe"}).json()
        with Sync() as s:
            name = s.get(User, 1).name
        print(json.dumps({"counted": counted, "renamed": renamed, "name": name}))
    """)
    assert result == {"counted": 200, "renamed": {"name": "Zoe"}, "name": "Zoe"}


def test_a_dependency_is_named_in_a_list_by_its_whole_name():
    assert named_in("auth.get_user", "[Depends(get_user)]")
    assert named_in("auth.get_user", "[Depends(deps.get_user)]")
    assert named_in("security.RoleChecker()", '[Depends(RoleChecker(["admin"]))]')
    assert not named_in("auth.get_user", "[Depends(get_user_async)]")
    assert not named_in("auth.get_user", "[Depends(get_user_or_none)]")
