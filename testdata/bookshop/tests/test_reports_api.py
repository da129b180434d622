from conftest import ADMIN, CRITIC


def test_inventory(client):
    response = client.get("/reports/inventory")
    assert response.status_code == 200
    assert response.json() == {
        "books": 6,
        "authors": 4,
        "total_stock": 36,
        "out_of_stock": 1,
        "inventory_value_cents": 44264,
    }


def test_inventory_reflects_writes(client):
    client.post("/books/3/restock", json={"quantity": 2}, headers=ADMIN)
    stats = client.get("/reports/inventory").json()
    assert (stats["total_stock"], stats["out_of_stock"]) == (38, 0)


def test_slow_report_small_size(client):
    response = client.get("/reports/slow", params={"size": 1000})
    assert response.status_code == 200
    assert response.json() == {"size": 1000, "rows": 1000}
    assert client.get("/reports/slow", params={"size": 0}).status_code == 422


def test_top_rated(client):
    response = client.get("/reports/top-rated")
    assert response.status_code == 200
    report = response.json()
    assert report["elapsed_ms"] >= 0
    assert report["items"] == [
        {"book_id": 2, "title": "The Left Hand of Darkness", "review_count": 1, "average_rating": 5.0},
        {"book_id": 1, "title": "A Wizard of Earthsea", "review_count": 2, "average_rating": 4.5},
        {"book_id": 5, "title": "Kindred", "review_count": 2, "average_rating": 4.5},
        {"book_id": 3, "title": "Guards! Guards!", "review_count": 1, "average_rating": 3.0},
    ]
    assert [i["book_id"] for i in client.get("/reports/top-rated", params={"limit": 1}).json()["items"]] == [2]


def test_sales_report(client):
    client.post("/orders", json={"lines": [{"book_id": 6, "quantity": 2}]}, headers=CRITIC)
    response = client.get("/reports/sales")
    assert response.status_code == 200
    assert response.json() == [
        {"author_id": 3, "author_name": "Octavia E. Butler", "units": 2, "revenue_cents": 2998},
        {"author_id": 2, "author_name": "Terry Pratchett", "units": 1, "revenue_cents": 899},
    ]
    assert len(client.get("/reports/sales", params={"top": 1}).json()) == 1
