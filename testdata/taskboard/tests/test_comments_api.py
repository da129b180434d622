from conftest import ADA, BO, CY

from models import Comment


def test_list_comments(client):
    response = client.get("/tasks/2/comments", headers=BO)
    assert response.status_code == 200
    assert response.json() == [
        {"id": 1, "task_id": 2, "author_id": 3, "author_name": "Cy", "body": "Footer links point at the old domain"}
    ]
    assert client.get("/tasks/1/comments", headers=BO).json() == []
    assert client.get("/tasks/99/comments", headers=BO).status_code == 404
    assert client.get("/tasks/2/comments").status_code == 401


def test_add_comment_is_written(client, db):
    response = client.post("/tasks/2/comments", json={"body": "Fixed on staging"}, headers=BO)
    assert response.status_code == 201
    assert response.json() == {"id": 2, "task_id": 2, "author_id": 2, "author_name": "Bo", "body": "Fixed on staging"}
    assert [c.body for c in db.query(Comment).filter_by(task_id=2).order_by(Comment.id)] == [
        "Footer links point at the old domain",
        "Fixed on staging",
    ]


def test_add_comment_errors(client, db):
    assert client.post("/tasks/2/comments", json={"body": ""}, headers=BO).status_code == 422
    assert client.post("/tasks/99/comments", json={"body": "Hello"}, headers=BO).status_code == 404
    assert client.post("/tasks/2/comments", json={"body": "Hello"}).status_code == 401
    assert db.query(Comment).count() == 1


def test_delete_comment_by_author_or_admin(client, db):
    assert client.delete("/comments/1", headers=BO).status_code == 403
    assert client.delete("/comments/1", headers=CY).status_code == 204
    assert db.get(Comment, 1) is None
    assert client.delete("/comments/1", headers=CY).status_code == 404
    again = client.post("/tasks/2/comments", json={"body": "Again"}, headers=BO).json()
    assert client.delete(f"/comments/{again['id']}", headers=ADA).status_code == 204
    assert db.query(Comment).count() == 0
