"""`typing.cast(Session, db)` (and `cast("Session", db)`) is the Session itself, typed: phase two
follows `db` through it as a receiver (`cast(Session, db).get(...)`), an argument
(`crud.name_of(cast("Session", db), uid)`) and a returned value, never as a call the Session is
handed to (AM215 before). The migrated calls are awaited, the cast names `AsyncSession`, and the
migrated service is RUN; a name bound to a cast is a rebinding, blocked as `s = db` is (AM210).
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_kit import KINDS
from test_phase2_rules import apply, function, handler, read, run
from test_phase2_soundness import SUBSYSTEM, routes, serve

service = test_phase2_soundness.service  # the small application on the sync stack

CRUD = """
from typing import cast

from sqlalchemy.orm import Session

from models import User


def name_of(db: Session, uid: int) -> str:
    return cast(Session, db).get(User, uid).name
"""
ROUTES = """
from typing import cast

import crud


@router.get("/count")
def count(db: Session = Depends(get_db_session)):
    return {"n": cast(Session, db).scalar(select(func.count()).select_from(User))}


@router.get("/name/{uid}")
def name(uid: int, db: Session = Depends(get_db_session)):
    return {"name": crud.name_of(cast("Session", db), uid)}


@router.post("/rename/{uid}")
def rename(uid: int, name: str, db: Session = Depends(get_db_session)):
    user = cast(Session, db).get(User, uid)
    user.name = name
    cast(Session, db).commit()
    return {"ok": True}
"""
CHECK = """
answers = [client.get("/count").json(), client.get("/name/2").json(), client.post("/rename/1", params={"name": "Zoe"}).json()]
with Sync() as s:
    answers.append(s.get(User, 1).name)
print(json.dumps(answers))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_cast_of_the_session_is_the_session_awaited_and_run(cli, service, kind):
    root = service({"crud.py": CRUD, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("count", "name", "rename"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "await cast(AsyncSession, db).scalar(" in function(root, SUBSYSTEM, "count")
    assert 'await crud.name_of(cast("AsyncSession", db), uid)' in function(root, SUBSYSTEM, "name")
    assert "user = await cast(AsyncSession, db).get(User, uid)" in function(root, SUBSYSTEM, "rename")
    assert "    await cast(AsyncSession, db).commit()" in function(root, SUBSYSTEM, "rename")
    assert "return (await cast(AsyncSession, db).get(User, uid)).name" in read(root, "crud.py")
    assert serve(root, kind, CHECK) == [{"n": 2}, {"name": "Bob"}, {"ok": True}, "Zoe"]


def test_near_miss_a_name_bound_to_a_cast_is_a_rebinding_blocked_as_one(cli, service):
    rebound = """
    @router.get("/count")
    def count(db: Session = Depends(get_db_session)):
        s = {value}
        return {{"n": s.scalar(select(func.count()).select_from(User))}}
    """
    reasons = []
    for value in ("cast(Session, db)", "db"):
        root = service({SUBSYSTEM: routes("from typing import cast", rebound.format(value=value))})
        found = handler(run(cli, root), "count")
        assert found["action"] == "blocked" and "AM210" in found["codes"], found
        reasons.append(found["reasons"])
    assert reasons[0] == reasons[1]  # the same reason, naming no call the Session is handed to
