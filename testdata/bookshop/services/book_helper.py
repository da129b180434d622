"""Catalogue queries and book maintenance."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from models.author import Author
from models.book import Book, book_tags
from models.order import OrderLine
from models.review import Review
from models.tag import Tag
from services import review_helper
from services.errors import ConflictError, NotFoundError


def _with_relations() -> tuple[LoaderOption, ...]:
    return (selectinload(Book.author), selectinload(Book.tags))


def get_db_books(session: Session) -> Sequence[Book]:
    """All books with their author and tags, in catalogue order."""
    return session.scalars(select(Book).options(*_with_relations()).order_by(Book.id)).all()


def get_books_page(session: Session, limit: int, offset: int) -> tuple[Sequence[Book], int]:
    total = session.scalar(select(func.count()).select_from(Book)) or 0
    books = session.scalars(select(Book).order_by(Book.id).limit(limit).offset(offset)).all()
    return books, total


def count_books(session: Session, in_stock_only: bool = False) -> int:
    stmt = select(func.count(Book.id))
    if in_stock_only:
        stmt = stmt.where(Book.stock > 0)
    return session.scalar(stmt) or 0


def get_book(session: Session, book_id: int) -> Book | None:
    return session.get(Book, book_id)


def get_book_with_relations(session: Session, book_id: int) -> Book | None:
    stmt = select(Book).where(Book.id == book_id).options(*_with_relations())
    return session.scalars(stmt).first()


def get_books_by_author(session: Session, author_id: int) -> Sequence[Book]:
    """Books written by ``author_id``; shared by the book and author endpoints."""
    stmt = (
        select(Book)
        .where(Book.author_id == author_id)
        .options(*_with_relations())
        .order_by(Book.published_year, Book.id)
    )
    return session.scalars(stmt).all()


def search_books_legacy(session: Session, term: str) -> list[Book]:
    """Case-insensitive title search (predates the 2.0-style helpers)."""
    pattern = f"%{term}%"
    return session.query(Book).filter(Book.title.ilike(pattern)).order_by(Book.title).all()


def describe_book(session: Session, book_id: int) -> dict[str, Any] | None:
    """A compact description used by the summary endpoint and the storefront."""
    book = session.get(Book, book_id)
    if book is None:
        return None
    return {
        "id": book.id,
        "title": book.title,
        "author_name": book.author.name,
        "tag_names": [tag.name for tag in book.tags],
        "review_count": review_helper.count_reviews(session, book_id),
    }


def get_book_details_payload(session: Session, book_id: int) -> dict[str, Any] | None:
    """Everything the book page needs in a single payload."""
    book = get_book_with_relations(session, book_id)
    if book is None:
        return None
    more_by_author = [b for b in get_books_by_author(session, book.author_id) if b.id != book.id]
    return {
        "book": book,
        "reviews": review_helper.get_review_summary(session, book_id),
        "more_by_author": more_by_author,
    }


def get_similar_books(session: Session, book_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """Books sharing at least one tag with ``book_id``, most overlap first."""
    own_tags = select(book_tags.c.tag_id).where(book_tags.c.book_id == book_id)
    shared = func.count(book_tags.c.tag_id).label("shared_tags")
    stmt = (
        select(Book.id, Book.title, shared)
        .join(book_tags, book_tags.c.book_id == Book.id)
        .where(book_tags.c.tag_id.in_(own_tags), Book.id != book_id)
        .group_by(Book.id, Book.title)
        .order_by(desc(shared), Book.id)
        .limit(limit)
    )
    return [
        {"id": row.id, "title": row.title, "shared_tags": row.shared_tags}
        for row in session.execute(stmt).all()
    ]


def get_recommendations(session: Session, user_id: int, limit: int = 5) -> Sequence[Book]:
    """In-stock books the user has not reviewed yet."""
    reviewed = select(Review.book_id).where(Review.user_id == user_id)
    stmt = (
        select(Book)
        .options(*_with_relations())
        .where(Book.id.not_in(reviewed), Book.stock > 0)
        .order_by(Book.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def resolve_tags(session: Session, names: Iterable[str]) -> list[Tag]:
    """Return the tags called ``names``, creating the missing ones."""
    wanted = sorted({name.strip().lower() for name in names if name.strip()})
    if not wanted:
        return []
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(wanted))).all()}
    for name in wanted:
        if name not in existing:
            existing[name] = Tag(name=name)
            session.add(existing[name])
    return [existing[name] for name in wanted]


def _ensure_author(session: Session, author_id: int) -> None:
    if session.get(Author, author_id) is None:
        raise NotFoundError(f"Author {author_id} not found")


def _ensure_unique_isbn(session: Session, isbn: str, book_id: int | None = None) -> None:
    stmt = select(Book.id).where(Book.isbn == isbn)
    if book_id is not None:
        stmt = stmt.where(Book.id != book_id)
    if session.scalar(stmt) is not None:
        raise ConflictError(f"ISBN {isbn} is already in the catalogue")


def create_book(session: Session, data: dict[str, Any]) -> Book:
    tag_names = data.pop("tags", [])
    _ensure_author(session, data["author_id"])
    _ensure_unique_isbn(session, data["isbn"])
    book = Book(**data)
    book.tags = resolve_tags(session, tag_names)
    session.add(book)
    session.commit()
    session.refresh(book)
    return get_book_with_relations(session, book.id)


def update_book(session: Session, book_id: int, changes: dict[str, Any]) -> Book:
    """Apply ``changes`` (full or partial) to a book and return it reloaded."""
    book = session.get(Book, book_id)
    if book is None:
        raise NotFoundError(f"Book {book_id} not found")
    if "author_id" in changes:
        _ensure_author(session, changes["author_id"])
    if "isbn" in changes:
        _ensure_unique_isbn(session, changes["isbn"], book_id)
    tag_names = changes.pop("tags", None)
    for field, value in changes.items():
        setattr(book, field, value)
    if tag_names is not None:
        book.tags = resolve_tags(session, tag_names)
    session.commit()
    return get_book_with_relations(session, book_id)


def restock(session: Session, book_id: int, quantity: int) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise NotFoundError(f"Book {book_id} not found")
    book.stock += quantity
    session.commit()
    session.refresh(book)
    return book


def delete_book(session: Session, book_id: int) -> None:
    book = session.get(Book, book_id)
    if book is None:
        raise NotFoundError(f"Book {book_id} not found")
    ordered = session.scalar(select(func.count(OrderLine.id)).where(OrderLine.book_id == book_id))
    if ordered:
        raise ConflictError("Books that appear on orders cannot be deleted")
    session.delete(book)
    session.commit()
