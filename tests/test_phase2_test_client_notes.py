"""Phase two's follow-up for a test suite that enters a new `TestClient` per test.

Each `with TestClient(app) as client:` runs the application on an event loop of its own, and
the async engine's pooled connections belong to the loop that opened them: on MariaDB
(aiomysql) or asyncpg the second test fails ("attached to a different loop"). The follow-up
names the fixture and the fix; a fixture that disposes of the engine, or lives for the whole
session, gets none.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, run
from test_phase2_soundness import CREATE, routes

service = test_phase2_soundness.service

CONFTEST = """
import pytest
from fastapi.testclient import TestClient

from main import app


@pytest.fixture{scope}
def client():
    with TestClient(app) as c:
        yield c{dispose}
"""


def _notes(cli, service, scope: str = "", dispose: str = "", url: str | None = None) -> list[str]:
    files = {
        "api/items.py": routes(CREATE),
        "tests/__init__.py": "",
        "tests/conftest.py": CONFTEST.replace("{scope}", scope).replace("{dispose}", dispose),
    }
    if url is not None:
        files["db/engine.py"] = test_phase2_soundness.ENGINE.replace('os.environ["DATABASE_URL"]', url)
    root = service(files)
    return [n for n in run(cli, root)["subsystem"]["follow_ups"] if "TestClient" in n]


def test_a_fixture_entering_a_client_per_test_gets_the_follow_up(cli, service):
    assert _notes(cli, service) == [
        "tests/conftest.py:8: the fixture `client` enters a new `TestClient(...)` for each test, each on an "
        "event loop of its own, and the async engine's pooled connections belong to the loop that opened them "
        "(\"attached to a different loop\" from the second test on, with asyncpg or aiomysql): dispose of the "
        "async engine when the client closes (`client.portal.call(async_engine.dispose)` before leaving the "
        "`with`), or give the fixture `scope=\"session\"`"
    ]


@pytest.mark.parametrize(
    ("scope", "dispose"),
    [('(scope="session")', ""), ("", "\n        c.portal.call(stack.async_engine.dispose)")],
    ids=["session-scoped", "disposing"],
)
def test_near_miss_a_session_fixture_or_one_disposing_of_the_engine_gets_none(cli, service, scope, dispose):
    assert _notes(cli, service, scope, dispose) == []


@pytest.mark.parametrize(
    ("scope", "each", "second"),
    [
        ('(scope="module")', "each test module", "the second module on"),
        ("(scope='class')", "each test class", "the second class on"),
        ("(scope=pick_scope)", "each time pytest sets it up", "the second time on"),
    ],
    ids=["module", "class", "computed"],
)
def test_the_follow_up_says_what_the_fixtures_scope_sets_it_up_for(cli, service, scope, each, second):
    # the full-stack template's `client` fixture is module-scoped: a new client per module, not per test
    [note] = _notes(cli, service, scope)
    assert f"enters a new `TestClient(...)` for {each}, each on an event loop" in note
    assert f"(\"attached to a different loop\" from {second}, with asyncpg or aiomysql)" in note


TESTS = """
from fastapi.testclient import TestClient

from main import app

client = TestClient(app)


def test_items():
    assert client.post("/items", params={"name": "a"}).status_code == 200
"""


@pytest.mark.parametrize(
    "url", ['"sqlite:///./app.db"', 'os.environ.get("DATABASE_URL", "sqlite:///./app.db")', '"postgresql://app@db/app"'],
    ids=["sqlite", "sqlite-default", "postgresql"],
)
def test_the_first_run_gives_the_loop_follow_ups_the_rerun_gives(cli, service, url):
    # the first run read the engine's drivers and kept quiet on SQLite; the rerun, reusing the
    # stack it wrote, read none and gave them: the same project now gets them on both
    root = service({
        "api/items.py": routes(CREATE), "tests/__init__.py": "", "tests/test_items.py": TESTS,
        "tests/conftest.py": CONFTEST.replace("{scope}", "").replace("{dispose}", ""),
        "db/engine.py": test_phase2_soundness.ENGINE.replace('os.environ["DATABASE_URL"]', url),
    })
    first = [n for n in run(cli, root)["subsystem"]["follow_ups"] if "TestClient" in n]
    assert [n.partition(":")[0] for n in first] == ["tests/test_items.py", "tests/conftest.py"], first
    assert "`TestClient(...)` is not entered with `with`" in first[0], first
    apply(cli, root)
    assert [n for n in run(cli, root)["subsystem"]["follow_ups"] if "TestClient" in n] == first
