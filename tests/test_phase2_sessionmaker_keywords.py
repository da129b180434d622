"""The synchronous sessionmaker's keywords reach the async one, or phase two blocks (AM299).

`async_sessionmaker(...)` hands its keywords to the Session behind each AsyncSession: what the
sync sessionmaker says (`autoflush=False`, `twophase=False`) is written into the generated one
as it is. A `**options` mapping unpacked into the call cannot be read, so phase two blocks
instead of generating sessions that flush otherwise. Each test applies phase two and RUNS the
result on every database.
"""

from __future__ import annotations

import pytest
from test_phase2_reused_autoflush import NUMBERED as AUTOFLUSH_ROUTE
from test_phase2_reused_autoflush import SCRIPT
from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import ENGINE, KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

# the same route as a hand migration's test, on the event loop: without autoflush the pending
# item is not counted
NUMBERED = AUTOFLUSH_ROUTE.replace(
    "def add_item(name: str, db: Session = Depends(get_db_session)):", "async def add_item(name: str, db: session_dependency):"
)
assert NUMBERED != AUTOFLUSH_ROUTE
SYNC_MAKER = "database_sessionmaker = sessionmaker(engine, expire_on_commit=False)"


def _engine(maker: str) -> str:
    engine = dedent(ENGINE)
    assert SYNC_MAKER in engine
    return engine.replace(SYNC_MAKER, maker)


@pytest.mark.parametrize("kind", KINDS)
def test_keywords_unpacked_from_a_mapping_block_with_am299_and_the_route_keeps_its_writes(cli, service, kind):
    maker = 'OPTIONS = {"autoflush": False}\ndatabase_sessionmaker = sessionmaker(engine, expire_on_commit=False, **OPTIONS)'
    root = service({SUBSYSTEM: routes(NUMBERED), "db/engine.py": _engine(maker)})
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM299" in found["codes"], found
    assert "`**OPTIONS`" in " ".join(found["reasons"])
    assert function(root, SUBSYSTEM, "add_item").startswith("async def add_item(name: str, db: session_dependency")
    assert serve(root, kind, SCRIPT) == {"status": [200, 200], "names": ["a-0", "b-1"]}


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_keywords_written_out_are_carried_and_the_migrated_route_writes_the_same(cli, service, kind):
    maker = "database_sessionmaker = sessionmaker(engine, expire_on_commit=False, twophase=False, autoflush=False)"
    root = service({SUBSYSTEM: routes(NUMBERED), "db/engine.py": _engine(maker)})
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", document["handlers"]
    generated = (root / "db/engine.py").read_text(encoding="utf-8")
    assert "twophase=False" in generated.split("async_sessionmaker(", 1)[1].split(")", 1)[0]
    assert function(root, SUBSYSTEM, "add_item").startswith("async def add_item(name: str, db: async_session_dependency")
    assert serve(root, kind, SCRIPT) == {"status": [200, 200], "names": ["a-0", "b-1"]}
