"""AM107 websocket-handler: a websocket handler stays `async def`, even when it blocks."""

from __future__ import annotations


def test_a_websocket_using_its_session_keeps_with_am107_and_still_blocks(app, reported):
    root = app(
        """
        from fastapi import WebSocket


        @router.websocket("/live")
        async def live(ws: WebSocket, session: session_dependency):
            await ws.send_json(session.execute("select 1").scalar())
        """
    )
    entry = reported(root, "live", "phase1")
    assert entry["action"] == "keep"
    assert entry["codes"] == ["AM107", "AM116"]


def test_near_miss_the_same_body_as_an_http_route_is_mixed_not_am107(app, reported):
    root = app(
        """
        from fastapi import Request


        @router.get("/live")
        async def live(request: Request, session: session_dependency):
            await request.body()
            return session.execute("select 1").scalar()
        """
    )
    entry = reported(root, "live", "phase1")
    assert entry["codes"][0] == "AM108" and "AM107" not in entry["codes"]
