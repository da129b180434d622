from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import shutil
import signal
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from async_migrate.cli.main import app

# Ctrl-C as a terminal sends it, whatever started the suite: a shell starting it in the background
# (`bash .ci/run &`, `nohup`) hands it SIGINT ignored, which Python then leaves ignored and every
# process it starts inherits, so the tests of Ctrl-C (tests/test_failures.py) would never see one.
# Set here, before pytest-xdist starts its workers: an exec resets a handled signal to its default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _sigint_handler_kept() -> Iterator[None]:
    """Each test starts with the SIGINT handler the one before it started with: a test whose command
    is interrupted mid-run (a simulated Ctrl-C) must not leave its guard behind for the next test in
    the same worker, whose own assertion that the handler was restored would then fail."""
    before = signal.getsignal(signal.SIGINT)
    yield
    if signal.getsignal(signal.SIGINT) is not before:
        signal.signal(signal.SIGINT, before)

# The tool's warm cache goes to a folder of the test session's own (one subfolder per
# application root), never into testdata/ or into the installed packages the corpus test
# reads. Tests of the cache itself choose where it goes.
# The run's first process makes it; pytest-xdist's workers inherit the variable (and exit
# without running atexit hooks, so a folder of their own would be left behind).
if "ASYNC_MIGRATE_CACHE_DIR" not in os.environ:
    _CACHE_DIR = tempfile.mkdtemp(prefix="async-migrate-test-cache-")
    atexit.register(shutil.rmtree, _CACHE_DIR, True)
    os.environ["ASYNC_MIGRATE_CACHE_DIR"] = _CACHE_DIR

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO / "testdata"
BOOKSHOP = TESTDATA / "bookshop"
TASKBOARD = TESTDATA / "taskboard"
GOLDEN = Path(__file__).resolve().parent / "golden"
_COPY_IGNORE = shutil.ignore_patterns(
    "__pycache__", ".pytest_cache", ".async_migrate_cache", "*.db", "storage", "storage-test"
)


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file under folder (caches and databases left out) by relative path: its sha-256."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(
            part in ("__pycache__", ".pytest_cache", ".async_migrate_cache") for part in relative.parts
        ):
            continue
        if path.suffix == ".db":
            continue
        found[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


# Set in the process a `single_thread` test is run again in (see pytest_pyfunc_call).
_ALONE = "ASYNC_MIGRATE_TEST_ALONE"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem) -> bool | None:  # type: ignore[no-untyped-def]
    """A `single_thread` test where another test of this worker left a thread running (an
    aiosqlite connection's worker, say) runs again in a fresh process: the code it tests
    refuses to fork beside another thread, and would then test nothing."""
    if pyfuncitem.get_closest_marker("single_thread") is None or os.environ.get(_ALONE):
        return None
    import subprocess
    import sys
    import threading

    if threading.active_count() == 1:
        return None
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", pyfuncitem.nodeid],
        cwd=REPO, env={**os.environ, _ALONE: "1"}, capture_output=True, text=True, check=False,
    )
    assert ran.returncode == 0, f"{pyfuncitem.nodeid} in a process of its own:\n{ran.stdout[-4000:]}{ran.stderr[-2000:]}"
    assert " passed" in ran.stdout and " skipped" not in ran.stdout, ran.stdout[-2000:]
    return True


def pytest_sessionstart(session) -> None:  # type: ignore[no-untyped-def]
    session.config._testdata_before = _fingerprint(TESTDATA)


def pytest_sessionfinish(session, exitstatus) -> None:  # type: ignore[no-untyped-def]
    """Tests work on copies: a run that changed testdata/ in place fails, naming the files."""
    import sample

    sample.drop_idle_databases()  # an xdist worker exits without running atexit hooks
    before = getattr(session.config, "_testdata_before", None)
    if before is None:
        return
    after = _fingerprint(TESTDATA)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        session.config.get_terminal_reporter().write_line(
            f"FAILED: the test run changed testdata/ in place: {', '.join(changed)}", red=True
        )
        session.exitstatus = 1


