"""AM118 mislabelled-async-session: a `Session` parameter the body awaits is an AsyncSession: no blocking work."""

from __future__ import annotations


def test_awaited_session_methods_are_am118_not_blocking(app, reported, findings):
    root = app(
        """
        @router.get("/items")
        async def list_items(session: session_dependency):
            rows = await session.execute("select 1")
            return rows.all()
        """
    )
    entry = reported(root, "list_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM118"])
    assert findings(root, "list_items") == []


def test_near_miss_an_unawaited_session_call_still_blocks(app, reported):
    root = app(
        """
        @router.get("/items")
        async def list_items(session: session_dependency):
            await audit()
            return session.execute("select 1").all()
        """
    )
    assert "AM118" not in reported(root, "list_items", "phase1")["codes"]
