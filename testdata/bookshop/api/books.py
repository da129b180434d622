"""Catalogue endpoints."""

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from core.decorators import audited, tagged, timed
from core.dependencies import (
    PageParams,
    admin_dependency,
    current_user_dependency,
    pagination,
    require_admin,
    session_dependency,
)
from db.engine import get_db_session
from schemas.book import (
    BookCreate,
    BookDetail,
    BookDetailsPayload,
    BookOut,
    BookPage,
    BookPatch,
    BookSummary,
    BookUpdate,
    RestockRequest,
    SimilarBook,
)
from services import book_helper
from services.book_helper import get_db_books

router = APIRouter(prefix="/books", tags=["books"])

CSV_COLUMNS = ("id", "title", "isbn", "author", "price_cents", "stock", "tags")
BOOK_FORMATS = ("hardcover", "paperback", "ebook", "audiobook")


def _not_found(book_id: int) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"Book {book_id} not found")


@router.get("", response_model=list[BookDetail])
async def list_books(session: session_dependency, author_id: int | None = None):
    """The whole catalogue, optionally restricted to one author."""
    if author_id is not None:
        return book_helper.get_books_by_author(session, author_id)
    return get_db_books(session)


@router.get("/page", response_model=BookPage)
async def list_books_page(session: session_dependency, page: Annotated[PageParams, Depends(pagination)]):
    books, total = book_helper.get_books_page(session, page.limit, page.offset)
    return {"items": books, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/count")
def count_books(session: session_dependency, in_stock: bool = False) -> dict[str, int]:
    return {"count": book_helper.count_books(session, in_stock_only=in_stock)}


@router.get("/search", response_model=list[BookOut])
async def search_books(session: session_dependency, q: Annotated[str, Query(min_length=2, max_length=100)]):
    return book_helper.search_books_legacy(session, q)


@router.get("/formats")
async def list_formats(session: session_dependency) -> list[str]:
    """Formats the storefront can sell."""
    return list(BOOK_FORMATS)


@router.get("/recommended", response_model=list[BookDetail])
async def recommended_books(user: current_user_dependency, session: session_dependency, limit: int = 5):
    return book_helper.get_recommendations(session, user.id, limit)


@router.get("/export/csv", response_class=PlainTextResponse)
@tagged("export")
async def export(session: session_dependency):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for book in get_db_books(session):
        tags = ";".join(tag.name for tag in book.tags)
        writer.writerow((book.id, book.title, book.isbn, book.author.name, book.price_cents, book.stock, tags))
    return PlainTextResponse(buffer.getvalue(), media_type="text/csv")


@router.get("/export/json", response_model=list[BookDetail])
@tagged("export")
async def export(session: session_dependency):  # noqa: F811 - registered on its own path above
    return get_db_books(session)


@router.post(
    "",
    response_model=BookDetail,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_admin)],
)
async def create_book(payload: BookCreate, session: session_dependency):
    return book_helper.create_book(session, payload.model_dump())


@router.get("/{book_id}", response_model=BookDetail)
async def get_book(book_id: int, session: session_dependency):
    book = book_helper.get_book_with_relations(session, book_id)
    if book is None:
        raise _not_found(book_id)
    return book


@router.api_route("/{book_id}/summary", methods=["GET", "HEAD"], response_model=BookSummary)
async def book_summary(book_id: int, session: session_dependency):
    summary = book_helper.describe_book(session, book_id)
    if summary is None:
        raise _not_found(book_id)
    return summary


@router.get("/{book_id}/details", response_model=BookDetailsPayload)
@audited
async def book_details(book_id: int, session: session_dependency):
    payload = book_helper.get_book_details_payload(session, book_id)
    if payload is None:
        raise _not_found(book_id)
    return payload


# async-migrate: ignore[blocking-session] @timed awaits the handler, so it must stay a coroutine function
@router.get("/{book_id}/similar", response_model=list[SimilarBook])
@timed
async def similar_books(book_id: int, session: session_dependency, limit: Annotated[int, Query(ge=1, le=20)] = 5):
    if book_helper.get_book(session, book_id) is None:
        raise _not_found(book_id)
    return book_helper.get_similar_books(session, book_id, limit)


@router.put("/{book_id}", response_model=BookDetail)
async def replace_book(
    book_id: int,
    payload: BookUpdate,
    admin: admin_dependency,
    session: Session = Depends(get_db_session),
):
    return book_helper.update_book(session, book_id, payload.model_dump())


@router.patch("/{book_id}", response_model=BookDetail)
async def patch_book(
    book_id: int,
    payload: BookPatch,
    admin: admin_dependency,
    session: Annotated[Session, Depends(get_db_session)],
):
    return book_helper.update_book(session, book_id, payload.model_dump(exclude_unset=True))


@router.post("/{book_id}/restock", response_model=BookOut)
def restock_book(book_id: int, payload: RestockRequest, admin: admin_dependency, session: session_dependency):
    return book_helper.restock(session, book_id, payload.quantity)


@router.delete(
    "/{book_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require_admin)],
)
async def delete_book(book_id: int, session: session_dependency) -> None:
    book_helper.delete_book(session, book_id)
