"""AM332 through a helper that picks the thread-local `scoped_session` or a plain sessionmaker by a
parameter (Airflow's `create_session(scoped=True)`): a call handing the parameter a constant that
rules the registry's branch out uses no registry there; any other call still does."""

from __future__ import annotations

import pytest

SCOPED = """
from contextlib import contextmanager

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker)


@contextmanager
def create_session(scoped: bool = True, mode: str = "plain"):
    {pick}
    session = Session()
    yield session
    # closed after a commit only: an exception leaves the registry's Session open
    session.commit()
    session.close()
"""

IF_SCOPED = """if scoped:
        Session = ScopedSession
    else:
        Session = database_sessionmaker"""

ROUTES = """
from sqlalchemy import text

from db.scoped import create_session


@router.get("/count")
def read_count(flag: bool = False):
    {body}
"""


def _root(app, body: str, pick: str = IF_SCOPED):  # type: ignore[no-untyped-def]
    return app(ROUTES.replace("{body}", body), {"db/scoped.py": SCOPED.replace("{pick}", pick)})


def _with(call: str) -> str:
    return f'with {call} as s:\n        return s.execute(text("select 1")).scalar()'


def _am332(findings, root) -> list[dict]:  # type: ignore[no-untyped-def]
    return [f for f in findings(root, "read_count") if f["code"] == "AM332"]


@pytest.mark.parametrize(
    "call",
    ["create_session()", "create_session(scoped=True)", "create_session(True)", "create_session(scoped=flag)"],
    ids=["default-true", "true", "true-by-position", "unknown"],
)
def test_a_call_that_may_take_the_registry_branch_is_reported(app, findings, call):
    [finding] = _am332(findings, _root(app, _with(call)))
    assert "a `scoped_session` whose scope is the thread (db/scoped.py:" in finding["message"], finding


@pytest.mark.parametrize(
    ("call", "pick"),
    [
        ("create_session(scoped=False)", IF_SCOPED),
        ("create_session(False)", IF_SCOPED),
        (
            "create_session(scoped=False)",
            "if not scoped:\n        Session = database_sessionmaker\n    else:\n        Session = ScopedSession",
        ),
        (
            "create_session(scoped=None)",
            "if scoped is None:\n        Session = database_sessionmaker\n    else:\n        Session = ScopedSession",
        ),
        (
            'create_session(mode="plain")',
            'if mode == "scoped":\n        Session = ScopedSession\n    elif mode == "plain":\n'
            "        Session = database_sessionmaker\n    else:\n        Session = ScopedSession",
        ),
        (
            "create_session()",
            'if mode != "plain":\n        Session = ScopedSession\n    else:\n        Session = database_sessionmaker',
        ),
    ],
    ids=["false", "false-by-position", "not", "is-none", "equals-elif", "default-string"],
)
def test_near_miss_a_constant_ruling_the_registry_branch_out_is_not_am332(app, findings, call, pick):
    assert _am332(findings, _root(app, _with(call), pick)) == []


def test_a_rebound_parameter_decides_nothing(app, findings):
    pick = "scoped = scoped or bool(mode)\n    " + IF_SCOPED
    assert _am332(findings, _root(app, _with("create_session(scoped=False)"), pick))


def test_calls_handing_different_constants_in_the_same_work_keep_both_branches(app, findings):
    body = _with("create_session(scoped=False)").replace("return ", "") + "\n    " + _with("create_session()")
    assert _am332(findings, _root(app, body))


def test_a_project_decorator_may_hand_other_arguments(app, findings):
    # `@provide_session` and the like fill parameters the caller left out: what the call wrote
    # decides nothing
    pick = IF_SCOPED
    source = SCOPED.replace("{pick}", pick).replace(
        "@contextmanager\n", "def passthrough(fn):\n    return fn\n\n\n@contextmanager\n@passthrough\n"
    )
    root = app(ROUTES.replace("{body}", _with("create_session(scoped=False)")), {"db/scoped.py": source})
    assert _am332(findings, root)


HELPER = """
from sqlalchemy import text

from db.scoped import ScopedSession


def count(scoped: bool = False):
    if scoped:
        return ScopedSession.execute(text("select 1")).scalar()
    return 0


@router.get("/count")
def read_count():
    return count({given})
"""


@pytest.mark.parametrize(("given", "reported"), [("", False), ("scoped=False", False), ("scoped=True", True)])
def test_a_use_in_a_branch_the_call_rules_out(app, findings, given, reported):
    registry = SCOPED.replace("{pick}", IF_SCOPED)
    root = app(HELPER.replace("{given}", given), {"db/scoped.py": registry})
    assert bool(_am332(findings, root)) is reported


CALLER = """
from sqlalchemy import text

from db.scoped import ScopedSession


def count():
    return ScopedSession.execute(text("select 1")).scalar()


def work(scoped: bool = False):
    if scoped:
        return count()
    return 0


@router.get("/count")
def read_count():
    return work({given})
"""


@pytest.mark.parametrize(("given", "reported"), [("", False), ("scoped=True", True)])
def test_a_function_called_only_from_a_branch_the_call_rules_out(app, findings, given, reported):
    # `count` runs only where `work` is handed `scoped=True`: not at all from this route
    registry = SCOPED.replace("{pick}", IF_SCOPED)
    root = app(CALLER.replace("{given}", given), {"db/scoped.py": registry})
    assert bool(_am332(findings, root)) is reported
