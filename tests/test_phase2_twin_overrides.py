"""The tests' overrides of dependencies phase two points the migrated routes away from.

A dependency sharing a migrated route's Session gets an async twin (`get_current_user_async`),
and the route depends on the twin: FastAPI looks overrides up by the callable a route names, so a
test's `app.dependency_overrides[get_current_user] = ...` no longer reaches the route. Phase two
names each such override with the twin to override; where the tests override no session
dependency at all, the twin's real Session work would reach the application's database, and
`--apply` refuses as it does for the session dependency's own override.
"""

from __future__ import annotations

from test_phase2_rules import apply, dedent
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ME = """
def get_current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


@router.get("/me")
def me(db: session_dependency, user: User = Depends(get_current_user)):
    return {"user": user.name, "items": db.scalar(select(func.count(Item.id)))}
"""
# The session override at module level, the user's in a fixture importing what it overrides.
CONFTEST = """
import pytest

from db.engine import get_db_session
from main import app
from models import User


def override_get_db():
    yield None


app.dependency_overrides[get_db_session] = override_get_db


@pytest.fixture
def as_bob():
    from api.items import get_current_user

    app.dependency_overrides[get_current_user] = lambda: User(id=2, name="Bob")
"""
ESCAPED = """
from api.items import get_current_user, get_current_user_async

app.dependency_overrides[get_current_user] = lambda: User(id=2, name="Bob")
escaped = client.get("/me").json()["user"]
app.dependency_overrides[get_current_user_async] = app.dependency_overrides[get_current_user]
reached = client.get("/me").json()["user"]
print(json.dumps([escaped, reached]))
"""


def test_an_override_of_a_twinned_dependency_is_a_follow_up_naming_the_twin(cli, service):
    root = service({"tests/__init__.py": "", "tests/conftest.py": CONFTEST, SUBSYSTEM: routes(ME)})
    shown = cli("phase2", root, "--subsystem", SUBSYSTEM)
    assert "follow-up: tests/conftest.py:19: " in shown.stderr
    document = apply(cli, root, "--allow-override-gap")
    notes = [n for n in document["subsystem"]["follow_ups"] if "get_current_user]" in n]
    assert len(notes) == 1, document["subsystem"]["follow_ups"]
    (note,) = notes
    assert note.startswith(
        "tests/conftest.py:19: `app.dependency_overrides[get_current_user] = lambda: User(id=2, name=\"Bob\")`"
    ), note
    assert "(me) depend on its async twin `get_current_user_async` (api/items.py)" in note
    assert "app.dependency_overrides[get_current_user_async] = app.dependency_overrides[get_current_user]" in note
    # the session dependency is overridden: a follow-up, not a gap refusing the write
    assert note not in document["subsystem"]["override_follow_ups"]
    # What the note says, run: the old override misses the migrated route, the twin's reaches it.
    assert serve(root, "sqlite", ESCAPED) == ["Ann", "Bob"]


def test_a_twinned_dependency_overridden_where_no_session_dependency_is_refuses_apply(cli, service):
    conftest = dedent(CONFTEST).replace("app.dependency_overrides[get_db_session] = override_get_db\n", "")
    root = service({"tests/__init__.py": "", "tests/conftest.py": conftest, SUBSYSTEM: routes(ME)})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "tests/conftest.py:18: `app.dependency_overrides[get_current_user] = " in said
    assert "the tests override no session dependency, so the Session work of the real `get_current_user_async` " \
        "would reach the application's own database" in said
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_near_miss_no_follow_up_when_the_fixture_overrides_the_twin_too(cli, service):
    conftest = dedent(CONFTEST).replace(
        "    from api.items import get_current_user\n",
        "    from api.items import get_current_user, get_current_user_async\n",
    ) + "\n    app.dependency_overrides[get_current_user_async] = app.dependency_overrides[get_current_user]\n"
    root = service({"tests/__init__.py": "", "tests/conftest.py": conftest, SUBSYSTEM: routes(ME)})
    document = apply(cli, root, "--allow-override-gap")
    assert not [n for n in document["subsystem"]["follow_ups"] if "get_current_user]" in n]
    assert serve(root, "sqlite", "print(json.dumps(client.get('/me').json()['user']))") == "Ann"


def test_verify_names_the_twin_override_the_tests_ran_past_once_migrated(cli, service):
    # Written anyway (--allow-override-gap): the tests' stand-in for get_current_user no longer
    # reaches /me, whose get_current_user_async opened a Session on the application's database.
    from async_migrate.codemods.check import check
    from async_migrate.codemods.config import load
    from async_migrate.codemods.run import Options
    from async_migrate.codemods.verify.overrides import override_gaps

    conftest = dedent(CONFTEST).replace("app.dependency_overrides[get_db_session] = override_get_db\n", "")
    root = service({"tests/__init__.py": "", "tests/conftest.py": conftest, SUBSYSTEM: routes(ME)})
    assert apply(cli, root, "--allow-override-gap")["files_changed"]
    config = load(root)
    (gap,) = override_gaps(check(root, config, Options()).project, root)
    assert gap.startswith("tests/conftest.py:18: `app.dependency_overrides[get_current_user] = "), gap
    assert "depend on its async twin `get_current_user_async` (api/items.py)" in gap
    # overriding the twin too closes it
    (root / "tests/conftest.py").write_text(
        conftest.replace("import get_current_user\n", "import get_current_user, get_current_user_async\n")
        + "\n    app.dependency_overrides[get_current_user_async] = app.dependency_overrides[get_current_user]\n",
        encoding="utf-8",
    )
    assert override_gaps(check(root, config, Options()).project, root) == []
