"""Author queries and maintenance."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models.author import Author
from models.book import Book
from services import review_helper
from services.errors import ConflictError, NotFoundError


def list_authors(session: Session) -> Sequence[Author]:
    return session.scalars(select(Author).order_by(Author.name, Author.id)).all()


def authors_query() -> Select:
    """Base statement for paginated author listings."""
    return select(Author).order_by(Author.id)


def count_authors(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Author)) or 0


def get_author(session: Session, author_id: int) -> Author | None:
    return session.get(Author, author_id)


def create_author(session: Session, name: str, country: str | None, born_year: int | None) -> Author:
    author = Author(name=name, country=country, born_year=born_year)
    session.add(author)
    session.commit()
    session.refresh(author)
    return author


def delete_author(session: Session, author_id: int) -> None:
    author = session.get(Author, author_id)
    if author is None:
        raise NotFoundError(f"Author {author_id} not found")
    if author.books:
        raise ConflictError("Authors with books in the catalogue cannot be deleted")
    session.delete(author)
    session.commit()


def get_author_stats(session: Session, author_id: int) -> dict[str, Any]:
    author = session.get(Author, author_id)
    if author is None:
        raise NotFoundError(f"Author {author_id} not found")
    book_count, total_stock = session.execute(
        select(func.count(Book.id), func.coalesce(func.sum(Book.stock), 0))
        .join(Author, Author.id == Book.author_id)
        .where(Author.id == author_id)
    ).one()
    review_count, average = review_helper.get_average_rating_for_author(session, author_id)
    return {
        "author_id": author.id,
        "name": author.name,
        "book_count": book_count,
        "total_stock": int(total_stock),
        "review_count": review_count,
        "average_rating": average,
    }
