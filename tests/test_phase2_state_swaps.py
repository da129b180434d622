"""Tests pointing the application at their database by swapping the sessionmaker it keeps on its
state (`app.state.sessionmaker = testing_maker` in a fixture) rather than by a dependency override.
Before, phase two saw no override to carry over and wrote: the migrated routes open their
AsyncSession through the hand-written async dependency (`request.app.state.async_sessionmaker()`),
which the swap does not reach, and under those tests wrote to the application's own database. Now
`--apply` refuses, naming the swap, unless the same fixture swaps the async one too (or overrides
the async dependency)."""

from __future__ import annotations

import os
import re

import pytest
from sample import run_python
from test_phase2_app_state_elsewhere import ASYNC_DEPS, ASYNC_STACK, BOOKS, CONFIG, DEPS, MAIN, MODELS, REPO

SWAP = """
import os

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from main import app
from models import Base, Book


@pytest.fixture()
def client():
    with TestClient(app) as c:
        Base.metadata.create_all(app.state.engine)
        yield c


@pytest.fixture()
def testing(client, tmp_path):
    url = f"sqlite:///{tmp_path / 'testing.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    maker = sessionmaker(bind=engine)
    original = app.state.sessionmaker
    app.state.sessionmaker = maker
{async_swap}    yield maker
    app.state.sessionmaker = original


def test_added_to_the_testing_database(testing, client):
    assert client.post("/books", params={"title": "T"}).status_code == 200
    with testing() as db:
        assert db.scalars(select(Book.title)).all() == ["T"]
"""
ASYNC_SWAP = (
    "    app.state.async_sessionmaker = async_sessionmaker("
    "create_async_engine(url.replace('sqlite', 'sqlite+aiosqlite')), expire_on_commit=False)\n"
)


def tree(project, async_swap: bool):  # type: ignore[no-untyped-def]
    books = BOOKS.split('\n\n@router.get("/direct")')[0] + "\n"
    return project({
        "models.py": MODELS, "deps.py": DEPS + ASYNC_DEPS, "repo.py": REPO, "books.py": books,
        "main.py": MAIN.replace("{async_stack}", ASYNC_STACK), "pyproject.toml": CONFIG,
        "tests/__init__.py": "",
        "tests/test_books.py": SWAP.replace("{async_swap}", ASYNC_SWAP if async_swap else ""),
    })


def test_a_swap_of_the_state_sessionmaker_alone_is_refused(cli, project):
    root = tree(project, async_swap=False)
    before = (root / "books.py").read_text(encoding="utf-8")
    result = cli("phase2", root, "-s", "books.py", "--apply", "--allow-dirty")
    assert result.exit_code == 2, result.output
    assert "tests/test_books.py:27: `app.state.sessionmaker = maker`" in result.output, result.output
    assert "tests/test_books.py:29" not in result.output, result.output  # the restoring assignment: one gap per fixture
    assert (root / "books.py").read_text(encoding="utf-8") == before


def test_a_fixture_swapping_both_applies_and_the_tests_reach_their_database(cli, project):
    root = tree(project, async_swap=True)
    document = cli.json("phase2", root, "-s", "books.py", "--apply", "--allow-dirty")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "list_books": "migrate", "add_book": "migrate"}, document["handlers"]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    result = run_python(
        "import sys, pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'tests']))",
        cwd=root, env=env, warnings=("error::RuntimeWarning",),
    )
    assert result.returncode == 0, result.stdout + result.stderr


# The same swap written at module level (the tests' client never runs the lifespan), or through
# `monkeypatch.setattr` on the state object or on a dotted path to it.
MODULE_LEVEL = """
import os

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from main import app
from models import Base, Book

url = f"sqlite:///{os.path.join(os.path.dirname(os.path.abspath(__file__)), 'testing.db')}"
engine = create_engine(url)
Base.metadata.create_all(engine)
maker = sessionmaker(bind=engine)
app.state.sessionmaker = maker
{async_swap}client = TestClient(app)


def test_added_to_the_testing_database():
    assert client.post("/books", params={"title": "T"}).status_code == 200
    with maker() as db:
        assert db.scalars(select(Book.title)).all() == ["T"]
"""
MODULE_ASYNC_SWAP = (
    "app.state.async_sessionmaker = async_sessionmaker("
    "create_async_engine(url.replace('sqlite', 'sqlite+aiosqlite')), expire_on_commit=False)\n"
)
PATCHED = """
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from main import app
from models import Base, Book


@pytest.fixture()
def client():
    with TestClient(app) as c:
        Base.metadata.create_all(app.state.engine)
        yield c


@pytest.fixture()
def testing(client, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'testing.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    maker = sessionmaker(bind=engine)
    monkeypatch.setattr({target}, maker)
{async_swap}    return maker


def test_added_to_the_testing_database(testing, client):
    assert client.post("/books", params={"title": "T"}).status_code == 200
    with testing() as db:
        assert db.scalars(select(Book.title)).all() == ["T"]
"""
PATCHED_ASYNC_SWAP = (
    "    monkeypatch.setattr({target}, async_sessionmaker("
    "create_async_engine(url.replace('sqlite', 'sqlite+aiosqlite')), expire_on_commit=False))\n"
)
FORMS = {
    "module-level": (
        MODULE_LEVEL, MODULE_ASYNC_SWAP, "`app.state.sessionmaker = maker`",
    ),
    "monkeypatch-object": (
        PATCHED.replace("{target}", 'app.state, "sessionmaker"'),
        PATCHED_ASYNC_SWAP.replace("{target}", 'app.state, "async_sessionmaker"'),
        '`monkeypatch.setattr(app.state, "sessionmaker", maker)`',
    ),
    "monkeypatch-path": (
        PATCHED.replace("{target}", '"main.app.state.sessionmaker"'),
        PATCHED_ASYNC_SWAP.replace("{target}", '"main.app.state.async_sessionmaker"'),
        '`monkeypatch.setattr("main.app.state.sessionmaker", maker)`',
    ),
}


