"""Two shapes phase two used to migrate into code that fails on every request: a transaction
entered in a `with` statement beside a synchronous context manager (`with db.begin(),
db.no_autoflush:` became `async with ...`, TypeError: no `__aenter__`), and the Session handed to a
lambda as a parameter default (`(lambda s=db: s.scalar(q))()` returned a coroutine never awaited).
Both now block their route (AM289, AM211), which keeps working on the synchronous stack; two
transactions `async with` enters alike migrate. All RUN, as in test_phase2_soundness."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
@router.post("/plain")
def plain(name: str, db: session_dependency):
    with db.begin(), db.no_autoflush:
        db.add(Item(name=name, owner_id=1))
    return {"ok": True}


@router.get("/count")
def count(db: session_dependency):
    return {"count": (lambda s=db: s.scalar(select(func.count()).select_from(Item)))()}


@router.post("/savepoint")
def savepoint(name: str, db: session_dependency):
    with db.begin(), db.begin_nested():
        db.add(Item(name=name, owner_id=2))
    return {"ok": True}
"""
SCRIPT = """
plain = client.post("/plain", params={"name": "pen"})
saved = client.post("/savepoint", params={"name": "cup"})
count = client.get("/count")
with Sync() as s:
    rows = sorted((i.name, i.owner_id) for i in s.scalars(select(Item)).all())
print(json.dumps({"plain": plain.status_code, "saved": saved.status_code, "count": count.json(), "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_shared_with_and_lambda_default_block_and_their_neighbour_migrates(cli, service, kind):
    root = service({SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    assert (handler(document, "plain")["action"], handler(document, "plain")["codes"]) == ("blocked", ["AM289"])
    assert (handler(document, "count")["action"], handler(document, "count")["codes"]) == ("blocked", ["AM211"])
    assert function(root, SUBSYSTEM, "plain").startswith("def plain(")
    assert function(root, SUBSYSTEM, "count").startswith("def count(")
    assert handler(document, "savepoint")["action"] == "migrate"
    assert "    async with db.begin(), db.begin_nested():" in function(root, SUBSYSTEM, "savepoint")
    result = serve(root, kind, SCRIPT)
    assert result == {"plain": 200, "saved": 200, "count": {"count": 2}, "rows": [["cup", 2], ["pen", 1]]}
