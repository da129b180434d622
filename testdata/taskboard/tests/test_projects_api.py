from conftest import ADA, BO, CY

from models import ActivityEvent, Project, Task
from services import digest, notifier


def test_list_projects_hides_archived(client):
    response = client.get("/projects")
    assert response.status_code == 200
    assert [(p["id"], p["name"], p["owner_id"]) for p in response.json()] == [
        (1, "Website relaunch", 1),
        (2, "Mobile app", 2),
    ]
    everything = client.get("/projects", params={"include_archived": True}).json()
    assert [p["id"] for p in everything] == [1, 2, 3]
    assert everything[2]["archived"] is True


def test_create_project_is_written_with_its_activity(client, db):
    response = client.post("/projects", json={"name": "Data warehouse", "description": "ETL"}, headers=CY)
    assert response.status_code == 201
    created = response.json()
    assert created == {"id": 4, "name": "Data warehouse", "description": "ETL", "owner_id": 3, "archived": False}
    project = db.get(Project, 4)
    assert (project.name, project.owner_id) == ("Data warehouse", 3)
    assert [(e.kind, e.detail) for e in project.activity] == [("project.created", "by user 3")]


def test_create_project_errors(client):
    assert client.post("/projects", json={"name": "X"}).status_code == 401
    assert client.post("/projects", json={"name": "X"}, headers={"X-Token": "nope"}).status_code == 401
    assert client.post("/projects", json={"name": ""}, headers=BO).status_code == 422
    duplicate = client.post("/projects", json={"name": "Mobile app"}, headers=BO)
    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": "A project named 'Mobile app' exists"}


def test_get_project(client):
    assert client.get("/projects/2").json()["name"] == "Mobile app"
    missing = client.get("/projects/99")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Project 99 not found"}


def test_update_project_by_owner_and_admin(client, db):
    response = client.patch("/projects/2", json={"description": "iOS and Android"}, headers=BO)
    assert response.status_code == 200
    assert response.json()["description"] == "iOS and Android"
    assert client.patch("/projects/2", json={"archived": True}, headers=ADA).json()["archived"] is True
    db.expire_all()
    assert db.get(Project, 2).archived is True
    kinds = [(e.kind, e.detail) for e in db.get(Project, 2).activity]
    assert kinds == [("project.updated", "description"), ("project.updated", "archived")]


def test_update_project_errors(client):
    assert client.patch("/projects/2", json={"name": "Mine now"}, headers=CY).status_code == 403
    assert client.patch("/projects/99", json={"name": "Ghost"}, headers=ADA).status_code == 404
    assert client.patch("/projects/2", json={"name": "x"}).status_code == 401


def test_delete_project_cascades_and_notifies(client, db):
    assert client.delete("/projects/2", headers=CY).status_code == 403
    response = client.delete("/projects/2", headers=BO)
    assert response.status_code == 204
    assert response.content == b""
    assert db.get(Project, 2) is None
    assert db.query(Task).filter_by(project_id=2).count() == 0
    assert notifier.SENT == [("project.deleted", {"project_id": 2})]
    assert client.delete("/projects/2", headers=BO).status_code == 404


def test_project_summary(client):
    response = client.get("/projects/1/summary")
    assert response.status_code == 200
    assert response.json() == {
        "id": 1,
        "name": "Website relaunch",
        "owner_name": "Ada",
        "task_counts": {"todo": 2, "doing": 1, "done": 1},
        "open_tasks": 3,
    }
    assert client.get("/projects/99/summary").status_code == 404


def test_project_report_announces_itself(client):
    response = client.get("/projects/2/report", headers=CY)
    assert response.status_code == 200
    assert response.json()["task_counts"] == {"todo": 1, "doing": 1, "done": 0}
    assert notifier.SENT == [("project.report", {"project_id": 2, "by": 3})]
    assert client.get("/projects/99/report", headers=CY).status_code == 404
    assert client.get("/projects/2/report").status_code == 401


def test_project_activity_newest_first(client, db):
    client.patch("/projects/1", json={"description": "Spring"}, headers=ADA)
    client.post("/tasks/1/comments", json={"body": "Looks good"}, headers=BO)
    response = client.get("/projects/1/activity")
    assert response.status_code == 200
    assert [(e["kind"], e["detail"]) for e in response.json()] == [
        ("comment.added", "on task 1"),
        ("project.updated", "description"),
        ("project.created", "seed"),
    ]
    assert [e["kind"] for e in client.get("/projects/1/activity", params={"limit": 1}).json()] == ["comment.added"]
    assert db.query(ActivityEvent).count() == 3
    assert client.get("/projects/99/activity").status_code == 404
    assert client.get("/projects/1/activity", params={"limit": 0}).status_code == 422


def test_request_digest_runs_on_the_event_loop(client):
    response = client.post("/projects/1/digest", headers=BO)
    assert response.status_code == 202
    assert response.json() == {"queued": 1}
    assert digest.QUEUED == [(1, 2)]
    assert client.post("/projects/99/digest", headers=BO).status_code == 404
    assert client.post("/projects/1/digest").status_code == 401
