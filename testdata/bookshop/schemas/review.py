from pydantic import BaseModel, ConfigDict, Field

from schemas.user import UserOut


class ReviewCreate(BaseModel):
    rating: int = Field(ge=1, le=5)
    body: str = Field(default="", max_length=5000)


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    book_id: int
    user_id: int
    rating: int
    body: str


class ReviewWithUser(ReviewOut):
    user: UserOut


class ReviewSummary(BaseModel):
    count: int
    average_rating: float | None
    distribution: dict[int, int]
