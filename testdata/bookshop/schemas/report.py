from pydantic import BaseModel


class InventoryStats(BaseModel):
    books: int
    authors: int
    total_stock: int
    out_of_stock: int
    inventory_value_cents: int


class SlowReport(BaseModel):
    size: int
    rows: int


class TopRatedBook(BaseModel):
    book_id: int
    title: str
    review_count: int
    average_rating: float


class TopRatedReport(BaseModel):
    items: list[TopRatedBook]
    elapsed_ms: float


class AuthorSales(BaseModel):
    author_id: int
    author_name: str
    units: int
    revenue_cents: int
