"""Phase two and a Session opened by assignment: closed on every path (a `finally`) it migrates
and gives its connection back on the error path too; closed only on some (after the work, in an
`except`), it is blocked (AM154) and the route, unchanged, still works.

As in test_phase2_soundness: the application is migrated with `phase2 --apply`, then RUN.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

CLOSED_IN_FINALLY = """
from fastapi import HTTPException

from db.engine import database_sessionmaker


@router.get("/users/{user_id}")
def read_user(user_id: int):
    s = database_sessionmaker()
    try:
        user = s.get(User, user_id)
        if user is None:
            raise HTTPException(404)
        return {"name": user.name}
    finally:
        s.close()
"""
CLOSED_ON_SUCCESS = """
@router.get("/names/{user_id}")
def read_name(user_id: int):
    s = database_sessionmaker()
    user = s.get(User, user_id)
    if user is None:
        raise HTTPException(404)
    s.close()
    return {"name": user.name}
"""
# Every connection the requests took is back in the pool, and none was left to the garbage
# collector (which drops an AsyncSession's connection with a warning instead of returning it).
LEAK_CHECK = """
import gc
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    statuses = [client.get(path).status_code for path in PATHS]
    gc.collect()
pool = stack.async_engine.sync_engine.pool if hasattr(stack, "async_engine") else engine.pool
print(json.dumps({
    "statuses": statuses,
    "checked_out": pool.checkedout(),
    "left_to_the_collector": [str(w.message)[:80] for w in caught if "non-checked-in" in str(w.message)],
}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_session_closed_in_a_finally_migrates_and_returns_its_connection_on_the_error_path(
    cli, service, kind
):
    root = service({SUBSYSTEM: routes(CLOSED_IN_FINALLY)})
    document = apply(cli, root)
    assert handler(document, "read_user")["action"] == "migrate"
    assert "await s.close()" in function(root, SUBSYSTEM, "read_user")
    result = serve(root, kind, LEAK_CHECK.replace("PATHS", '["/users/1", "/users/99", "/users/99", "/users/2"]'))
    assert result == {"statuses": [200, 404, 404, 200], "checked_out": 0, "left_to_the_collector": []}


@pytest.mark.parametrize("kind", KINDS)
def test_a_session_closed_only_on_the_success_path_blocks_and_the_route_still_works(cli, service, kind):
    root = service({SUBSYSTEM: routes(CLOSED_IN_FINALLY, CLOSED_ON_SUCCESS)})
    document = apply(cli, root)
    found = handler(document, "read_name")
    assert (found["action"], found["codes"]) == ("blocked", ["AM154"]), found
    assert "closes it only on some paths (`s.close()` at line" in found["reasons"][0]
    assert function(root, SUBSYSTEM, "read_name").startswith("def read_name(")
    result = serve(root, kind, LEAK_CHECK.replace("PATHS", '["/names/1", "/names/99", "/users/99"]'))
    # the synchronous route's Session left open on the 404 goes back through the collector, as before
    assert result["statuses"] == [200, 404, 404] and result["left_to_the_collector"] == [], result
