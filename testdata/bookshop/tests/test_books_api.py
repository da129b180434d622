import csv
import io

from conftest import ADMIN, BOOKS, READER

NEW_BOOK = {
    "title": "Small Gods",
    "isbn": "9780062237378",
    "price_cents": 1050,
    "stock": 4,
    "published_year": 1992,
    "author_id": 2,
    "tags": ["Humour", "satire"],
}


def test_list_books_includes_author_and_tags(client):
    response = client.get("/books")
    assert response.status_code == 200
    books = response.json()
    assert [b["id"] for b in books] == [1, 2, 3, 4, 5, 6]
    assert books[0]["title"] == "A Wizard of Earthsea"
    assert books[0]["author"] == {"id": 1, "name": "Ursula K. Le Guin", "country": "US", "born_year": 1929}
    assert [t["name"] for t in books[0]["tags"]] == ["classic", "fantasy"]


def test_list_books_filtered_by_author(client):
    response = client.get("/books", params={"author_id": 2})
    assert response.status_code == 200
    assert [b["title"] for b in response.json()] == ["Mort", "Guards! Guards!"]


def test_books_page(client):
    response = client.get("/books/page", params={"limit": 2, "offset": 2})
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 6
    assert (page["limit"], page["offset"]) == (2, 2)
    assert [b["id"] for b in page["items"]] == [3, 4]
    assert "author" not in page["items"][0]


def test_books_page_defaults_and_validation(client):
    page = client.get("/books/page").json()
    assert (page["limit"], page["offset"], len(page["items"])) == (20, 0, 6)
    assert client.get("/books/page", params={"limit": 0}).status_code == 422


def test_count_books(client):
    assert client.get("/books/count").json() == {"count": 6}
    assert client.get("/books/count", params={"in_stock": True}).json() == {"count": 5}


def test_search_is_case_insensitive_and_sorted_by_title(client):
    response = client.get("/books/search", params={"q": "OF"})
    assert response.status_code == 200
    assert [b["title"] for b in response.json()] == [
        "A Wizard of Earthsea",
        "Parable of the Sower",
        "The Left Hand of Darkness",
    ]
    assert client.get("/books/search", params={"q": "zz"}).json() == []
    assert client.get("/books/search", params={"q": "a"}).status_code == 422


def test_formats(client):
    response = client.get("/books/formats")
    assert response.status_code == 200
    assert "ebook" in response.json()


def test_recommended_requires_auth(client):
    assert client.get("/books/recommended").status_code == 401
    assert client.get("/books/recommended", headers={"X-API-Key": "nope"}).status_code == 401


def test_recommended_skips_reviewed_and_out_of_stock(client):
    response = client.get("/books/recommended", headers=READER)
    assert response.status_code == 200
    assert [b["id"] for b in response.json()] == [2, 4, 6]
    assert response.json()[0]["author"]["name"] == "Ursula K. Le Guin"


