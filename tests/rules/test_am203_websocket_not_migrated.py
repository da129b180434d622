"""AM203 websocket-not-migrated: phase two leaves websocket handlers of the subsystem alone; one
still doing synchronous Session work on the event loop is blocked, one doing none unchanged."""

from __future__ import annotations


def test_a_websocket_doing_session_work_in_the_subsystem_is_blocked_with_am203(phase2, entry):
    document = phase2(
        """
        from fastapi import WebSocket


        @router.websocket("/live")
        async def live(ws: WebSocket, session: session_dependency):
            await ws.send_json(session.scalar(select(func.count(Book.id))))
        """
    )
    found = entry(document, "live")
    # left on the synchronous Session, still blocking the loop: not "nothing to do"
    assert (found["action"], found["codes"]) == ("blocked", ["AM203"])


def test_near_miss_a_plain_route_beside_it_migrates(phase2, entry):
    document = phase2(
        """
        @router.get("/count")
        def count(session: session_dependency):
            return session.scalar(select(func.count(Book.id)))
        """
    )
    assert entry(document, "count")["codes"] == ["AM201"]


def test_the_reason_names_the_session_work_it_leaves_on_the_event_loop(phase2, entry):
    # Left alone is no all-clear: the message loop still commits on the event loop.
    document = phase2(
        """
        from fastapi import WebSocket


        @router.websocket("/feed")
        async def feed(ws: WebSocket, session: session_dependency):
            while True:
                session.add(Book(title=await ws.receive_text()))
                session.commit()


        @router.websocket("/echo")
        async def echo(ws: WebSocket):
            await ws.send_text(await ws.receive_text())
        """
    )
    reason = entry(document, "feed")["reasons"][0]
    assert "still blocks the event loop (check: AM301)" in reason, reason
    assert "(session.commit())" in reason, reason
    assert entry(document, "echo")["reasons"] == ["websocket handlers are not migrated"]
    assert (entry(document, "feed")["action"], entry(document, "echo")["action"]) == ("blocked", "unchanged")
