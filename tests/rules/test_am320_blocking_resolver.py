"""AM320 blocking-resolver: `check` reports a GraphQL resolver, `def` or `async def`, doing
synchronous Session work on the event loop."""

from __future__ import annotations

import pytest
from graphql_sample import FILES, ROUTER


@pytest.mark.parametrize(
    ("function", "call"),
    [
        ("Query.books", "crud.list_books(...)"),
        ("Query.sync_books", "crud.list_books(...)"),
        ("BookType.author_name", "self.instance.author (lazy load of Book.author)"),
        ("load_titles", "database_sessionmaker()"),
        ("make_loader.<locals>.load_books", "crud.list_books(...)"),
        ("Query.raw", "info.context['db'].get()"),
        ("Query.held", "db.scalar()"),
        ("get_titles", "crud.list_books(...)"),
    ],
)
def test_check_reports_blocking_resolver_with_am320(app, findings, cli, function, call):
    root = app(ROUTER, FILES)
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM320"], found
    assert found[0]["kind"] == "resolver"
    assert any(b["call"].endswith(call) for b in found[0]["blocking"]), found[0]["blocking"]
    assert "making it def does not help" in found[0]["message"]
    assert cli("check", root).exit_code == 1


@pytest.mark.parametrize("function", ["Query.double", "BookType.title", "not_a_resolver"])
def test_near_miss_resolver_without_session_work_is_no_finding(app, findings, function):
    root = app(ROUTER, FILES)
    assert findings(root, function) == []


def test_pragma_silences_am320(app, findings):
    files = dict(FILES)
    files["schema.py"] = files["schema.py"].replace(
        "    def sync_books(self, info: Info) -> int:",
        "    def sync_books(self, info: Info) -> int:  # async-migrate: ignore[AM320] tiny table, measured",
    )
    root = app(ROUTER, files)
    assert findings(root, "Query.sync_books") == []


OTHER_LIBRARIES = """
import graphene
from ariadne import QueryType

from db.engine import database_sessionmaker
from models import Book

query = QueryType()


@query.field("books")
def resolve_books(obj, info):
    with database_sessionmaker() as s:
        return s.query(Book).all()


class Query(graphene.ObjectType):
    books = graphene.List(graphene.String)

    def resolve_books(root, info):
        with database_sessionmaker() as s:
            return [b.title for b in s.query(Book).all()]

    def helper(self):
        with database_sessionmaker() as s:
            return s.query(Book).count()
"""


@pytest.mark.parametrize("function", ["resolve_books", "Query.resolve_books"])
def test_ariadne_and_graphene_resolvers_are_checked(app, findings, function):
    root = app(ROUTER, {**FILES, "other.py": OTHER_LIBRARIES})
    assert [f["code"] for f in findings(root, function)] == ["AM320"]


def test_near_miss_graphene_method_that_is_no_resolver(app, findings):
    root = app(ROUTER, {**FILES, "other.py": OTHER_LIBRARIES})
    assert findings(root, "Query.helper") == []


PERMISSION = """
from strawberry.permission import BasePermission
from strawberry.types import Info

import crud


class CanRead(BasePermission):
    message = "no"

    def has_permission(self, source, info: Info, **kwargs) -> bool:
        return bool(crud.list_books(info.context["db"]))

    def describe(self) -> str:
        return "reads"
"""


def test_strawberry_permission_is_checked(app, findings):
    """A permission's `has_permission` runs on the event loop before the field it guards."""
    root = app(ROUTER, {**FILES, "permissions.py": PERMISSION})
    found = findings(root, "CanRead.has_permission")
    assert [f["code"] for f in found] == ["AM320"]
    assert findings(root, "CanRead.describe") == []


BY_CALL = """
import graphene
from ariadne import ObjectType, QueryType

from db.engine import database_sessionmaker
from models import Book

query = QueryType()
mutation = ObjectType("Mutation", {"add_book": add_book})


def list_books(obj, info):
    with database_sessionmaker() as s:
        return s.query(Book).all()


def add_book(obj, info):
    with database_sessionmaker() as s:
        return s.query(Book).count()


async def resolve_count(root, info):
    with database_sessionmaker() as s:
        return s.query(Book).count()


def resolve_first(root, info):
    with database_sessionmaker() as s:
        return s.query(Book).first().title


def resolve_title(root, info):
    with database_sessionmaker() as s:
        return s.query(Book).first().title


def own_work(obj, info):
    with database_sessionmaker() as s:
        return s.query(Book).count()


class Table:
    def set_field(self, name, function):
        return function


query.set_field("books", list_books)
Table().set_field("x", own_work)
local_table = Table()
local_table.set_field("y", own_work)
title = graphene.String(resolver=resolve_title)


class Query(graphene.ObjectType):
    count = graphene.Field(graphene.Int, resolver=resolve_count)
    first = graphene.List(graphene.String, resolver=resolve_first)
    title = title
"""


@pytest.mark.parametrize("function", ["list_books", "add_book", "resolve_count", "resolve_first", "resolve_title"])
def test_resolvers_registered_by_call_are_checked(app, findings, function):
    """`query.set_field(...)`, an `ObjectType` bindings dict, `graphene.Field(..., resolver=f)`."""
    root = app(ROUTER, {**FILES, "by_call.py": BY_CALL})
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM320"], found
    assert found[0]["kind"] == "resolver"


def test_near_miss_set_field_of_a_project_class_is_no_resolver(app, findings):
    root = app(ROUTER, {**FILES, "by_call.py": BY_CALL})
    assert findings(root, "own_work") == []


def test_summary_counts_def_resolvers(app, cli):
    root = app(ROUTER, FILES)
    last = cli("check", root).stdout.strip().splitlines()[-1]
    assert "async def handler" in last and "def GraphQL resolver" in last, last
