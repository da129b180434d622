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
