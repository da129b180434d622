"""Live catalogue feed for the shop floor displays."""

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from core.dependencies import session_dependency
from models.book import Book
from schemas.book import BookOut
from services import book_helper

router = APIRouter(tags=["live"])


def _book_json(book: Book) -> dict:
    return BookOut.model_validate(book).model_dump(mode="json")


# async-migrate: ignore[blocking-session] websocket handler: stays async def until the feed moves to AsyncSession
@router.websocket("/ws/books")
async def books_feed(websocket: WebSocket, session: session_dependency):
    """Send a catalogue snapshot, then answer ``{"action": "get", "book_id": N}`` lookups."""
    await websocket.accept()
    books = book_helper.get_db_books(session)
    await websocket.send_json({"type": "snapshot", "books": [_book_json(b) for b in books]})
    try:
        while True:
            message = await websocket.receive_json()
            action = message.get("action")
            if action == "close":
                await websocket.close()
                return
            if action != "get" or not isinstance(message.get("book_id"), int):
                await websocket.send_json({"type": "error", "detail": "Unsupported message"})
                continue
            book = book_helper.get_book(session, message["book_id"])
            if book is None:
                await websocket.send_json({"type": "error", "detail": "Book not found"})
            else:
                await websocket.send_json({"type": "book", "book": _book_json(book)})
    except WebSocketDisconnect:
        pass
