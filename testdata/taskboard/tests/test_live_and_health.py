import pytest
from starlette.websockets import WebSocketDisconnect


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_notifications_list_what_was_published(client):
    assert client.get("/notifications").json() == []
    client.post("/tasks/3/complete", headers={"X-Token": "cy-token"})
    assert client.get("/notifications").json() == [
        {"topic": "task.completed", "payload": {"task_id": 3, "by": 3}}
    ]
    assert client.get("/notifications", params={"limit": 0}).status_code == 422


def test_board_snapshot_and_lookups(client):
    with client.websocket_connect("/ws/projects/2") as ws:
        board = ws.receive_json()
        assert board["type"] == "board"
        assert [t["id"] for t in board["tasks"]] == [5, 6]
        ws.send_json({"action": "get", "task_id": 6})
        assert ws.receive_json() == {
            "type": "task",
            "task": {"id": 6, "project_id": 2, "title": "Crash on rotate", "status": "doing", "assignee_id": 3},
        }
        ws.send_json({"action": "get", "task_id": 1})  # another project's task
        assert ws.receive_json() == {"type": "error", "detail": "Task not found"}
        ws.send_json({"action": "dance"})
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"action": "close"})
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_board_of_unknown_project_is_closed(client):
    with client.websocket_connect("/ws/projects/99") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008


def test_board_sees_writes_and_survives_a_disconnect(client):
    client.post("/tasks/5/complete", headers={"X-Token": "bo-token"})
    with client.websocket_connect("/ws/projects/2") as ws:
        statuses = {t["id"]: t["status"] for t in ws.receive_json()["tasks"]}
    assert statuses == {5: "done", 6: "doing"}
    assert client.get("/projects/2/summary").status_code == 200
