"""AM321 unverified-resolver: a resolver using the GraphQL context in a way the analysis does
not follow is reported, never counted clean."""

from __future__ import annotations

import pytest
from graphql_sample import FILES, ROUTER


@pytest.mark.parametrize("function", ["Query.who", "Query.awaited"])
def test_check_reports_context_read_with_am321(app, findings, function):
    """The context dict's own `get`, and an awaited method of what it holds: no Session work
    the analysis can name, and no all-clear either."""
    root = app(ROUTER, FILES)
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM321"]
    assert "info.context" in found[0]["message"]
    assert found[0]["kind"] == "resolver"


def test_near_miss_resolver_not_reading_the_context_is_no_finding(app, findings):
    root = app(ROUTER, FILES)
    assert findings(root, "Query.double") == []
    assert [f["code"] for f in findings(root, "Query.sync_books")] == ["AM320"]  # evidence wins


PARENTS = """
import graphene
from ariadne import ObjectType

book = ObjectType("Book")


@book.field("author")
def resolve_author(obj, info):
    return obj.author


@book.field("upper")
def resolve_upper(obj, info):
    return "x"


class BookNode(graphene.ObjectType):
    author = graphene.String()

    def resolve_author(self, info):
        return self.author.name
"""


def test_parent_object_reads_are_unverified(app, findings):
    """Ariadne's `obj` and Graphene's unbound `self` are the parent field's value: an ORM object's
    relationship there is a lazy load on the event loop."""
    root = app(ROUTER, {**FILES, "parents.py": PARENTS})
    for function, read in [("resolve_author", "obj.author"), ("BookNode.resolve_author", "self.author")]:
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM321"], function
        assert f"`{read}`" in found[0]["message"]
    assert findings(root, "resolve_upper") == []
    assert findings(root, "BookType.title") == []  # a Strawberry type's own `self` is no parent
