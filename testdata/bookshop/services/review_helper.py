"""Reviews and rating aggregates."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.book import Book
from models.review import Review
from models.user import User
from services.errors import ConflictError, NotFoundError


def require_book(session: Session, book_id: int) -> None:
    if session.get(Book, book_id) is None:
        raise NotFoundError(f"Book {book_id} not found")


def count_reviews(session: Session, book_id: int) -> int:
    return session.scalar(select(func.count(Review.id)).where(Review.book_id == book_id)) or 0


def get_rating_distribution(session: Session, book_id: int) -> dict[int, int]:
    """Number of reviews per star rating, with every rating from 1 to 5 present."""
    stmt = (
        select(Review.rating, func.count(Review.id))
        .where(Review.book_id == book_id)
        .group_by(Review.rating)
        .order_by(Review.rating)
    )
    distribution = {rating: 0 for rating in range(1, 6)}
    for rating, count in session.execute(stmt).all():
        distribution[rating] = count
    return distribution


def get_review_summary(session: Session, book_id: int) -> dict[str, Any]:
    distribution = get_rating_distribution(session, book_id)
    count = sum(distribution.values())
    total = sum(rating * n for rating, n in distribution.items())
    return {
        "count": count,
        "average_rating": round(total / count, 2) if count else None,
        "distribution": distribution,
    }


def get_average_rating_for_author(session: Session, author_id: int) -> tuple[int, float | None]:
    """Review count and mean rating across all books by ``author_id``."""
    stmt = (
        select(func.count(Review.id), func.avg(Review.rating))
        .join(Book, Book.id == Review.book_id)
        .where(Book.author_id == author_id)
    )
    count, average = session.execute(stmt).one()
    return count, (round(float(average), 2) if average is not None else None)


def list_reviews_for_book(session: Session, book_id: int) -> Sequence[Review]:
    require_book(session, book_id)
    return session.scalars(select(Review).where(Review.book_id == book_id).order_by(Review.id)).all()


def list_reviews_by_user(session: Session, user_id: int) -> Sequence[Review]:
    return session.scalars(select(Review).where(Review.user_id == user_id).order_by(Review.id)).all()


def get_review(session: Session, review_id: int) -> Review | None:
    return session.get(Review, review_id)


def add_review(session: Session, book_id: int, user: User, rating: int, body: str) -> Review:
    """Store a review; each customer may review a given book once."""
    require_book(session, book_id)
    review = Review(book_id=book_id, user_id=user.id, rating=rating, body=body)
    try:
        with session.begin_nested():
            session.add(review)
            session.flush()
    except IntegrityError:
        raise ConflictError("You have already reviewed this book") from None
    session.commit()
    session.refresh(review)
    return review


def delete_review(session: Session, review: Review) -> None:
    session.delete(review)
    session.commit()
