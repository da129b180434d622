"""AM203 websocket-not-migrated: phase two leaves websocket handlers of the subsystem alone."""

from __future__ import annotations


def test_a_websocket_in_the_subsystem_is_unchanged_with_am203(phase2, entry):
    document = phase2(
        """
        from fastapi import WebSocket


        @router.websocket("/live")
        async def live(ws: WebSocket, session: session_dependency):
            await ws.send_json(session.scalar(select(func.count(Book.id))))
        """
    )
    found = entry(document, "live")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM203"])


def test_near_miss_a_plain_route_beside_it_migrates(phase2, entry):
    document = phase2(
        """
        @router.get("/count")
        def count(session: session_dependency):
            return session.scalar(select(func.count(Book.id)))
        """
    )
    assert entry(document, "count")["codes"] == ["AM201"]
