from conftest import ADMIN, READER


def test_list_authors_sorted_by_name(client):
    response = client.get("/authors")
    assert response.status_code == 200
    assert [a["name"] for a in response.json()] == [
        "Octavia E. Butler",
        "Terry Pratchett",
        "Ursula K. Le Guin",
        "Zadie Smith",
    ]
    assert set(response.json()[0]) == {"id", "name", "country", "born_year"}


def test_authors_page(client):
    response = client.get("/authors/page", params={"page": 2, "size": 3})
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 4
    assert page["page"] == 2
    assert [a["id"] for a in page["items"]] == [4]


def test_count_authors(client):
    response = client.get("/authors/count")
    assert response.status_code == 200
    assert response.json() == {"count": 4}


def test_get_author_with_books(client):
    response = client.get("/authors/3")
    assert response.status_code == 200
    author = response.json()
    assert author["name"] == "Octavia E. Butler"
    assert author["books"] == [
        {"id": 5, "title": "Kindred", "published_year": 1979},
        {"id": 6, "title": "Parable of the Sower", "published_year": 1993},
    ]
    assert client.get("/authors/4").json()["books"] == []
    assert client.get("/authors/99").status_code == 404


def test_author_books(client):
    response = client.get("/authors/1/books")
    assert response.status_code == 200
    books = response.json()
    assert [b["title"] for b in books] == ["A Wizard of Earthsea", "The Left Hand of Darkness"]
    assert books[1]["author"]["id"] == 1
    assert client.get("/authors/99/books").status_code == 404


def test_author_stats(client):
    response = client.get("/authors/1/stats")
    assert response.status_code == 200
    assert response.json() == {
        "author_id": 1,
        "name": "Ursula K. Le Guin",
        "book_count": 2,
        "total_stock": 17,
        "review_count": 3,
        "average_rating": 4.67,
    }
    empty = client.get("/authors/4/stats").json()
    assert (empty["book_count"], empty["total_stock"], empty["average_rating"]) == (0, 0, None)
    assert client.get("/authors/99/stats").status_code == 404


def test_create_author(client):
    body = {"name": "N. K. Jemisin", "country": "US", "born_year": 1972}
    assert client.post("/authors", json=body).status_code == 401
    assert client.post("/authors", json=body, headers=READER).status_code == 403
    response = client.post("/authors", json=body, headers=ADMIN)
    assert response.status_code == 201
    assert response.json() == {"id": 5, **body}
    assert client.get("/authors/count").json() == {"count": 5}
    assert client.post("/authors", json={"name": ""}, headers=ADMIN).status_code == 422


def test_delete_author(client):
    assert client.delete("/authors/4", headers=READER).status_code == 403
    assert client.delete("/authors/4", headers=ADMIN).status_code == 204
    assert client.get("/authors/4").status_code == 404
    assert client.delete("/authors/4", headers=ADMIN).status_code == 404


def test_delete_author_with_books_conflicts(client):
    response = client.delete("/authors/1", headers=ADMIN)
    assert response.status_code == 409
    assert client.get("/authors/1").status_code == 200
