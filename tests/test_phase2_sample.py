"""Phase two on the bookshop sample: the decisions on its largest router, and on every router
in turn. That its own API tests pass after each step, on aiosqlite, PostgreSQL and MariaDB, is
tests/test_phase2_steps.py."""

from __future__ import annotations

import json

import pytest
from conftest import BOOKSHOP, check_golden
from sample import copy_service

from async_migrate.codemods import run
from async_migrate.codemods.config import Config
from async_migrate.codemods.phase2.closure import session_calls

SUBSYSTEM = "api/books.py"


@pytest.fixture
def migrated(bookshop_steps, tmp_path):  # type: ignore[no-untyped-def]
    """A copy of the bookshop after phase one and phase two on api/books.py (the first step in
    tests/steps.py, whose API tests run in test_phase2_steps.py), and phase two's JSON."""
    assert next(iter(bookshop_steps.documents)) == SUBSYSTEM
    root = copy_service(bookshop_steps.copies[SUBSYSTEM], tmp_path / "bookshop")
    return root, bookshop_steps.documents[SUBSYSTEM]


def test_every_subsystem_migrates_one_after_another_or_says_why_not(bookshop_steps):
    """Every router with Session work, applied one after another on one copy (tests/steps.py):
    the later runs reuse the stack and the dependency twins the first one generated. The API
    tests after each step, on every database: tests/test_phase2_steps.py."""
    root, documents = bookshop_steps.root, bookshop_steps.documents
    blocked = {}
    for document in documents.values():
        for handler in document["handlers"]:
            assert handler["action"] in ("migrate", "blocked", "unchanged") and handler["reasons"], handler
            if handler["action"] == "blocked":
                blocked[handler["function"]] = handler["codes"]
    # `sales_report` builds its rows in a lambda that would need `await`.
    assert blocked == {"sales_report": ["AM211"]}
    actions = {h["function"]: h["action"] for h in documents[SUBSYSTEM]["handlers"]}
    assert sum(a == "migrate" for a in actions.values()) >= 11  # by name: the two `export` routes count once
    engine = (root / "db/engine.py").read_text()
    assert "async_database_sessionmaker = async_sessionmaker(" in engine
    assert engine.count("= async_sessionmaker(") == 1  # one async stack, reused by every later run
    dependencies = (root / "core/dependencies.py").read_text()
    assert "_async_2" not in dependencies and dependencies.count("def get_current_user_async(") == 1


def test_every_route_of_the_router_migrates_or_is_blocked_with_a_reason(migrated):
    _, document = migrated
    for handler in document["handlers"]:
        assert handler["file"] == SUBSYSTEM
        assert handler["action"] in ("migrate", "blocked", "unchanged")
        assert handler["reasons"], handler
        if handler["action"] == "migrate":
            assert handler["after"] == "async"
    blocked = {h["function"] for h in document["handlers"] if h["action"] == "blocked"}
    # The routes whose relationship reads would raise MissingGreenlet migrate with the eager
    # load added to the query that loaded the object; the admin and current-user
    # dependencies sharing the request's Session move with the routes as twins.
    assert blocked == set()
    assert document["subsystem"]["blockers"] == []
    added = {
        h["function"]: sorted(r.split(": ", 1)[1] for r, c in zip(h["reasons"], h["codes"]) if c == "AM246")
        for h in document["handlers"]
        if "AM246" in h["codes"]
    }
    assert {name: [r.split(" to the query in ")[0] for r in reasons] for name, reasons in added.items()} == {
        "book_summary": ["adds the eager load of Book.author", "adds the eager load of Book.tags"],
        "replace_book": ["adds the eager load of Book.tags"],
        "patch_book": ["adds the eager load of Book.tags"],
    }
    # The page payload is a dict built from separate queries: its `book` and `reviews` keys
    # are not the relationships of the same names.
    assert "book_details" not in added
    twins = {h["function"] for h in document["subsystem"]["helpers"] if h["action"] == "twin"}
    assert {"get_current_user", "require_admin"} <= twins


def test_no_migrated_route_calls_a_synchronous_session_helper(migrated):
    root, _ = migrated
    result = run.scan(root, Config(), run.Options(jobs=1))
    project = result.project
    for handler in project.handlers:
        if handler.module.path != SUBSYSTEM or not project.declared_async_session_params(handler.id):
            continue
        for edge in project.calls_from[handler.id]:
            _, callee = project.functions[edge.callee]
            if edge.session_args or project.opens_session(edge.callee):
                assert callee.is_async, f"{handler.function.qualname} calls sync {callee.qualname}"
                assert edge.call.awaited, f"{handler.function.qualname} does not await {callee.qualname}"
        assert all(call.awaited or call.method in ("add", "add_all") for call in session_calls(project, handler.id))


def test_a_second_run_changes_nothing(migrated, cli):
    root, _ = migrated
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    assert cli("phase2", root, "--subsystem", SUBSYSTEM, "--check").exit_code == 0
    document = cli.json("phase2", root, "--subsystem", SUBSYSTEM, "--apply")
    assert document["files_changed"] == []
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_phase2_decisions_match_the_reviewed_golden_file(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    assert cli("phase1", root, "--apply").exit_code == 0
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = cli.json("phase2", root, "--subsystem", SUBSYSTEM)
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before, "the dry run wrote"
    document["root"] = "<root>"
    for volatile in ("version", "schema"):
        document.pop(volatile, None)
    check_golden("bookshop_phase2_books.json", json.dumps(document, indent=2, sort_keys=True) + "\n")


def test_phase2_check_exits_1_while_phase_two_would_change_something_and_0_after(cli, tmp_path):
    root = copy_service(BOOKSHOP, tmp_path / "bookshop")
    assert cli("phase1", root, "--apply").exit_code == 0
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    check = cli("phase2", root, "--subsystem", SUBSYSTEM, "--check")
    assert check.exit_code == 1, check.output
    assert check.stdout == ""
    assert "would change api/books.py" in check.stderr.splitlines()
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before, "--check wrote"
    assert cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply").exit_code == 0
    after = cli("phase2", root, "--subsystem", SUBSYSTEM, "--check")
    assert after.exit_code == 0, after.output
    assert "would change api/" not in after.stderr and after.stderr.rstrip().endswith("; 0 files would change")
