from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base
from models._mixins import TimestampMixin

if TYPE_CHECKING:
    from models.order import Order
    from models.review import Review


class User(TimestampMixin, Base):
    """A customer account. Staff accounts have ``is_admin`` set."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    api_key: Mapped[str] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(default=False)

    reviews: Mapped[list["Review"]] = relationship(back_populates="user")
    orders: Mapped[list["Order"]] = relationship(back_populates="user", order_by="Order.id")
