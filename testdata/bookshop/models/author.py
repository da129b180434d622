from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base

if TYPE_CHECKING:
    from models.book import Book


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    born_year: Mapped[int | None]

    books: Mapped[list["Book"]] = relationship(back_populates="author", order_by="Book.id")

    def __repr__(self) -> str:
        return f"Author(id={self.id!r}, name={self.name!r})"
