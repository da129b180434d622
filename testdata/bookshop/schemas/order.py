from pydantic import BaseModel, ConfigDict, Field


class OrderLineIn(BaseModel):
    book_id: int
    quantity: int = Field(ge=1, le=50)


class OrderCreate(BaseModel):
    lines: list[OrderLineIn] = Field(min_length=1)
    note: str | None = Field(default=None, max_length=500)


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    book_id: int
    quantity: int
    unit_price_cents: int


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    status: str
    total_cents: int
    note: str | None
    lines: list[OrderLineOut]
