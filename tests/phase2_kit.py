"""What the phase-two tests that run a migrated application share: the databases each runs
on, and running a script against the application on one of them, reading the JSON document
its last line prints."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sample import database, run_json, sqlite_file

# SQLite (aiosqlite after phase two), PostgreSQL and MariaDB: a test parametrized over these
# runs the migrated code on each (the last two skip, or fail in CI, when their server is down).
KINDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


def run_app(
    root: Path, kind: str, script: str, prefix: str = "bookshop", *, pytest_env: bool = False,
    extra_env: dict[str, str] | None = None, **options: Any,
) -> Any:
    """The JSON document the last line of `script`'s output holds, run in root on a scratch
    database of `kind` (`DATABASE_URL`; SQLite: `sample.sqlite_file(root)`). The environment is this process's
    without pytest's own variables (with them: `pytest_env`), plus `extra_env`; `options` go to
    `run_python` (timeout, warnings). A failing run fails the test with its output."""
    with database(kind, prefix) as url:
        inherited = os.environ if pytest_env else {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env = {
            **inherited, "PYTHONPATH": str(root), "DATABASE_URL": url or f"sqlite:///{sqlite_file(root)}",
            **(extra_env or {}),
        }
        return run_json(script, cwd=root, env=env, **options)
