"""AM334 (and AM285 / AM301 on an `async def` route): FastAPI serialises what a route returns on
the event loop, `def` or not: a computed field, `field_serializer` or `model_serializer` of the
response model, of a model nested in its fields or of a returned pydantic model that does
synchronous Session work blocks the loop there, and converting the route does not move it."""

from __future__ import annotations

import pytest

SCHEMAS = """
from contextvars import ContextVar

from pydantic import BaseModel, computed_field, field_serializer, field_validator, model_serializer
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker

db_ctx: ContextVar[Session] = ContextVar("db_ctx")


def bind_session():
    # a dependency keeping the request's Session where the schema code reads it
    with database_sessionmaker() as session:
        token = db_ctx.set(session)
        try:
            yield
        finally:
            db_ctx.reset(token)


class Counted(BaseModel):
    id: int

    @computed_field
    @property
    def total(self) -> int:
        return db_ctx.get().execute(text("select count(*) from items")).scalar()


class Wrapped(BaseModel):
    id: int

    @model_serializer(mode="wrap")
    def dump(self, handler):
        data = handler(self)
        with database_sessionmaker() as session:
            data["n"] = session.execute(text("select count(*) from items")).scalar()
        return data


class Named(BaseModel):
    id: int

    @field_serializer("id")
    def label(self, value):
        return db_ctx.get().execute(text("select name from items where id = :i"), {"i": value}).scalar()


class Page(BaseModel):
    items: list[Counted]


class Checked(BaseModel):
    id: int

    @field_validator("id")
    @classmethod
    def exists(cls, value):
        with database_sessionmaker() as session:
            session.execute(text("select 1 from items where id = :i"), {"i": value})
        return value


class Plain(BaseModel):
    id: int

    @computed_field
    @property
    def double(self) -> int:
        return self.id * 2

    @field_serializer("id")
    def label(self, value):
        return str(value)
"""

SERIALISED = [
    ('@router.get("/x", response_model=Counted)', "return {'id': 1}", "Counted.total"),
    ('@router.get("/x", response_model=list[Wrapped])', "return [{'id': 1}]", "Wrapped.dump"),
    ('@router.get("/x", response_model=Named)', "return Named(id=1)", "Named.label"),
    ('@router.get("/x", response_model=Page)', "return {'items': [{'id': 1}]}", "Counted.total"),  # nested
    ('@router.get("/x")', "return Wrapped(id=1)", "Wrapped.dump"),  # no response model: jsonable_encoder
]


def _route(decorator: str, body: str, asynchronous: bool) -> str:
    head = "async def" if asynchronous else "def"
    return f"from schemas import Checked, Counted, Named, Page, Plain, Wrapped\n\n\n{decorator}\n{head} read():\n    {body}\n"


@pytest.mark.parametrize(("decorator", "body", "member"), SERIALISED)
def test_a_def_route_whose_response_serialisation_does_session_work_is_am334(app, findings, decorator, body, member):
    root = app(_route(decorator, body, False), {"schemas.py": SCHEMAS})
    found = findings(root, "read")
    assert [f["code"] for f in found] == ["AM334"], found
    assert member in found[0]["message"], found


@pytest.mark.parametrize(("decorator", "body", "member"), SERIALISED)
def test_an_async_route_whose_response_serialisation_does_session_work_converts_with_am285(
    app, reported, findings, decorator, body, member
):
    root = app(_route(decorator, body, True), {"schemas.py": SCHEMAS})
    entry = reported(root, "read", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM285"]), entry
    assert member in entry["reasons"][0], entry
    assert [f["code"] for f in findings(root, "read")] == ["AM301"]


def test_a_response_models_validator_blocks_only_an_async_route(app, reported, findings):
    # FastAPI validates a `def` route's result in the threadpool, an `async def` one's on the loop
    root = app(_route('@router.get("/x", response_model=Checked)', "return {'id': 1}", True), {"schemas.py": SCHEMAS})
    entry = reported(root, "read", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM285"]), entry
    assert "Checked.exists" in entry["reasons"][0], entry
    root = app(_route('@router.get("/x", response_model=Checked)', "return {'id': 1}", False), {"schemas.py": SCHEMAS})
    assert findings(root, "read") == []


@pytest.mark.parametrize("asynchronous", [False, True])
def test_near_miss_serialisation_code_reading_only_the_model_is_clean(app, reported, findings, asynchronous):
    root = app(_route('@router.get("/x", response_model=Plain)', "return {'id': 1}", asynchronous), {"schemas.py": SCHEMAS})
    assert findings(root, "read") == []
    if asynchronous:
        assert reported(root, "read", "phase1")["codes"] == ["AM105"]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_near_miss_a_route_returning_a_response_serialises_nothing_into_its_model(app, findings, asynchronous):
    root = app(
        "from fastapi.responses import JSONResponse\n\n"
        + _route('@router.get("/x", response_model=Counted)', "return JSONResponse({'id': 1})", asynchronous),
        {"schemas.py": SCHEMAS},
    )
    assert findings(root, "read") == []


@pytest.mark.parametrize("asynchronous", [False, True])
def test_serialisation_code_on_a_session_the_analysis_cannot_see_is_unverified(app, reported, findings, asynchronous):
    # no code of the project sets `db_ctx`: what `.get()` gives may be a synchronous Session
    unset = SCHEMAS[:SCHEMAS.index("\n\ndef bind_session():")] + SCHEMAS[SCHEMAS.index("\n\nclass Counted("):]
    root = app(_route('@router.get("/x", response_model=Counted)', "return {'id': 1}", asynchronous), {"schemas.py": unset})
    found = findings(root, "read")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "Counted.total" in found[0]["message"], found
    if asynchronous:
        entry = reported(root, "read", "phase1")
        assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry
