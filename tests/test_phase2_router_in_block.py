"""A router built in an `if` or `try` block (`try: router = APIRouter(dependencies=[Depends(f)])`)
is read as the one at module level is: phase two points its list at the async twin of `f`. Before,
the analysis planned the twin but the rewrite looked only at top-level statements, so the list
kept `f` and the self-check blocked every route (two Sessions per request). The migrated code is
run and the rows read back."""

from __future__ import annotations

import pytest
from test_phase2_included_dependencies import AUDITING, HEALTH, RENAME
from test_phase2_list_sharers import CHECK, _guarded_router
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, serve, service

__all__ = ["service"]  # the fixture, used by name

LISTED = "router = APIRouter(dependencies=[Depends(audit)])"
BLOCKS = {
    "try": f"try:\n    {LISTED}\nexcept ImportError:\n    raise\n",
    "if": f'if __name__ != "__main__":\n    {LISTED}\n',
}


@pytest.mark.parametrize("block", sorted(BLOCKS))
@pytest.mark.parametrize("kind", KINDS)
def test_a_router_list_in_a_block_moves_to_the_twin_and_the_route_migrates(cli, service, kind, block):
    source = _guarded_router(RENAME, HEALTH).replace(LISTED, BLOCKS[block].strip("\n"))
    root = service({"core/dependencies.py": AUDITING, SUBSYSTEM: source})
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate", handler(document, "rename_me")["reasons"]
    written = read(root, SUBSYSTEM)
    assert "    router = APIRouter(dependencies=[Depends(audit_async)])" in written, written
    assert serve(root, kind, CHECK) == {"status": [200, 200], "name": "Zoe", "audits": 1}
