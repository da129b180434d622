"""AM157 graphql-resolver: phase one lists every GraphQL resolver and leaves each as it is."""

from __future__ import annotations

import asyncio
import threading

import pytest
from graphql_sample import FILES, ROUTER


@pytest.mark.parametrize(
    ("function", "action", "says"),
    [
        ("Query.books", "keep", "(crud.list_books(...))"),
        ("Query.sync_books", "unchanged", "(crud.list_books(...))"),
        ("BookType.author_name", "unchanged", "lazy load of Book.author"),
        ("load_titles", "keep", "database_sessionmaker()"),
        ("Query.double", "keep", "does no synchronous Session work"),
    ],
)
def test_phase_one_keeps_resolvers_with_am157(app, reported, function, action, says):
    root = app(ROUTER, FILES)
    entry = reported(root, function, "phase1")
    assert entry["kind"] == "resolver"
    assert entry["action"] == action
    assert entry["codes"] == ["AM157"]
    assert says in entry["reasons"][0]
    assert "not in the threadpool" in entry["reasons"][0]


def test_near_miss_context_getter_is_a_dependency_not_a_resolver(app, reported, cli):
    root = app(ROUTER, FILES)
    entry = reported(root, "get_context", "phase1")
    assert entry["kind"] == "dependency"
    assert "AM157" not in entry["codes"]
    # FastAPI runs it through Depends: a def one in the threadpool, as Strawberry accepts
    assert entry["action"] == "convert"
    output = cli("phase1", root).output
    assert "-async def get_context" in output and "+def get_context" in output
    assert "-    async def books" not in output  # no resolver rewritten


def test_context_getter_also_used_as_a_value_elsewhere_stays_async(app, reported):
    files = dict(FILES)
    files["schema.py"] += "\nGETTERS = [get_context]\n"
    root = app(ROUTER, files)
    entry = reported(root, "get_context", "phase1")
    assert entry["action"] == "keep"
    assert "AM139" in entry["codes"]


def test_strawberry_runs_a_def_resolver_on_the_event_loop():
    """Why phase one never makes a resolver def: it would still run on the loop."""
    strawberry = pytest.importorskip("strawberry")
    seen: dict[str, str] = {}

    @strawberry.type
    class Q:
        @strawberry.field
        def plain(self) -> int:
            seen["plain"] = threading.current_thread().name
            return 1

    async def run() -> None:
        seen["loop"] = threading.current_thread().name
        result = await strawberry.Schema(query=Q).execute("{ plain }")
        assert result.errors is None

    asyncio.run(run())
    assert seen["plain"] == seen["loop"]
