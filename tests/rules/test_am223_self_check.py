"""AM223 self-check: phase two's output analysed again; a route whose rewritten code would
misbehave (here: a Session call left without `await`) stays synchronous."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import handler, read
from test_phase2_self_check import HELPER, ROUTE, assert_refused, phase2
from test_phase2_soundness import routes

from async_migrate.codemods.phase2 import plan

service = test_phase2_soundness.service  # the same small application on the sync stack


@pytest.fixture
def app(service):  # type: ignore[no-untyped-def]
    return service({"api/items.py": routes(HELPER, ROUTE)})


def test_a_dropped_await_on_a_session_method_blocks_the_route(cli, app, monkeypatch):
    original = plan._plan_calls

    def drop_commit_await(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        _, function = project.functions[fid]
        for call in function.calls:
            if call.method == "commit" and call.index in fplan.calls:
                del fplan.calls[call.index]

    monkeypatch.setattr(plan, "_plan_calls", drop_commit_await)
    assert_refused(cli, app, "`db.commit()` is a coroutine on AsyncSession and is not awaited")


def test_near_miss_the_unbroken_plan_passes_the_self_check(cli, app):
    document, _ = phase2(cli, app)
    assert handler(document, "create_item")["action"] == "migrate"
    assert not any("self-check" in b["message"] for b in document["subsystem"]["blockers"])
    assert "await db.commit()" in read(app, "api/items.py")


def test_a_coroutine_function_the_route_already_calls_without_await_blocks_the_route(cli, service):
    # The original route never awaited `audit` (check's AM311): migrating would leave that
    # coroutine unawaited in code the tool calls migrated, so the route stays as it is.
    root = service({"api/items.py": routes(
        """
        async def audit(name: str) -> str:
            return name.upper()
        """,
        """
        @router.post("/items")
        async def create_item(name: str, db: session_dependency):
            db.add(Item(name=name, owner_id=1))
            db.commit()
            audit(name)
            return {"ok": True}
        """,
    )})
    assert_refused(
        cli, root,
        "api.items.create_item calls the coroutine function api.items.audit without `await` "
        "(the code before phase two does so too",
    )


def test_near_miss_an_awaited_coroutine_function_migrates(cli, service):
    root = service({"api/items.py": routes(
        """
        async def audit(name: str) -> str:
            return name.upper()
        """,
        """
        @router.post("/items")
        async def create_item(name: str, db: session_dependency):
            db.add(Item(name=name, owner_id=1))
            db.commit()
            await audit(name)
            return {"ok": True}
        """,
    )})
    document, _ = phase2(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "await db.commit()" in read(root, "api/items.py")
