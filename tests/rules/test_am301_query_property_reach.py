"""AM301 blocking-session beside a `query_property()` reached the ways older services reach it:
a declarative base made with `declarative_base(cls=Model)` where `Model` declares `query =
Session.query_property()`, a repository naming its model in the class body (`model = Item`, then
`self.model.query.all()`), and a function returning the Query (`get_query(Item).all()`). Each
reads a legacy Query on the `scoped_session`'s Session: Session work on the event loop."""

from __future__ import annotations

import pytest

REGISTRY = """
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("sqlite:///./app.db")
ScopedSession = scoped_session(sessionmaker(bind=engine))


class QueryModel:
    query = ScopedSession.query_property()
"""

MODELS = """
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

from registry import QueryModel

Base = declarative_base(BASE_ARGS)


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
"""

ROUTES = """
from legacy import Item


class Repository:
    model = Item

    def all(self):
        return self.model.query.all()

    def table(self):
        return self.model.__tablename__


def get_query(model):
    return model.query


@router.get("/items")
async def items():
    BODY
"""


@pytest.mark.parametrize("body", [
    "return {'n': Item.query.count()}",
    "return {'n': len(Repository().all())}",
    "return {'n': len(get_query(Item).all())}",
])
def test_a_query_property_reached_through_a_base_a_class_attribute_or_a_function_blocks(app, findings, body):
    files = {"registry.py": REGISTRY, "legacy.py": MODELS.replace("BASE_ARGS", "cls=QueryModel")}
    root = app(ROUTES.replace("BODY", body), files)
    assert [f["code"] for f in findings(root, "items")] == ["AM301"]


@pytest.mark.parametrize(("base_args", "body"), [
    # a base without the query property: `Item.query` is nothing the registry gives
    ("", "return {'n': len(get_query(Item).all())}"),
    # the model named in the class body, read for something other than its query
    ("cls=QueryModel", "return {'name': Repository().table()}"),
])
def test_near_miss_no_query_property_is_read(app, findings, base_args, body):
    files = {"registry.py": REGISTRY, "legacy.py": MODELS.replace("BASE_ARGS", base_args)}
    root = app(ROUTES.replace("BODY", body), files)
    assert [f["code"] for f in findings(root, "items") if f["code"] == "AM301"] == []
