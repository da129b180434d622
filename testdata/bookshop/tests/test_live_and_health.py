import pytest
from starlette.websockets import WebSocketDisconnect


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_books_feed_snapshot_and_lookups(client):
    with client.websocket_connect("/ws/books") as ws:
        snapshot = ws.receive_json()
        assert snapshot["type"] == "snapshot"
        assert [b["id"] for b in snapshot["books"]] == [1, 2, 3, 4, 5, 6]
        ws.send_json({"action": "get", "book_id": 4})
        assert ws.receive_json() == {
            "type": "book",
            "book": {
                "id": 4,
                "title": "Mort",
                "isbn": "9780062225719",
                "price_cents": 899,
                "stock": 7,
                "published_year": 1987,
                "author_id": 2,
            },
        }
        ws.send_json({"action": "get", "book_id": 999})
        assert ws.receive_json() == {"type": "error", "detail": "Book not found"}
        ws.send_json({"action": "dance"})
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"action": "close"})
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_books_feed_client_disconnect(client):
    with client.websocket_connect("/ws/books") as ws:
        assert ws.receive_json()["type"] == "snapshot"
    # The feed must release its session cleanly; the catalogue stays usable.
    assert client.get("/books/count").json() == {"count": 6}
