"""Phase two on a permission check written as a callable class (`Depends(Access(write=True))`)
whose instances code outside the routes also calls: a script's `__main__` block (a module-level
instance, or one built in place) or a unit test. Phase two rewrote `Access.__call__` in place to
`async def`, so the script printed "Bob may edit" beside "coroutine never awaited": the check
that raised 403 before became a no-op. Now the routes injecting it stay, the rest of the
subsystem migrates, and the migrated application is run on each database: the route still
denies, the script and the unit test still get the synchronous check."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

ACCESS = """
from fastapi import HTTPException


class Access:
    def __init__(self, write: bool = False) -> None:
        self.write = write

    def __call__(self, user_id: int, db: Session = Depends(get_db_session)) -> User:
        user = db.get(User, user_id)
        if self.write and user.name != "Ann":
            raise HTTPException(status_code=403, detail="not the owner")
        return user
"""
ROUTES = """
@router.post("/items")
def create_item(name: str, user: User = Depends(Access(write=True)), db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=user.id))
    db.commit()
    return {"owner": user.name}


@router.get("/items/count")
def count_items(db: Session = Depends(get_db_session)):
    return {"n": db.scalar(select(func.count(Item.id)))}
"""
REPORT = """
from fastapi import HTTPException

from api.items import Access
from db.engine import database_sessionmaker

checker = Access(write=True)

if __name__ == "__main__":
    with database_sessionmaker() as db:
        for user_id in (1, 2):
            try:
                CALL
                print(user_id, "may edit")
            except HTTPException:
                print(user_id, "denied")
"""
UNIT = """
import pytest
from fastapi import HTTPException

from api.items import Access


def test_bob_may_not_edit(db):
    with pytest.raises(HTTPException):
        Access(write=True)(2, db)
    return "denied"
"""
CALLERS = {
    "script-module-instance": {"scripts/report.py": REPORT.replace("CALL", "checker(user_id, db)")},
    "script-built-in-place": {"scripts/report.py": REPORT.replace("CALL", "Access(write=True)(user_id, db)")},
    "unit-test": {"tests/test_access.py": UNIT},
}
RUN = """
    import contextlib
    import gc
    import io
    import runpy
    import sys

    unraisable = []
    sys.unraisablehook = lambda u: unraisable.append(repr(u.exc_value))
    caller = []
    if SCRIPT:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            runpy.run_path("scripts/report.py", run_name="__main__")
        caller = out.getvalue().splitlines()
    else:
        with Sync() as s:
            caller = [runpy.run_path("tests/test_access.py")["test_bob_may_not_edit"](s)]
    denied = client.post("/items", params={"name": "b", "user_id": 2})
    allowed = client.post("/items", params={"name": "a", "user_id": 1}).json()
    count = client.get("/items/count").json()
    gc.collect()
    with Sync() as s:
        rows = [(i.name, i.owner_id) for i in s.scalars(select(Item))]
    print(json.dumps({"caller": caller, "denied": [denied.status_code, denied.json()], "allowed": allowed,
                      "count": count, "rows": rows, "unraisable": unraisable}))
"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_an_instance_a_script_or_a_test_calls_keeps_its_synchronous_check(cli, service, monkeypatch, kind, caller):
    root = service({SUBSYSTEM: routes(ACCESS, ROUTES), **CALLERS[caller]})
    document = apply(cli, root)
    blocked = handler(document, "create_item")
    assert blocked["action"] == "blocked" and "AM219" in blocked["codes"], blocked
    assert "api.items.Access.__call__ is also called directly (" in blocked["reasons"][blocked["codes"].index("AM219")]
    assert handler(document, "count_items")["action"] == "migrate"
    text = read(root, SUBSYSTEM)
    assert "    def __call__(self, user_id: int, db: Session = Depends(get_db_session)) -> User:" in text
    assert "async def count_items(" in text
    monkeypatch.setenv("PYTHONWARNINGS", "error::RuntimeWarning")
    script = caller.startswith("script")
    ran = serve(root, kind, RUN.replace("SCRIPT", repr(script)))
    assert ran == {
        "caller": ["1 may edit", "2 denied"] if script else ["denied"],
        "denied": [403, {"detail": "not the owner"}],
        "allowed": {"owner": "Ann"},
        "count": {"n": 1},
        "rows": [["a", 1]],
        "unraisable": [],
    }, ran
