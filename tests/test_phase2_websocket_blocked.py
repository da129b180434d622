"""A websocket phase two leaves with synchronous Session work on the event loop is `blocked`
(AM203 its reason and a blocker), not `unchanged`: "unchanged" says there is nothing to do, and
the handler still blocks the loop (check's AM301). Before, a subsystem whose only Session work was
such a websocket read "1 unchanged" in the text, the Markdown counts and the JSON. A websocket
doing no Session work stays unchanged. The HTTP route beside it migrates, and the application,
the websocket still on the synchronous Session, runs on each database."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

service = test_phase2_soundness.service

FEED = """
from fastapi import WebSocket


@router.websocket("/ws")
async def feed(websocket: WebSocket, db: Session = Depends(get_db_session)):
    await websocket.accept()
    await websocket.send_json(sorted(db.scalars(select(Item.name))))
    await websocket.close()


@router.websocket("/ping")
async def ping(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_json("pong")
    await websocket.close()
"""
ADD = """
@router.post("/items")
async def add_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""


def test_a_websocket_left_blocking_is_blocked_everywhere_it_is_counted(cli, service, tmp_path):
    root = service({SUBSYSTEM: routes(FEED)})
    document = cli.json("phase2", root, "-s", SUBSYSTEM)
    feed, ping = handler(document, "feed"), handler(document, "ping")
    assert (feed["action"], feed["codes"]) == ("blocked", ["AM203"]), feed
    assert "still blocks the event loop" in feed["reasons"][0]
    assert (ping["action"], ping["codes"], ping["reasons"]) == (
        "unchanged", ["AM203"], ["websocket handlers are not migrated"]
    ), ping
    assert [(b["file"], b["code"]) for b in document["subsystem"]["blockers"]] == [(SUBSYSTEM, "AM203")]
    text = cli("phase2", root, "-s", SUBSYSTEM)
    assert text.exit_code == 0 and "2 handlers: 1 blocked, 1 unchanged" in text.output, text.output
    # --check exits 1 only for changes to make: a blocked websocket changes nothing
    assert cli("phase2", root, "-s", SUBSYSTEM, "--check").exit_code == 0
    report = tmp_path / "plan.md"
    cli("phase2", root, "-s", SUBSYSTEM, "--report", str(report))
    assert "| 2 | 0 | 1 | 1 | 0 | 0 | 1 |" in report.read_text(), report.read_text()
    assert handler(cli.json("scan", root), "feed")["phase2"]["action"] == "blocked"


@pytest.mark.parametrize("kind", KINDS)
def test_the_route_beside_it_migrates_and_the_websocket_still_serves(cli, service, kind):
    root = service({SUBSYSTEM: routes(ADD, FEED)})
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert handler(document, "feed")["action"] == "blocked"
    result = serve(root, kind, """
        status = client.post("/items", params={"name": "added"}).status_code
        with client.websocket_connect("/ws") as ws:
            names = ws.receive_json()
        with client.websocket_connect("/ping") as ws:
            pong = ws.receive_json()
        print(json.dumps({"status": status, "names": names, "pong": pong}))
    """)
    assert result == {"status": 200, "names": ["added"], "pong": "pong"}
