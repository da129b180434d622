"""Reporting queries."""

from typing import Any

from sqlalchemy import desc, func, select, text
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models.author import Author
from models.book import Book
from models.order import ORDER_CANCELLED, Order, OrderLine
from models.review import Review

DEFAULT_REPORT_SIZE = 1_500_000

_SQLITE_SERIES = (
    "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < :n) "
    "SELECT count(*) FROM cnt"
)
_POSTGRES_SERIES = "SELECT count(*) FROM generate_series(1, :n) AS g WHERE length(g::text) > 0"


def compute_inventory_stats() -> dict[str, int]:
    """Catalogue-wide stock figures (used by dashboards, hence its own session)."""
    with database_sessionmaker() as session:
        books, total_stock, value = session.execute(
            select(
                func.count(Book.id),
                func.coalesce(func.sum(Book.stock), 0),
                func.coalesce(func.sum(Book.stock * Book.price_cents), 0),
            )
        ).one()
        out_of_stock = session.scalar(select(func.count(Book.id)).where(Book.stock == 0)) or 0
        authors = session.scalar(select(func.count(Author.id))) or 0
    return {
        "books": books,
        "authors": authors,
        "total_stock": int(total_stock),
        "out_of_stock": out_of_stock,
        "inventory_value_cents": int(value),
    }


def run_heavy_report(session: Session, size: int) -> int:
    """Scan a synthetic series of ``size`` rows; stands in for the warehouse rollup."""
    dialect = session.get_bind().dialect.name
    sql = _POSTGRES_SERIES if dialect == "postgresql" else _SQLITE_SERIES
    return session.execute(text(sql), {"n": size}).scalar_one()


def top_rated_books(session: Session, limit: int = 5) -> list[dict[str, Any]]:
    average = func.avg(Review.rating).label("average_rating")
    review_count = func.count(Review.id).label("review_count")
    stmt = (
        select(Book.id, Book.title, review_count, average)
        .join(Review, Review.book_id == Book.id)
        .group_by(Book.id, Book.title)
        .order_by(desc(average), desc(review_count), Book.id)
        .limit(limit)
    )
    return [
        {
            "book_id": row.id,
            "title": row.title,
            "review_count": row.review_count,
            "average_rating": round(float(row.average_rating), 2),
        }
        for row in session.execute(stmt).all()
    ]


def sales_by_author(session: Session) -> list[dict[str, Any]]:
    """Units and revenue per author over all non-cancelled orders."""
    units = func.sum(OrderLine.quantity).label("units")
    revenue = func.sum(OrderLine.quantity * OrderLine.unit_price_cents).label("revenue_cents")
    stmt = (
        select(Author.id, Author.name, units, revenue)
        .join(Book, Book.author_id == Author.id)
        .join(OrderLine, OrderLine.book_id == Book.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status != ORDER_CANCELLED)
        .group_by(Author.id, Author.name)
        .order_by(desc(revenue), Author.id)
    )
    return [
        {"author_id": row.id, "author_name": row.name, "units": int(row.units), "revenue_cents": int(row.revenue_cents)}
        for row in session.execute(stmt).all()
    ]
