from conftest import ADA, BO, CY

from models import ActivityEvent, Task
from services import notifier


def test_list_tasks_by_priority(client):
    response = client.get("/projects/1/tasks")
    assert response.status_code == 200
    tasks = response.json()
    assert [t["id"] for t in tasks] == [2, 1, 4, 3]
    assert tasks[0] == {
        "id": 2,
        "project_id": 1,
        "title": "Fix broken footer links",
        "status": "doing",
        "assignee_id": 2,
        "description": "",
        "priority": 1,
        "labels": [{"id": 1, "name": "bug", "color": "#d73a4a"}],
    }
    assert [t["id"] for t in client.get("/projects/1/tasks", params={"status": "todo"}).json()] == [4, 3]
    assert client.get("/projects/1/tasks", params={"status": "later"}).status_code == 422
    assert client.get("/projects/99/tasks").status_code == 404


def test_create_task_is_written_and_announced(client, db):
    body = {"title": "Cookie banner", "priority": 1, "assignee_id": 3}
    response = client.post("/projects/1/tasks", json=body, headers=BO)
    assert response.status_code == 201
    created = response.json()
    assert created["id"] == 7
    assert (created["title"], created["status"], created["assignee_id"], created["labels"]) == (
        "Cookie banner", "todo", 3, []
    )
    task = db.get(Task, 7)
    assert (task.project_id, task.title, task.priority) == (1, "Cookie banner", 1)
    assert db.query(ActivityEvent).filter_by(kind="task.created").one().detail == "7 by user 2"
    assert notifier.SENT == [("task.created", {"task_id": 7, "project_id": 1})]


def test_create_task_errors(client, db):
    assert client.post("/projects/1/tasks", json={"title": "x"}).status_code == 401
    assert client.post("/projects/1/tasks", json={"title": ""}, headers=BO).status_code == 422
    assert client.post("/projects/1/tasks", json={"title": "x", "priority": 9}, headers=BO).status_code == 422
    assert client.post("/projects/99/tasks", json={"title": "x"}, headers=BO).status_code == 404
    assert client.post("/projects/1/tasks", json={"title": "x", "assignee_id": 99}, headers=BO).status_code == 404
    assert db.query(Task).count() == 6
    assert notifier.SENT == []


def test_my_tasks_are_the_open_ones(client):
    assert [t["id"] for t in client.get("/tasks/mine", headers=BO).json()] == [2]
    assert [t["id"] for t in client.get("/tasks/mine", headers=CY).json()] == [3, 6]
    assert client.get("/tasks/mine").status_code == 401


def test_export_streams_csv(client):
    response = client.get("/tasks/export", headers=ADA)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "id,project_id,title,status,assignee_id"
    assert lines[1] == "1,1,Pick a colour scheme,done,2"
    assert lines[4] == "4,1,Update the privacy page,todo,"
    assert len(lines) == 7
    only_mobile = client.get("/tasks/export", params={"project_id": 2}, headers=ADA).text.splitlines()
    assert [line.split(",")[0] for line in only_mobile[1:]] == ["5", "6"]
    assert client.get("/tasks/export").status_code == 401


def test_get_task(client):
    response = client.get("/tasks/6")
    assert response.status_code == 200
    assert [label["name"] for label in response.json()["labels"]] == ["bug", "feature"]
    assert client.get("/tasks/99").status_code == 404


def test_update_task_is_written(client, db):
    response = client.put("/tasks/3", json={"status": "doing", "assignee_id": 1}, headers=CY)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["assignee_id"], response.json()["title"]) == (
        "doing", 1, "Write the launch post"
    )
    task = db.get(Task, 3)
    assert (task.status, task.assignee_id) == ("doing", 1)


def test_update_task_errors(client):
    assert client.put("/tasks/3", json={"status": "doing"}).status_code == 401
    assert client.put("/tasks/99", json={"status": "doing"}, headers=CY).status_code == 404
    assert client.put("/tasks/3", json={"status": "paused"}, headers=CY).status_code == 422
    unknown_user = client.put("/tasks/3", json={"assignee_id": 42}, headers=CY)
    assert unknown_user.status_code == 422
    assert unknown_user.json() == {"detail": "User 42 does not exist"}


def test_delete_task(client, db):
    assert client.delete("/tasks/2").status_code == 401
    response = client.delete("/tasks/2", headers=ADA)
    assert response.status_code == 204
    assert db.get(Task, 2) is None
    assert client.get("/tasks/2/comments", headers=ADA).status_code == 404
    assert client.delete("/tasks/2", headers=ADA).status_code == 404


def test_add_task_label(client, db):
    response = client.post("/tasks/3/labels/2")
    assert response.status_code == 200
    assert [label["name"] for label in response.json()["labels"]] == ["chore"]
    again = client.post("/tasks/3/labels/2")
    assert [label["name"] for label in again.json()["labels"]] == ["chore"]
    assert [label.name for label in db.get(Task, 3).labels] == ["chore"]
    assert client.post("/tasks/3/labels/99").status_code == 404
    assert client.post("/tasks/99/labels/1").status_code == 404


def test_complete_task(client, db):
    response = client.post("/tasks/2/complete", headers=BO)
    assert response.status_code == 200
    assert response.json() == {
        "id": 2, "project_id": 1, "title": "Fix broken footer links", "status": "done", "assignee_id": 2
    }
    assert db.get(Task, 2).status == "done"
    assert notifier.SENT == [("task.completed", {"task_id": 2, "by": 2})]
    assert client.post("/tasks/99/complete", headers=BO).status_code == 404
    assert client.post("/tasks/2/complete").status_code == 401


def test_assign_task_is_audited(client, db):
    response = client.post("/tasks/4/assign/3", headers=ADA)
    assert response.status_code == 200
    assert response.json()["assignee_id"] == 3
    assert db.get(Task, 4).assignee_id == 3
    event = db.query(ActivityEvent).filter_by(kind="task.assigned").one()
    assert (event.project_id, event.detail) == (1, "4 to user 3 by 1")
    assert notifier.SENT == [("task.assigned", {"project_id": 1, "detail": "4 to user 3 by 1"})]
    assert client.post("/tasks/4/assign/99", headers=ADA).status_code == 404
    assert client.post("/tasks/99/assign/1", headers=ADA).status_code == 404
    assert client.post("/tasks/4/assign/1").status_code == 401
