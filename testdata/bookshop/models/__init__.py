"""ORM models. Importing this package registers every table on ``Base.metadata``."""

from models.author import Author
from models.book import Book, book_tags
from models.order import Order, OrderLine
from models.review import Review
from models.tag import Tag
from models.user import User

__all__ = ["Author", "Book", "Order", "OrderLine", "Review", "Tag", "User", "book_tags"]
