"""A Session-taking dependency whose `Security(...)` marker a route hands to a direct call of it,
as fides' user routes do (`await verify_oauth_client(security_scopes=Security(verify_oauth_client,
scopes=[...]), authorization=authorization, db=db)`).

FastAPI resolves no marker handed to a call, but the tool does not follow what the callee does
with it, so the dependency stays one written where the tool cannot tell which routes it applies
to (AM219) and every route of the subsystem stays blocked. The reason names the marker, its
line and the call, and says what to hand instead; handing the value itself (`SecurityScopes`),
the dependency gets its async twin and the routes migrate.
"""

from __future__ import annotations

from test_phase2_rules import apply, handler, read
from test_phase2_soundness import SUBSYSTEM, routes, service

__all__ = ["service"]  # the fixture, used by name

VERIFY = """
from fastapi import Security
from fastapi.security import SecurityScopes


def verify_client(security_scopes: SecurityScopes, db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


@router.get("/items/{item_id}")
async def read_item(item_id: int, db: Session = Depends(get_db_session)):
    user = verify_client(security_scopes=Security(verify_client, scopes=["items:read"]), db=db)
    return {"owner": user.id}


@router.get("/others", dependencies=[Security(verify_client, scopes=["items:read"])])
async def others(db: Session = Depends(get_db_session)):
    return {"n": db.scalar(select(func.count()).select_from(Item))}
"""


def test_a_marker_handed_to_a_call_is_named_with_its_line_and_what_to_hand_instead(cli, service):
    root = service({SUBSYSTEM: routes(VERIFY)})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    for name in ("read_item", "others"):
        found = handler(document, name)
        assert found["action"] == "blocked"
        assert found["codes"] == ["AM219"]
        reasons = " ".join(found["reasons"])
        assert (
            "among them `Security(verify_client, scopes=['items:read'])` (api/items.py:22) handed to "
            "`verify_client(...)`"
        ) in reasons, reasons
        assert "`SecurityScopes(scopes=[...])` for a `security_scopes` parameter" in reasons
    assert read(root, SUBSYSTEM) == before


def test_handing_the_value_itself_migrates_with_the_dependency_twinned(cli, service):
    root = service({SUBSYSTEM: routes(VERIFY.replace(
        'Security(verify_client, scopes=["items:read"]), db=db)', 'SecurityScopes(scopes=["items:read"]), db=db)'
    ))})
    document = apply(cli, root)
    assert handler(document, "read_item")["action"] == "migrate"
    assert handler(document, "others")["action"] == "migrate"
    migrated = read(root, SUBSYSTEM)
    assert "await verify_client_async(security_scopes=SecurityScopes(" in migrated
    assert 'dependencies=[Security(verify_client_async, scopes=["items:read"])]' in migrated
