"""Start-up: `--help` and `--version` load none of the heavy libraries, and `check`, cold or
warm, never loads libcst (the analysis reads Python's `ast`). Timings live in the benchmark; these
tests only look at what got imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BOOKSHOP, write_tree

HEAVY = {"libcst", "rich", "git"}

PROBE = """
import json, sys
sys.argv = ["async-migrate", *json.loads(sys.argv[1])]
from async_migrate.cli.main import main
try:
    main()
except SystemExit:
    pass
print("\\nLOADED " + json.dumps(sorted(sys.modules)))
"""


def loaded(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))],
                          capture_output=True, text=True, timeout=120)
    line = done.stdout.rsplit("\nLOADED ", 1)[-1]
    return {name.split(".")[0] for name in json.loads(line)}


def loaded_modules(*args: str) -> set[str]:
    """Every module loaded, by its full name (`libcst.codemod`)."""
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))],
                          capture_output=True, text=True, timeout=120)
    return set(json.loads(done.stdout.rsplit("\nLOADED ", 1)[-1]))


def test_help_loads_no_heavy_library():
    # typer (0.2x) itself brings pydantic in to convert a command's parameters, not before.
    assert not loaded("--help") & (HEAVY | {"pydantic"})


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_help_load_none_of_the_analysis(args):
    # the project index and the facts it reads cost more than typer itself to import
    assert not loaded_modules(*args) & {"async_migrate.codemods.project", "async_migrate.codemods.facts"}


@pytest.mark.parametrize("command", ["scan", "phase1", "phase2", "check", "clean", "batch"])
def test_a_command_s_help_loads_no_heavy_library(command):
    assert not loaded(command, "--help") & HEAVY


def test_check_never_loads_libcst(tmp_path):
    import shutil

    root = Path(shutil.copytree(BOOKSHOP, tmp_path / "bookshop", ignore=shutil.ignore_patterns("__pycache__", "*.db")))
    assert "libcst" not in loaded("check", str(root))  # cold: every file read with Python's `ast`
    assert "libcst" not in loaded("check", str(root))  # warm: every file's facts from the cache


ANALYSIS = {
    "async_migrate.codemods.project",
    "async_migrate.codemods.check",
    "async_migrate.codemods.run",
    "async_migrate.codemods.astcollect",
}


def test_a_warm_check_loads_none_of_the_analysis(tmp_path):
    import shutil

    root = Path(shutil.copytree(BOOKSHOP, tmp_path / "bookshop", ignore=shutil.ignore_patterns("__pycache__", "*.db")))
    assert loaded_modules("check", str(root)) >= ANALYSIS  # cold: the project is read and judged
    # warm: the last run's findings are taken whole; importing the analysis to show them was
    # most of a small service's warm `check`
    assert not loaded_modules("check", str(root)) & ANALYSIS
    books = root / "api" / "books.py"
    books.write_text(books.read_text() + "\n\nasync def added(db):\n    db.commit()\n")
    assert loaded_modules("check", str(root)) >= ANALYSIS  # what a file defines changed: judged again


def test_scan_never_loads_libcst(tmp_path):
    import shutil

    root = Path(shutil.copytree(BOOKSHOP, tmp_path / "bookshop", ignore=shutil.ignore_patterns("__pycache__", "*.db")))
    # The phase-two preview plans what would move; it rewrites nothing.
    assert "libcst" not in loaded("scan", str(root))


CONVERT_ONLY = {
    "db.py": """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker

        engine = create_engine("sqlite://")
        make_session = sessionmaker(engine)


        def get_db():
            with make_session() as session:
                yield session
    """,
    "api.py": """
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session

        from db import get_db

        router = APIRouter()


        @router.get("/books")
        async def read_books(session: Session = Depends(get_db)):
            return session.execute("select 1").all()
    """,
}


def test_phase1_that_only_drops_async_loads_no_libcst(tmp_path):
    root = write_tree(tmp_path / "app", CONVERT_ONLY)
    # The route's `async` is dropped on the text: nothing to parse with libcst, no import to add.
    assert "libcst" not in loaded_modules("phase1", str(root))
    assert "libcst" not in loaded_modules("phase1", str(root))  # warm: the rewrite from the cache


def test_version_reads_the_installed_metadata_without_its_parser():
    from importlib.metadata import version

    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(["--version"])],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith(f"async-migrate {version('async-migrate')}\n")
    assert "importlib.metadata" not in loaded_modules("--version")  # it loads the email parser
