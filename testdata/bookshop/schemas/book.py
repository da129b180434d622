from pydantic import BaseModel, ConfigDict, Field

from schemas.author import AuthorOut
from schemas.review import ReviewSummary
from schemas.tag import TagOut

ISBN_PATTERN = r"^(\d{9}[\dX]|\d{13})$"


class BookBase(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    isbn: str = Field(pattern=ISBN_PATTERN)
    price_cents: int = Field(ge=0)
    stock: int = Field(default=0, ge=0)
    published_year: int | None = Field(default=None, ge=0, le=2100)
    author_id: int


class BookCreate(BookBase):
    tags: list[str] = Field(default_factory=list)


class BookUpdate(BookCreate):
    """Full replacement of a book (PUT)."""


class BookPatch(BaseModel):
    """Partial update of a book (PATCH); only the fields sent are changed."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    price_cents: int | None = Field(default=None, ge=0)
    stock: int | None = Field(default=None, ge=0)
    published_year: int | None = Field(default=None, ge=0, le=2100)
    tags: list[str] | None = None


class BookOut(BookBase):
    model_config = ConfigDict(from_attributes=True)

    id: int


class BookDetail(BookOut):
    author: AuthorOut
    tags: list[TagOut]


class BookPage(BaseModel):
    items: list[BookOut]
    total: int
    limit: int
    offset: int


class BookSummary(BaseModel):
    id: int
    title: str
    author_name: str
    tag_names: list[str]
    review_count: int


class BookDetailsPayload(BaseModel):
    book: BookDetail
    reviews: ReviewSummary
    more_by_author: list[BookOut]


class SimilarBook(BaseModel):
    id: int
    title: str
    shared_tags: int


class RestockRequest(BaseModel):
    quantity: int = Field(gt=0, le=10_000)
