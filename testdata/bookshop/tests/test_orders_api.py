from conftest import ADMIN, CRITIC, READER
from services import notifier


def _stock(client, book_id):
    return client.get(f"/books/{book_id}").json()["stock"]


def test_place_order(client):
    body = {"lines": [{"book_id": 1, "quantity": 2}, {"book_id": 6, "quantity": 1}], "note": "gift wrap"}
    response = client.post("/orders", json=body, headers={**CRITIC, "X-Request-ID": "req-42"})
    assert response.status_code == 201
    order = response.json()
    assert order["id"] == 2
    assert order["user_id"] == 3
    assert order["status"] == "placed"
    assert order["total_cents"] == 2 * 1099 + 1499
    assert order["note"] == "gift wrap"
    assert order["lines"] == [
        {"book_id": 1, "quantity": 2, "unit_price_cents": 1099},
        {"book_id": 6, "quantity": 1, "unit_price_cents": 1499},
    ]
    assert _stock(client, 1) == 10
    assert _stock(client, 6) == 8
    events = [e for e in notifier.sent_events() if e["event"] == "order.placed"]
    assert events == [
        {
            "event": "order.placed",
            "payload": {"order_id": 2, "user_id": 3, "total_cents": 3697, "request_id": "req-42"},
        }
    ]


def test_place_order_merges_repeated_books(client):
    body = {"lines": [{"book_id": 2, "quantity": 1}, {"book_id": 2, "quantity": 2}]}
    order = client.post("/orders", json=body, headers=READER).json()
    assert order["lines"] == [{"book_id": 2, "quantity": 3, "unit_price_cents": 1299}]
    assert _stock(client, 2) == 2


def test_place_order_failures_leave_stock_untouched(client):
    assert client.post("/orders", json={"lines": [{"book_id": 1, "quantity": 1}]}).status_code == 401
    out_of_stock = {"lines": [{"book_id": 1, "quantity": 1}, {"book_id": 3, "quantity": 1}]}
    assert client.post("/orders", json=out_of_stock, headers=READER).status_code == 409
    missing = {"lines": [{"book_id": 1, "quantity": 1}, {"book_id": 999, "quantity": 1}]}
    assert client.post("/orders", json=missing, headers=READER).status_code == 404
    assert client.post("/orders", json={"lines": []}, headers=READER).status_code == 422
    assert _stock(client, 1) == 12
    assert notifier.sent_events() == []


def test_list_my_orders(client):
    assert client.get("/orders").status_code == 401
    response = client.get("/orders", headers=READER)
    assert response.status_code == 200
    assert [(o["id"], o["total_cents"]) for o in response.json()] == [(1, 899)]
    assert client.get("/orders", headers=CRITIC).json() == []


def test_list_all_orders_is_admin_only(client):
    client.post("/orders", json={"lines": [{"book_id": 5, "quantity": 1}]}, headers=CRITIC)
    assert client.get("/orders/all", headers=READER).status_code == 403
    response = client.get("/orders/all", headers=ADMIN)
    assert response.status_code == 200
    assert [(o["id"], o["user_id"]) for o in response.json()] == [(1, 2), (2, 3)]


def test_get_order_visibility(client):
    response = client.get("/orders/1", headers=READER)
    assert response.status_code == 200
    assert response.json()["lines"] == [{"book_id": 4, "quantity": 1, "unit_price_cents": 899}]
    assert client.get("/orders/1", headers=CRITIC).status_code == 404
    assert client.get("/orders/1", headers=ADMIN).status_code == 200
    assert client.get("/orders/99", headers=ADMIN).status_code == 404
    assert client.get("/orders/1").status_code == 401


def test_cancel_order_restores_stock(client):
    assert client.post("/orders/1/cancel", headers=CRITIC).status_code == 404
    response = client.post("/orders/1/cancel", headers=READER)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert _stock(client, 4) == 8
    assert client.post("/orders/1/cancel", headers=READER).status_code == 409
    assert _stock(client, 4) == 8
