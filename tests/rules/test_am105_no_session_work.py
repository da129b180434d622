"""AM105 no-session-work: an `async def` handler with no synchronous Session work stays as it is."""

from __future__ import annotations


def test_a_route_without_session_work_keeps_with_am105(app, reported):
    root = app(
        """
        @router.get("/health")
        async def health():
            return {"ok": True}
        """
    )
    entry = reported(root, "health", "phase1")
    assert (entry["action"], entry["codes"], entry["reasons"]) == (
        "keep", ["AM105"], ["does no synchronous Session work"]
    )


def test_near_miss_a_route_whose_helper_takes_its_session_converts(app, reported):
    root = app(
        """
        def count(session):
            return session.execute("select 1").scalar()


        @router.get("/health")
        async def health(session: session_dependency):
            return {"count": count(session)}
        """
    )
    assert reported(root, "health", "phase1")["codes"] == ["AM101"]
