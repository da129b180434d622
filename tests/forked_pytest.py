"""Run pytest in several folders at once, one forked process per folder, after importing the
libraries they share once: run as a script by `sample.run_service_tests_together`.

Standard input is a JSON list of runs, each {"cwd", "env", "args", "stdout", "stderr"}; each
run's output goes to its two files, and standard output gets the JSON list of exit codes. A
sample service's suite spends about a second importing SQLAlchemy, FastAPI, pydantic, the
database drivers and pytest itself: forked from one process that did, every run skips that.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable

# Imported before forking; a name that is not installed is skipped (its runs import it again
# or fail as they would have).
SHARED = (
    "pytest",
    "_pytest.assertion.rewrite",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "sqlalchemy.dialects.mysql.pymysql",
    "sqlalchemy.dialects.mysql.aiomysql",
    "pydantic",
    "fastapi",
    "fastapi.testclient",
    "starlette.testclient",
    "httpx",
    "anyio",
    "aiosqlite",
    "psycopg",
    "pymysql",
    "aiomysql",
)
TIMEOUT = 600  # seconds one run may take: past it, it is killed (SIGALRM) and fails


def child(run: dict) -> int:
    for fd, path in ((1, run["stdout"]), (2, run["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    signal.alarm(TIMEOUT)
    os.chdir(run["cwd"])
    os.environ.clear()
    os.environ.update(run["env"])
    sys.path[0] = run["cwd"]  # as `python -m pytest` run there puts it first
    # A plugin imported before forking (anyio, which FastAPI imports) cannot have its asserts
    # rewritten: pytest warns about it, which says nothing about the suite.
    args = ["-W", "ignore::pytest.PytestAssertRewriteWarning", *run["args"]]
    sys.argv = ["pytest", *args]
    import pytest

    return int(pytest.main(args))


def import_shared() -> None:
    """Import `SHARED`, skipping what is not installed."""
    for name in SHARED:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def fork(work: Callable[[dict], int], run: dict) -> int:
    """The pid of a child that does `work(run)` and exits with what it returns (70 when it
    raises, the traceback on its standard error)."""
    sys.stdout.flush()  # what sits in the buffers would be written by both processes
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            code = work(run)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def main() -> None:
    runs = json.load(sys.stdin)
    import_shared()
    children = [fork(child, run) for run in runs]
    codes = []
    for pid in children:
        _, status = os.waitpid(pid, 0)
        codes.append(os.waitstatus_to_exitcode(status))
    json.dump(codes, sys.stdout)


if __name__ == "__main__":
    main()