def regenerating() -> bool:
    """ASYNC_MIGRATE_REGEN asks the golden tests to rewrite their files; never under CI, where a
    regenerated golden would make the comparison pass whatever the output."""
    if not os.environ.get("ASYNC_MIGRATE_REGEN"):
        return False
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail("ASYNC_MIGRATE_REGEN is refused under CI (CI is set): goldens are regenerated by hand")
    return True


def check_golden(name: str, text: str) -> None:
    """text equals the reviewed golden file tests/golden/NAME (JSON compared as data)."""
    path = GOLDEN / name
    if regenerating():
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if name.endswith(".json"):
        assert json.loads(text) == json.loads(expected)
    else:
        assert text == expected


@pytest.fixture
def bookshop(tmp_path: Path) -> Path:
    """A fresh copy of the sample service: no test runs the tool on testdata/ itself."""
    return Path(shutil.copytree(BOOKSHOP, tmp_path / "bookshop", ignore=_COPY_IGNORE))


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: source} under root; str sources are dedented."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


# Typer builds the click command from the app's signatures on every `CliRunner.invoke` (about a
# tenth of a small test's time); the app does not change during a run, so build it once.
typer.testing._get_command = functools.cache(typer.main.get_command)  # type: ignore[attr-defined]


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str):  # type: ignore[no-untyped-def]
        return self.runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    def json(self, *args: str) -> dict:
        result = self(*args, "--format", "json")
        assert result.exit_code in (0, 1, 3), result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def project(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build a small target application: project({"api/x.py": "..."}) -> root."""

    def build(files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path / "app", files)

    return build


# The pieces most test applications share: a sync engine, a session dependency and its alias.
ENGINE = """
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./app.db")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
DEPENDENCIES = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session

session_dependency = Annotated[Session, Depends(get_db_session)]
"""

# One mapped class, `Item` (id, name), on a declarative `Base`: models.py of many.
ITEM_MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
"""


@pytest.fixture
def app_files() -> dict[str, str]:
    return {"db/__init__.py": "", "db/engine.py": ENGINE, "core/__init__.py": "", "core/dependencies.py": DEPENDENCIES}


# Phase two on each sample, subsystem by subsystem, once per session: tests/steps.py. The
# decisions are asserted in test_phase2_sample.py and test_phase2_objects.py, the API tests and
# `check` after every step in test_phase2_steps.py.
@pytest.fixture(scope="session")
def bookshop_steps(tmp_path_factory):  # type: ignore[no-untyped-def]
    from steps import BOOKSHOP_STEPS, phase2_steps

    target = tmp_path_factory.mktemp("steps") / "bookshop"
    return phase2_steps(Cli(), BOOKSHOP, target, BOOKSHOP_STEPS, "BOOKSHOP")


@pytest.fixture(scope="session")
def taskboard_steps(tmp_path_factory):  # type: ignore[no-untyped-def]
    from steps import TASKBOARD_STEPS, phase2_steps

    target = tmp_path_factory.mktemp("steps") / "taskboard"
    return phase2_steps(Cli(), TASKBOARD, target, TASKBOARD_STEPS, "TASKBOARD")


@pytest.fixture
def guard_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fresh copy of verify's pytest plugin (`codemods/verify/guard.py`), as verify loads it,
    hooked into Starlette and the test clients' transports for this test only."""
    import importlib.util

    import httpx
    from starlette.applications import Starlette
    from starlette.testclient import _TestClientTransport

    import async_migrate.codemods.verify.guard as guard_module

    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("guard_under_test", Path(guard_module.__file__))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    for owner in (Starlette, _TestClientTransport, httpx.ASGITransport):  # put back after the test
        for name in ("__call__", "__init__"):
            if name in vars(owner):
                monkeypatch.setattr(owner, name, vars(owner)[name])
    assert module._install_request_context()
    return module
