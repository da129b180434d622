from pydantic import BaseModel, ConfigDict, Field


class AuthorBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    born_year: int | None = Field(default=None, ge=0, le=2100)


class AuthorCreate(AuthorBase):
    pass


class AuthorOut(AuthorBase):
    model_config = ConfigDict(from_attributes=True)

    id: int


class AuthorBookOut(BaseModel):
    """The short book representation embedded in an author page."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    published_year: int | None


class AuthorDetail(AuthorOut):
    books: list[AuthorBookOut]


class AuthorStats(BaseModel):
    author_id: int
    name: str
    book_count: int
    total_stock: int
    review_count: int
    average_rating: float | None
