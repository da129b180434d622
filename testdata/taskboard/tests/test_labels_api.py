from conftest import ADA, BO

from models import Label, Task


def test_list_labels(client):
    response = client.get("/labels")
    assert response.status_code == 200
    assert response.json() == [
        {"id": 1, "name": "bug", "color": "#d73a4a"},
        {"id": 2, "name": "chore", "color": "#cccccc"},
        {"id": 3, "name": "feature", "color": "#0e8a16"},
    ]


def test_create_label_is_written(client, db):
    response = client.post("/labels", json={"name": "design", "color": "#5319e7"}, headers=ADA)
    assert response.status_code == 201
    assert response.json() == {"id": 4, "name": "design", "color": "#5319e7"}
    assert db.get(Label, 4).name == "design"
    assert [label["name"] for label in client.get("/labels").json()] == ["bug", "chore", "design", "feature"]


def test_create_label_errors(client):
    assert client.post("/labels", json={"name": "design"}).status_code == 401
    assert client.post("/labels", json={"name": "design"}, headers=BO).status_code == 403
    assert client.post("/labels", json={"name": "design", "color": "red"}, headers=ADA).status_code == 422
    duplicate = client.post("/labels", json={"name": "bug"}, headers=ADA)
    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": "Label 'bug' exists"}


def test_label_tasks(client):
    response = client.get("/labels/3/tasks")
    assert response.status_code == 200
    assert [t["id"] for t in response.json()] == [1, 5, 6]
    assert client.get("/labels/99/tasks").status_code == 404


def test_delete_label_detaches_it(client, db):
    assert client.delete("/labels/1", headers=BO).status_code == 403
    assert client.delete("/labels/1", headers=ADA).status_code == 204
    assert db.get(Label, 1) is None
    assert [label.name for label in db.get(Task, 6).labels] == ["feature"]
    assert client.delete("/labels/1", headers=ADA).status_code == 404


def test_each_request_gets_a_fresh_scoped_session(client):
    """A label written by one request is visible to the next: the scoped Session was removed."""
    assert len(client.get("/labels").json()) == 3
    client.post("/labels", json={"name": "design"}, headers=ADA)
    client.delete("/labels/2", headers=ADA)
    assert [label["name"] for label in client.get("/labels").json()] == ["bug", "design", "feature"]
