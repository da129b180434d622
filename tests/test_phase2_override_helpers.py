"""Tests overriding the session dependency through a helper of their own: `install_overrides(app,
{get_db_session: override})` calling `def install_overrides(application, mapping): for dep, repl
in mapping.items(): application.dependency_overrides[dep] = repl`. Phase two read the key
`dep`, a loop variable, as nothing it knew, wrote the migrated routes onto the async dependency
and exited 0: the tests then ran them against the application's own database (found by a new-user
trial). Now the key is read where the mapping is written, at each call of the helper (helpers in
another module, helpers calling helpers, `.update(mapping)`, `|= mapping`, `= mapping`, a key
parameter, a loop over a dict display or a tuple), and the override stands at that call: `--apply`
refuses (exit 2) naming it, as for `app.dependency_overrides[get_db_session] = ...`. A key phase
two cannot read there is said to be unverified, with the place. The near miss overriding the
async dependency as well is no gap, and its override RUNS for the migrated route on SQLite,
PostgreSQL and MariaDB.
"""

from __future__ import annotations

from textwrap import dedent

import pytest
from phase2_kit import KINDS
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""
# The tests' sessions: each adds a row saying the override ran, on the request's Session.
SESSIONS = """
from db.engine import database_sessionmaker
from models import Item


def override_sync():
    with database_sessionmaker() as s:
        s.add(Item(name="override", owner_id=1))
        yield s


async def override_async():
    from db.engine import async_database_sessionmaker

    async with async_database_sessionmaker() as s:
        s.add(Item(name="override", owner_id=1))
        yield s


def other_dependency():
    return None
"""
# The tests' helpers, by name; tests/helpers.py holds those a conftest calls (one no call of
# which is seen writes what phase two cannot tell: unverified).
HELPERS = {
    "install_overrides": """
def install_overrides(application, mapping):
    for dep, repl in mapping.items():
        application.dependency_overrides[dep] = repl
""",
    "merge_overrides": """
def merge_overrides(application, mapping):
    application.dependency_overrides.update(mapping)
""",
    "or_overrides": """
def or_overrides(application, mapping):
    application.dependency_overrides |= mapping
""",
    "replace_overrides": """
def replace_overrides(application, mapping):
    application.dependency_overrides = mapping
""",
    "override_one": """
def override_one(application, dep, repl):
    application.dependency_overrides[dep] = repl
""",
    "install_through": """
def install_through(application, mapping):
    install_overrides(application, mapping)
""",
}
HEAD = """
import pytest

from db.engine import get_db_session
from main import app
from tests.helpers import *  # noqa: F403
from tests.sessions import other_dependency, override_async, override_sync
"""
# Each shape writes MAPPING (a dict display of the overrides) into the application's overrides.
SHAPES = {
    "helper-loop": "install_overrides(app, MAPPING)",
    "helper-update": "merge_overrides(app, MAPPING)",
    "helper-merge": "or_overrides(app, MAPPING)",
    "helper-assign": "replace_overrides(app, MAPPING)",
    "helper-chained": "install_through(app, MAPPING)",
    "fixture-yielding": "\n\n@pytest.fixture(autouse=True)\ndef _overridden():\n    install_overrides(app, MAPPING)\n"
    "    yield\n    app.dependency_overrides.clear()",
    "named-display": "OVERRIDES = MAPPING\ninstall_overrides(app, OVERRIDES)",
    "module-loop": "for _dep, _repl in MAPPING.items():\n    app.dependency_overrides[_dep] = _repl",
    "key-parameter": "for _dep, _repl in MAPPING.items():\n    override_one(app, _dep, _repl)",
}
SYNC_ONLY = "{get_db_session: override_sync}"
BOTH = "{get_db_session: override_sync, get_async_db_session: override_async}"


def conftest(shape: str, mapping: str) -> str:
    head = dedent(HEAD)
    if "get_async_db_session" in mapping:
        head = head.replace("import get_db_session", "import get_async_db_session, get_db_session")
    return head + "\n" + SHAPES[shape].replace("MAPPING", mapping) + "\n"