def test_export_csv(client):
    response = client.get("/books/export/csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(BOOKS)
    assert rows[2]["title"] == "Guards! Guards!"
    assert rows[2]["author"] == "Terry Pratchett"
    assert rows[2]["tags"] == "fantasy;humour"


def test_export_json(client):
    response = client.get("/books/export/json")
    assert response.status_code == 200
    books = response.json()
    assert [b["isbn"] for b in books] == [b[1] for b in BOOKS]
    assert books[5]["author"]["name"] == "Octavia E. Butler"


def test_get_book_detail(client):
    response = client.get("/books/3")
    assert response.status_code == 200
    book = response.json()
    assert book["title"] == "Guards! Guards!"
    assert book["stock"] == 0
    assert book["author"]["name"] == "Terry Pratchett"
    assert [t["name"] for t in book["tags"]] == ["fantasy", "humour"]


def test_get_book_not_found(client):
    response = client.get("/books/999")
    assert response.status_code == 404
    assert response.json()["detail"] == "Book 999 not found"


def test_book_summary_get_and_head(client):
    response = client.get("/books/1/summary")
    assert response.status_code == 200
    assert response.json() == {
        "id": 1,
        "title": "A Wizard of Earthsea",
        "author_name": "Ursula K. Le Guin",
        "tag_names": ["classic", "fantasy"],
        "review_count": 2,
    }
    head = client.head("/books/1/summary")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "application/json"
    assert client.head("/books/999/summary").status_code == 404
    assert client.get("/books/999/summary").status_code == 404


def test_book_details_payload(client):
    response = client.get("/books/1/details")
    assert response.status_code == 200
    payload = response.json()
    assert payload["book"]["author"]["id"] == 1
    assert payload["reviews"] == {
        "count": 2,
        "average_rating": 4.5,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
    }
    assert [b["id"] for b in payload["more_by_author"]] == [2]
    assert client.get("/books/999/details").status_code == 404


def test_book_details_without_reviews(client):
    payload = client.get("/books/6/details").json()
    assert payload["reviews"]["count"] == 0
    assert payload["reviews"]["average_rating"] is None


def test_similar_books(client):
    response = client.get("/books/6/similar")
    assert response.status_code == 200
    assert response.json() == [
        {"id": 2, "title": "The Left Hand of Darkness", "shared_tags": 1},
        {"id": 5, "title": "Kindred", "shared_tags": 1},
    ]
    assert [b["id"] for b in client.get("/books/1/similar", params={"limit": 2}).json()] == [2, 3]
    assert client.get("/books/999/similar").status_code == 404


def test_create_book_requires_admin(client):
    assert client.post("/books", json=NEW_BOOK).status_code == 401
    assert client.post("/books", json=NEW_BOOK, headers=READER).status_code == 403
    assert client.get("/books/count").json() == {"count": 6}


def test_create_book(client):
    response = client.post("/books", json=NEW_BOOK, headers=ADMIN)
    assert response.status_code == 201
    book = response.json()
    assert book["id"] == 7
    assert book["author"]["name"] == "Terry Pratchett"
    assert [t["name"] for t in book["tags"]] == ["humour", "satire"]
    assert client.get("/books/7").json()["title"] == "Small Gods"
    assert client.get("/books/count").json() == {"count": 7}


def test_create_book_conflicts_and_validation(client):
    duplicate = {**NEW_BOOK, "isbn": BOOKS[0][1]}
    assert client.post("/books", json=duplicate, headers=ADMIN).status_code == 409
    unknown_author = {**NEW_BOOK, "author_id": 99}
    assert client.post("/books", json=unknown_author, headers=ADMIN).status_code == 404
    assert client.post("/books", json={**NEW_BOOK, "isbn": "123"}, headers=ADMIN).status_code == 422


def test_replace_book(client):
    body = {**NEW_BOOK, "isbn": BOOKS[3][1], "title": "Mort (Anniversary Edition)", "tags": ["fantasy"]}
    assert client.put("/books/4", json=body, headers=READER).status_code == 403
    response = client.put("/books/4", json=body, headers=ADMIN)
    assert response.status_code == 200
    book = response.json()
    assert book["title"] == "Mort (Anniversary Edition)"
    assert book["price_cents"] == 1050
    assert [t["name"] for t in book["tags"]] == ["fantasy"]
    assert client.put("/books/999", json=body, headers=ADMIN).status_code == 404


def test_patch_book_changes_only_given_fields(client):
    response = client.patch("/books/2", json={"stock": 50, "tags": ["classic", "award-winner"]}, headers=ADMIN)
    assert response.status_code == 200
    book = response.json()
    assert book["stock"] == 50
    assert book["title"] == "The Left Hand of Darkness"
    assert [t["name"] for t in book["tags"]] == ["award-winner", "classic"]
    assert client.get("/books/2").json()["stock"] == 50
    assert client.patch("/books/2", json={"stock": 1}).status_code == 401
    assert client.patch("/books/999", json={"stock": 1}, headers=ADMIN).status_code == 404
    assert client.patch("/books/2", json={"stock": -1}, headers=ADMIN).status_code == 422


def test_restock_book(client):
    response = client.post("/books/3/restock", json={"quantity": 6}, headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["stock"] == 6
    assert client.post("/books/3/restock", json={"quantity": 6}, headers=READER).status_code == 403
    assert client.post("/books/999/restock", json={"quantity": 1}, headers=ADMIN).status_code == 404


def test_delete_book(client):
    assert client.delete("/books/1", headers=READER).status_code == 403
    response = client.delete("/books/1", headers=ADMIN)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/books/1").status_code == 404
    assert client.get("/reviews/1").status_code == 404
    assert client.delete("/books/1", headers=ADMIN).status_code == 404


def test_delete_ordered_book_conflicts(client):
    response = client.delete("/books/4", headers=ADMIN)
    assert response.status_code == 409
    assert client.get("/books/4").status_code == 200
