"""AM312 blocking-request-validation: a pydantic validator FastAPI runs on a request parameter, on
the event loop before any route (`def` or `async def`), does synchronous Session work."""

from __future__ import annotations

SCHEMAS = """
from typing import Annotated

from pydantic import AfterValidator, BaseModel, field_validator, model_validator
from sqlalchemy import select

from db.engine import database_sessionmaker
from models import Book


def known_book(value: int) -> int:
    with database_sessionmaker() as session:
        if session.get(Book, value) is None:
            raise ValueError("no such book")
    return value


def positive(value: int) -> int:
    if value < 1:
        raise ValueError("must be positive")
    return value


BookId = Annotated[int, AfterValidator(known_book)]
Count = Annotated[int, AfterValidator(positive)]


class OrderLine(BaseModel):
    book_id: int
    count: Count

    @field_validator("book_id")
    @classmethod
    def book_exists(cls, value: int) -> int:
        return known_book(value)


class Order(BaseModel):
    lines: list[OrderLine]


class Title(BaseModel):
    title: str

    @model_validator(mode="after")
    def unique(self):
        with database_sessionmaker() as session:
            if session.scalars(select(Book).where(Book.title == self.title)).first() is not None:
                raise ValueError("taken")
        return self


class Plain(BaseModel):
    title: str
    count: Count

    @field_validator("title")
    @classmethod
    def stripped(cls, value: str) -> str:
        return value.strip()
"""

ROUTES = """
from typing import Annotated

from fastapi import Depends, Query
from pydantic import AfterValidator

from schemas import BookId, Order, Plain, Title, known_book


@router.post("/orders")
async def place(order: Order):
    return {"lines": len(order.lines)}


@router.post("/titles")
def rename(body: Title):
    return {"title": body.title}


@router.get("/by-alias")
def by_alias(book: BookId):
    return {"book": book}


@router.get("/by-query")
async def by_query(book: Annotated[int, Query(), AfterValidator(known_book)]):
    return {"book": book}


def title_of(body: Title) -> str:
    return body.title


@router.post("/through-dependency")
async def through_dependency(title: str = Depends(title_of)):
    return {"title": title}


@router.post("/plain")
async def plain(body: Plain, count: int = 0):
    return {"title": body.title}
"""


def test_a_validator_doing_session_work_on_a_request_parameter_is_am312(app, findings):
    root = app(ROUTES, {"schemas.py": SCHEMAS})
    expected = {
        "place": ("`order.lines` of `order`", "OrderLine.book_exists"),
        "rename": ("`body`", "Title.unique"),
        "by_alias": ("`book`", "known_book"),
        "by_query": ("`book`", "known_book"),
        "title_of": ("`body`", "Title.unique"),  # a dependency's parameters are validated alike
    }
    for function, (where, validator) in expected.items():
        found = [f for f in findings(root, function) if f["code"] == "AM312"]
        assert len(found) == 1, (function, findings(root, function))
        message = found[0]["message"]
        assert f"validates {where} on the event loop" in message, message
        assert f"the validator {validator} (schemas.py)" in message, message
        assert "`def` or `async def` alike" in message, message


def test_near_miss_validators_without_session_work_and_dependencies_are_clean(app, findings):
    root = app(ROUTES, {"schemas.py": SCHEMAS})
    assert [f for f in findings(root, "plain") if f["code"] == "AM312"] == []
    # the route only receives what the dependency returns: its parameters are the dependency's
    assert [f for f in findings(root, "through_dependency") if f["code"] == "AM312"] == []


def test_a_pragma_silences_am312(app, findings):
    source = ROUTES.replace(
        "def rename(body: Title):", "def rename(body: Title):  # async-migrate: ignore[AM312] one indexed lookup"
    )
    root = app(source, {"schemas.py": SCHEMAS})
    assert findings(root, "rename") == []


def test_scan_says_what_the_validation_of_a_route_without_session_work_does(app, reported):
    # phase one keeps the route (converting it moves nothing), and says why beside "no Session work"
    root = app(ROUTES, {"schemas.py": SCHEMAS})
    entry = reported(root, "place")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM105"]), entry
    reason = entry["reasons"][0]
    assert reason.startswith("does no synchronous Session work of its own, but FastAPI validates `order.lines` of "
                             "`order` on the event loop"), reason
    assert "OrderLine.book_exists (schemas.py)" in reason and "(check: AM312)" in reason, reason
    # near miss: validators doing no Session work, nothing to add
    assert reported(root, "plain")["reasons"] == ["does no synchronous Session work"]