def overridden(service, text: str):  # type: ignore[no-untyped-def]
    called = [name for name in HELPERS if f"{name}(" in text]
    if "install_through(" in text:
        called.append("install_overrides")
    helpers = "\n\n\n".join(dedent(HELPERS[name]).strip() for name in dict.fromkeys(called)) + "\n"
    imported = f"from tests.helpers import {', '.join(n for n in called if f'{n}(' in text)}\n" if called else ""
    return service({
        "tests/__init__.py": "", "tests/helpers.py": helpers, "tests/sessions.py": dedent(SESSIONS),
        "tests/conftest.py": text.replace("from tests.helpers import *  # noqa: F403\n", imported),
        SUBSYSTEM: routes(ROUTE),
    })


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_an_override_through_a_helper_or_a_loop_refuses_apply_naming_where_it_is_made(cli, service, shape):
    root = overridden(service, conftest(shape, SYNC_ONLY))
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "tests/conftest.py:" in said and "overrides the synchronous `get_db_session`" in said, said
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_near_miss_the_same_helper_overriding_the_async_dependency_too_leaves_no_gap(cli, service, shape):
    root = overridden(service, conftest(shape, BOTH))
    document = run(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert document["subsystem"]["override_follow_ups"] == []


def test_the_refusal_names_the_call_of_the_helper_as_the_trial_wrote_it(cli, service):
    root = overridden(service, conftest("fixture-yielding", SYNC_ONLY))
    document = apply(cli, root, "--allow-override-gap")
    (note,) = document["subsystem"]["override_follow_ups"]
    line = at(root, "install_overrides(app, {get_db_session: override_sync})")
    assert note.startswith(f"tests/conftest.py:{line}: `install_overrides(app, {{get_db_session: override_sync}})` "
                           "overrides the synchronous `get_db_session`"), note


# Writes whose key phase two cannot read: unverified, with the place.
UNREAD = {
    "mapping-from-a-call": (
        "install_overrides(app, dict(zip([get_db_session], [override_sync])))",
        "install_overrides(app, dict(zip([get_db_session], [override_sync])))",
    ),
    "key-from-a-call": (
        "def _pick():\n    return get_db_session\n\n\napp.dependency_overrides[_pick()] = override_sync",
        "app.dependency_overrides[_pick()] = override_sync",
    ),
    "helper-never-called": (
        "def _install(mapping):\n    app.dependency_overrides.update(mapping)", "app.dependency_overrides.update(mapping)",
    ),
}


def at(root, written: str) -> int:  # type: ignore[no-untyped-def]
    """The line of tests/conftest.py holding `written`."""
    lines = (root / "tests" / "conftest.py").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if written in line)


@pytest.mark.parametrize("shape", sorted(UNREAD))
def test_a_key_phase_two_cannot_read_refuses_apply_as_unverified(cli, service, shape):
    written, shown = UNREAD[shape]
    root = overridden(service, dedent(HEAD) + "\n" + written + "\n")
    where = f"tests/conftest.py:{at(root, shown)}: `{shown}`"
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert where in said and "so whether it overrides the synchronous session dependency is unverified" in said, said


@pytest.mark.parametrize("written", [
    # a helper overriding another dependency only
    "install_overrides(app, {other_dependency: override_sync})",
    # the mapping cleared, and a copy of it put back
    "saved = dict(app.dependency_overrides)\napp.dependency_overrides = {}\napp.dependency_overrides = saved",
])
def test_near_miss_overrides_of_other_dependencies_or_restores_are_no_gap(cli, service, written):
    root = overridden(service, dedent(HEAD) + "\n" + written + "\n")
    document = run(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert document["subsystem"]["override_follow_ups"] == []


OVERRIDDEN_WRITES = """
import tests.conftest  # noqa: F401  (installs the overrides, as pytest would)

answer = client.post("/items", params={"name": "pen"})
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
print(json.dumps([answer.status_code, names]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_the_helpers_async_override_runs_for_the_migrated_route(cli, service, kind):
    root = overridden(service, conftest("helper-loop", BOTH))
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "async def create_item" in read(root, SUBSYSTEM)
    # the override's row is written with the route's: the migrated route runs the tests' session
    assert serve(root, kind, OVERRIDDEN_WRITES) == [200, ["override", "pen"]]