def form_tree(project, form: str, async_swap: bool, conftest: str | None = None):  # type: ignore[no-untyped-def]
    source, swap, _ = FORMS[form]
    books = BOOKS.split('\n\n@router.get("/direct")')[0] + "\n"
    files = {
        "models.py": MODELS, "deps.py": DEPS + ASYNC_DEPS, "repo.py": REPO, "books.py": books,
        "main.py": MAIN.replace("{async_stack}", ASYNC_STACK), "pyproject.toml": CONFIG,
        "tests/__init__.py": "",
        "tests/test_books.py": source.replace("{async_swap}", swap if async_swap else ""),
    }
    if conftest is not None:
        files["tests/conftest.py"] = conftest
    return project(files)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_of_the_swap_alone_is_refused(cli, project, form):
    root = form_tree(project, form, async_swap=False)
    before = (root / "books.py").read_text(encoding="utf-8")
    result = cli("phase2", root, "-s", "books.py", "--apply", "--allow-dirty")
    assert result.exit_code == 2, result.output
    said = re.escape(FORMS[form][2])
    assert re.search(rf"tests/test_books\.py:\d+: {said} points the sessionmaker", result.output), result.output
    assert (root / "books.py").read_text(encoding="utf-8") == before


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_swapping_both_applies_and_the_tests_reach_their_database(cli, project, form):
    root = form_tree(project, form, async_swap=True)
    document = cli.json("phase2", root, "-s", "books.py", "--apply", "--allow-dirty")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "list_books": "migrate", "add_book": "migrate"}, document["handlers"]
    assert "async def add_book" in (root / "books.py").read_text(encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    result = run_python(
        "import sys, pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'tests']))",
        cwd=root, env=env, warnings=("error::RuntimeWarning",),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout, result.stdout


def test_a_module_level_swap_is_not_covered_by_a_fixture_swapping_the_async_side(cli, project):
    # the sync swap at a conftest's top holds for every test; the async one in a test module's
    # fixture only for the tests using it
    conftest = "from main import app\nfrom sqlalchemy.orm import sessionmaker\n\napp.state.sessionmaker = sessionmaker()\n"
    root = form_tree(project, "monkeypatch-object", async_swap=True, conftest=conftest)
    result = cli("phase2", root, "-s", "books.py", "--apply", "--allow-dirty")
    assert result.exit_code == 2, result.output
    assert "tests/conftest.py:4: `app.state.sessionmaker = sessionmaker()`" in result.output, result.output


# The async dependency opening a module-level async sessionmaker instead: the fixture redirects
# that (as the refusal advises: "swap what `get_async_db` opens in the same place").
MODULE_MAKER_DEPS = ASYNC_DEPS.replace(
    "async def get_async_db(request: Request) -> AsyncIterator[AsyncSession]:\n"
    "    async with request.app.state.async_sessionmaker() as db:",
    "import os\n\nfrom sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\n\n"
    "async_engine = create_async_engine(os.environ[\"DATABASE_URL\"].replace(\"sqlite://\", \"sqlite+aiosqlite://\"))\n"
    "AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)\n\n\n"
    "async def get_async_db() -> AsyncIterator[AsyncSession]:\n"
    "    async with AsyncSessionLocal() as db:",
)
MODULE_MAKER_SWAPS = {
    "assignment": (
        "    import deps\n\n    deps.AsyncSessionLocal = async_sessionmaker("
        "create_async_engine(url.replace('sqlite', 'sqlite+aiosqlite')), expire_on_commit=False)\n"
    ),
    "monkeypatch": (
        "    monkeypatch.setattr(\"deps.AsyncSessionLocal\", async_sessionmaker("
        "create_async_engine(url.replace('sqlite', 'sqlite+aiosqlite')), expire_on_commit=False))\n"
    ),
}


@pytest.mark.parametrize("form", [None, *sorted(MODULE_MAKER_SWAPS)])
def test_redirecting_the_module_level_async_sessionmaker_covers_the_swap(cli, project, form):
    assert MODULE_MAKER_DEPS != ASYNC_DEPS
    source = SWAP.replace("{async_swap}", MODULE_MAKER_SWAPS[form] if form else "").replace(
        "def testing(client, tmp_path):", "def testing(client, tmp_path, monkeypatch):"
    )
    books = BOOKS.split('\n\n@router.get("/direct")')[0] + "\n"
    root = project({
        "models.py": MODELS, "deps.py": DEPS + MODULE_MAKER_DEPS, "repo.py": REPO, "books.py": books,
        "main.py": MAIN.replace("{async_stack}", ""), "pyproject.toml": CONFIG,
        "tests/__init__.py": "", "tests/test_books.py": source,
    })
    result = cli("phase2", root, "-s", "books.py", "--apply", "--allow-dirty")
    if form is None:
        assert result.exit_code == 2 and "points the sessionmaker the synchronous" in result.output, result.output
        return
    assert result.exit_code == 0, result.output
    assert "async def add_book" in (root / "books.py").read_text(encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    ran = run_python(
        "import sys, pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'tests']))",
        cwd=root, env=env, warnings=("error::RuntimeWarning",),
    )
    assert ran.returncode == 0 and "1 passed" in ran.stdout, ran.stdout + ran.stderr
