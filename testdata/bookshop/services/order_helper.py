"""Order placement and lifecycle."""

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.book import Book
from models.order import ORDER_CANCELLED, Order, OrderLine
from models.user import User
from schemas.order import OrderLineIn
from services.errors import ConflictError, NotFoundError


def _merge_lines(lines: Iterable[OrderLineIn]) -> dict[int, int]:
    """Collapse repeated books into a single quantity, keeping first-seen order."""
    merged: dict[int, int] = {}
    for line in lines:
        merged[line.book_id] = merged.get(line.book_id, 0) + line.quantity
    return merged


def place_order(session: Session, user: User, lines: Iterable[OrderLineIn], note: str | None = None) -> Order:
    """Reserve stock and create an order. The caller commits."""
    order = Order(user_id=user.id, note=note)
    total = 0
    for book_id, quantity in _merge_lines(lines).items():
        book = session.get(Book, book_id)
        if book is None:
            raise NotFoundError(f"Book {book_id} not found")
        if book.stock < quantity:
            raise ConflictError(f"Only {book.stock} copies of {book.title!r} left")
        book.stock -= quantity
        order.lines.append(OrderLine(book_id=book.id, quantity=quantity, unit_price_cents=book.price_cents))
        total += quantity * book.price_cents
    order.total_cents = total
    session.add(order)
    session.flush()
    return order


def list_orders_for_user(session: Session, user_id: int) -> Sequence[Order]:
    return session.scalars(select(Order).where(Order.user_id == user_id).order_by(Order.id)).all()


def list_all_orders(session: Session) -> Sequence[Order]:
    return session.scalars(select(Order).order_by(Order.id)).all()


def get_order_for_user(session: Session, order_id: int, user: User) -> Order:
    """Fetch an order the user may see; other customers' orders look missing."""
    order = session.get(Order, order_id)
    if order is None or (order.user_id != user.id and not user.is_admin):
        raise NotFoundError(f"Order {order_id} not found")
    return order


def cancel_order(session: Session, order: Order) -> Order:
    """Cancel a placed order and put its books back on the shelf."""
    if order.status == ORDER_CANCELLED:
        raise ConflictError("Order is already cancelled")
    for line in order.lines:
        line.book.stock += line.quantity
    order.status = ORDER_CANCELLED
    session.commit()
    return order
