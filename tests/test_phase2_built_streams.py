"""A statement a project function builds with `execution_options(yield_per=...)`, handed to the
route's Session (`db.scalars(build())`): migrated, `await db.scalars(...)` raised
AsyncMethodRequired on every request (AsyncSession runs a server-side cursor only through
`stream()`). Phase two now blocks the route (AM263) and it keeps working on the synchronous
stack; a neighbour building a plain statement migrates. Both RUN, as in test_phase2_soundness."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
def streamed_names():
    return select(Item.name).order_by(Item.id).execution_options(yield_per=1)


def plain_names():
    return select(Item.name).order_by(Item.id)


@router.get("/streamed")
def streamed(db: session_dependency):
    return {"names": list(db.scalars(streamed_names()))}


@router.get("/plain")
def plain(db: session_dependency):
    return {"names": list(db.scalars(plain_names()))}
"""
SCRIPT = """
with Sync() as s:
    s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2)])
    s.commit()
print(json.dumps({"streamed": client.get("/streamed").json(), "plain": client.get("/plain").json()}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_built_streaming_statement_blocks_its_route_and_a_plain_one_migrates(cli, service, kind):
    root = service({SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    blocked = handler(document, "streamed")
    assert (blocked["action"], blocked["codes"]) == ("blocked", ["AM263"]), blocked
    assert "calls `api.items.streamed_names`" in blocked["reasons"][0]
    assert function(root, SUBSYSTEM, "streamed").startswith("def streamed(")
    assert handler(document, "plain")["action"] == "migrate"
    assert "await db.scalars(plain_names())" in function(root, SUBSYSTEM, "plain")
    result = serve(root, kind, SCRIPT)
    assert result == {"streamed": {"names": ["pen", "cup"]}, "plain": {"names": ["pen", "cup"]}}
