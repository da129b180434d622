from conftest import ADMIN, CRITIC, READER


def test_list_book_reviews_includes_reviewer(client):
    response = client.get("/books/1/reviews")
    assert response.status_code == 200
    reviews = response.json()
    assert [r["id"] for r in reviews] == [1, 2]
    assert reviews[0]["rating"] == 5
    assert reviews[0]["user"] == {"id": 2, "name": "Bob Reader", "email": "bob@example.com", "is_admin": False}
    assert client.get("/books/6/reviews").json() == []
    assert client.get("/books/999/reviews").status_code == 404


def test_review_summary(client):
    response = client.get("/books/5/reviews/summary")
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "average_rating": 4.5,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
    }
    assert client.get("/books/999/reviews/summary").status_code == 404


def test_create_review(client):
    body = {"rating": 4, "body": "Still holds up."}
    assert client.post("/books/6/reviews", json=body).status_code == 401
    response = client.post("/books/6/reviews", json=body, headers=CRITIC)
    assert response.status_code == 201
    assert response.json() == {"id": 7, "book_id": 6, "user_id": 3, "rating": 4, "body": "Still holds up."}
    assert client.get("/books/6/reviews/summary").json()["count"] == 1


def test_create_review_twice_conflicts(client):
    response = client.post("/books/1/reviews", json={"rating": 1}, headers=READER)
    assert response.status_code == 409
    # The failed insert must not poison the request's transaction for later requests.
    assert client.post("/books/2/reviews", json={"rating": 2}, headers=READER).status_code == 201
    assert client.get("/books/1/reviews/summary").json()["count"] == 2


def test_create_review_validation_and_missing_book(client):
    assert client.post("/books/6/reviews", json={"rating": 6}, headers=READER).status_code == 422
    assert client.post("/books/999/reviews", json={"rating": 3}, headers=READER).status_code == 404


def test_my_reviews(client):
    assert client.get("/reviews/mine").status_code == 401
    response = client.get("/reviews/mine", headers=CRITIC)
    assert response.status_code == 200
    assert [(r["book_id"], r["rating"]) for r in response.json()] == [(1, 4), (2, 5), (5, 5)]
    assert client.get("/reviews/mine", headers=ADMIN).json() == []


def test_get_review(client):
    response = client.get("/reviews/4")
    assert response.status_code == 200
    assert response.json()["book_id"] == 3
    assert response.json()["user"]["name"] == "Bob Reader"
    assert client.get("/reviews/999").status_code == 404


def test_delete_review_permissions(client):
    assert client.delete("/reviews/1").status_code == 401
    assert client.delete("/reviews/1", headers=CRITIC).status_code == 403
    assert client.delete("/reviews/1", headers=READER).status_code == 204
    assert client.get("/reviews/1").status_code == 404
    assert client.delete("/reviews/2", headers=ADMIN).status_code == 204
    assert client.delete("/reviews/2", headers=ADMIN).status_code == 404
    assert client.get("/books/1/reviews").json() == []


def test_review_digest_awaits_its_offloaded_queries(client):
    response = client.get("/books/5/reviews/digest")
    assert response.status_code == 200
    assert response.json() == client.get("/books/5/reviews/summary").json()
    assert response.json()["count"] == 2
    assert client.get("/books/999/reviews/digest").status_code == 404
