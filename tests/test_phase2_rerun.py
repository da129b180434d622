"""Phase two run subsystem after subsystem on one copy of a sample, then every subsystem again.

A later run reuses what an earlier one generated: the async stack, the dependency twins and
their `Annotated` aliases, the twins of shared helpers. It never adds a second copy
(`current_user_dependency_async_2` beside `current_user_dependency_async`, an in-place async
original beside its earlier twin), and a run on a subsystem already migrated changes nothing.
The service's own tests then pass on the async stack.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

import pytest
from conftest import BOOKSHOP, TASKBOARD
from sample import STRICT, assert_all_passed, copy_service, defined_tests, run_service_tests

SAMPLES = {
    "bookshop": (BOOKSHOP, "BOOKSHOP", ("api/books.py", "api/authors.py", "api/reviews.py", "api/orders.py")),
    "taskboard": (TASKBOARD, "TASKBOARD", ("api/tasks.py", "api/projects.py", "api/users.py", "api/reports.py")),
}


def definitions(root) -> Counter:  # type: ignore[no-untyped-def]
    """(module, qualified name) -> how many times the module defines or assigns it at the top
    level or in a class body (the service's tests left out)."""
    found: Counter = Counter()
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("tests/"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            bodies = [("", [node])]
            if isinstance(node, ast.ClassDef):
                bodies.append((node.name + ".", node.body))
            for prefix, statements in bodies:
                for statement in statements:
                    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        found[(relative, prefix + statement.name)] += 1
                    elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                        for target in targets:
                            if isinstance(target, ast.Name):
                                found[(relative, prefix + target.id)] += 1
    return found


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_subsystem_after_subsystem_reuses_what_earlier_runs_added_and_a_rerun_changes_nothing(cli, tmp_path, sample):
    source, prefix, subsystems = SAMPLES[sample]
    root = copy_service(source, tmp_path / sample)
    assert cli("phase1", root, "--apply").exit_code == 0
    for subsystem in subsystems:
        document = cli.json("phase2", root, "--subsystem", subsystem, "--apply")
        assert document["errors"] == [], subsystem
        numbered = sorted(set(re.findall(r"^\+.*?\b(\w+_async_\d+)\b", document["diff"], re.MULTILINE)))
        assert numbered == [], (subsystem, numbered)
    text = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*.py")}
    assert not [(path, name) for path, body in text.items() for name in re.findall(r"\b\w+_async_\d+\b", body)]
    twice = {key: n for key, n in definitions(root).items() if n > 1 and "_async" in key[1]}
    assert twice == {}
    before = {path: path.read_bytes() for path in root.rglob("*.py")}
    for subsystem in subsystems:
        document = cli.json("phase2", root, "--subsystem", subsystem, "--apply")
        assert (document["errors"], document["files_changed"]) == ([], []), subsystem
    assert {path: path.read_bytes() for path in root.rglob("*.py")} == before
    result = run_service_tests(root, None, prefix=prefix, pytest_args=STRICT)
    assert_all_passed(result, defined_tests(root))


HELPERS = """
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, selectinload

from models import Book


def book_of(session: Session, book_id: int) -> Book:
    return session.get(Book, book_id)


async def book_of_async(session: AsyncSession, book_id: int) -> Book:
    return await session.get(Book, book_id{options})
"""
ROUTER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from services.books import book_of

router = APIRouter()


@router.get("/author")
def author(session: session_dependency):
    return {"author": book_of(session, 1).author.name}
"""


@pytest.fixture
def twin_app(project, app_files):  # type: ignore[no-untyped-def]
    from test_phase2_rules import MODELS, RUNTIME_ENGINE

    def build(options: str):  # type: ignore[no-untyped-def]
        return project({
            **app_files, "db/engine.py": RUNTIME_ENGINE, "models.py": MODELS, "api/__init__.py": "",
            "services/__init__.py": "", "services/books.py": HELPERS.format(options=options), "api/items.py": ROUTER,
        })

    return build


def test_an_existing_twin_without_the_eager_load_the_route_needs_blocks_it(cli, twin_app):
    from test_phase2_rules import handler, helper

    root = twin_app("")
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    found = handler(document, "author")
    assert (found["action"], found["codes"]) == ("blocked", ["AM245"]), found
    assert "whose async twin `book_of_async` (already there: an earlier run's, or written by hand)" in found["reasons"][0]
    assert "fix: add the eager load of Book.author to the query in `book_of_async`" in found["reasons"][0]
    assert helper(document, "book_of")["action"] == "blocked"


def test_near_miss_an_existing_twin_loading_it_is_reused(cli, twin_app):
    from test_phase2_rules import handler, helper, run_python

    root = twin_app(", options=[selectinload(Book.author)]")
    document = cli.json("phase2", root, "--subsystem", "api/items.py", "--apply", "--allow-dirty")
    assert handler(document, "author")["action"] == "migrate"
    assert helper(document, "book_of")["action"] == "twin"
    text = (root / "services/books.py").read_text()
    assert text.count("async def book_of_async(") == 1 and "\ndef book_of(session: Session," in text
    assert "await book_of_async(session, 1)" in (root / "api/items.py").read_text()
    result = run_python(root, """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from api.items import router

        app = FastAPI()
        app.include_router(router)
        with TestClient(app) as client:
            print(json.dumps(client.get("/author").json()))
    """)
    assert result == {"author": "Ann"}
