from conftest import ADA, BO

from models import User


def test_read_me(client):
    response = client.get("/users/me", headers=BO)
    assert response.status_code == 200
    assert response.json() == {"id": 2, "email": "bo@example.com", "name": "Bo", "is_admin": False}
    assert client.get("/users/me").status_code == 401
    invalid = client.get("/users/me", headers={"X-Token": "stolen"})
    assert invalid.status_code == 401
    assert invalid.headers["www-authenticate"] == "Token"


def test_list_users_is_admin_only(client):
    response = client.get("/users", headers=ADA)
    assert response.status_code == 200
    assert [u["name"] for u in response.json()] == ["Ada", "Bo", "Cy"]
    assert [u["id"] for u in client.get("/users", params={"skip": 1, "limit": 1}, headers=ADA).json()] == [2]
    assert client.get("/users", headers=BO).status_code == 403
    assert client.get("/users", params={"limit": 0}, headers=ADA).status_code == 422


def test_create_user_is_written(client, db):
    response = client.post("/users", json={"email": "Dee@Example.com", "name": "Dee"}, headers=ADA)
    assert response.status_code == 201
    created = response.json()
    assert (created["id"], created["email"], created["is_admin"]) == (4, "dee@example.com", False)
    assert db.get(User, 4).token == created["token"]
    assert client.get("/users/me", headers={"X-Token": created["token"]}).json()["name"] == "Dee"


def test_create_user_errors(client):
    assert client.post("/users", json={"email": "e@example.com", "name": "E"}, headers=BO).status_code == 403
    assert client.post("/users", json={"email": "not-an-email", "name": "E"}, headers=ADA).status_code == 422
    duplicate = client.post("/users", json={"email": "BO@example.com", "name": "Bo 2"}, headers=ADA)
    assert duplicate.status_code == 409


def test_read_user(client):
    assert client.get("/users/3", headers=BO).json()["name"] == "Cy"
    assert client.get("/users/99", headers=BO).status_code == 404
    assert client.get("/users/3").status_code == 401
