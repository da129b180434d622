"""AM285 / AM301: the response model reads a property of what an `async def` route returns, and the
property queries through the Session the object belongs to: FastAPI runs it while serialising
the response, on the event loop."""

from __future__ import annotations

LEDGER = """
from sqlalchemy import func, select
from sqlalchemy.orm import Mapped, mapped_column, object_session

from models import Base, Book


class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str]

    @property
    def book_count(self) -> int:
        return object_session(self).scalar(select(func.count(Book.id)))

    @property
    def title(self) -> str:
        return self.label.title()
"""
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class CountedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    book_count: int


class TitledOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
"""
ROUTER = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from ledger import Shelf
from schemas import {model}


def load_shelf(db: Session = Depends(get_db_session)) -> Shelf:
    return db.get(Shelf, 1)


@router.get("/shelf", response_model={model})
async def read_shelf(shelf: Shelf = Depends(load_shelf)):
    return shelf
"""


def test_a_response_field_read_off_a_session_querying_property_converts_with_am285(app, reported, findings):
    root = app(ROUTER.format(model="CountedOut"), {"ledger.py": LEDGER, "schemas.py": SCHEMAS})
    entry = reported(root, "read_shelf", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM285"]), entry
    assert "CountedOut.book_count" in entry["reasons"][0] and "Shelf.book_count" in entry["reasons"][0], entry
    assert [f["code"] for f in findings(root, "read_shelf")] == ["AM301"]


def test_near_miss_a_response_field_read_off_a_property_of_columns_only_keeps_the_route(app, reported, findings):
    root = app(ROUTER.format(model="TitledOut"), {"ledger.py": LEDGER, "schemas.py": SCHEMAS})
    assert reported(root, "read_shelf", "phase1")["action"] == "keep"
    assert findings(root, "read_shelf") == []
