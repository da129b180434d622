"""A warm run after one file is edited reads that file again and nothing else, and keeps the
cross-module analysis wherever the edit leaves the facts as they were.

Each run is a process of its own, with its own string hash seed and its own pool workers, as
on a developer's machine: facts whose pickled form or identity depends on the process (a set's
order, an object's id) pass every test running the tool in one process, and make every warm run
after an edit redo the whole analysis. Counted from the cache's own record of the run
(`last-run.json`), never timed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BOOKSHOP

from async_migrate.codemods import cache as caching
from async_migrate.codemods.config import load

ROUTER = "api/books.py"
HELPER = "services/book_helper.py"


@pytest.fixture(autouse=True)
def cache_in_the_root(monkeypatch):  # type: ignore[no-untyped-def]
    """The cache where users have it (PATH/.async_migrate_cache), in these processes and the runs'."""
    monkeypatch.delenv(caching.ENV_DIR, raising=False)
    monkeypatch.delenv(caching.ENV_OFF, raising=False)


def run(root: Path, command: str, seed: int) -> dict:
    environment = {**os.environ, "PYTHONHASHSEED": str(seed)}
    done = subprocess.run(
        [sys.executable, "-c", "from async_migrate.cli.main import main; main()",
         command, str(root), "--format", "json", "-j", "2"],
        capture_output=True, text=True, env=environment, timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def last_run(root: Path) -> dict:
    folder = caching.Cache.open(root.resolve(), load(root.resolve())).folder
    assert folder is not None
    return json.loads((folder / "last-run.json").read_text())


def append(root: Path, path: str, text: str) -> None:
    (root / path).write_text((root / path).read_text(encoding="utf-8") + text, encoding="utf-8")


@pytest.mark.parametrize("command", ["check", "scan"])
def test_one_edited_file_is_read_again_and_the_analysis_kept_where_its_facts_stay(tmp_path, command):
    root = Path(shutil.copytree(BOOKSHOP, tmp_path / "bookshop", ignore=shutil.ignore_patterns(
        "__pycache__", "*.db", caching.FOLDER)))
    assert (root / HELPER).is_file()
    cold = run(root, command, seed=1)
    filled = last_run(root)["parsed"]
    assert ROUTER in filled and HELPER in filled, filled
    # enough files for two pool workers (`workers.Pool`): their facts cross a pipe pickled
    assert len(list(root.rglob("*.py"))) >= 2 * 24

    # A comment, in another process: that file parsed again, its facts as before, the rest kept.
    append(root, ROUTER, "# a note\n")
    assert run(root, command, seed=2) == cold
    record = last_run(root)
    assert (record["parsed"], record["reused"], record["analysis"]) == ([ROUTER], len(filled) - 1, {command: "reused"})

    # An edit the facts see: still only that file parsed, every module's facts then from the cache
    # (the edited one's as just stored); the analysis is made again, and kept across a comment.
    append(root, HELPER, "\n\ndef count_books():\n    return 0\n")
    edited = run(root, command, seed=3)
    record = last_run(root)
    assert (record["parsed"], record["reused"], record["analysis"]) == ([HELPER], len(filled), {command: "computed"})
    append(root, HELPER, "# another note\n")
    assert run(root, command, seed=4) == edited
    record = last_run(root)
    assert (record["parsed"], record["reused"], record["analysis"]) == ([HELPER], len(filled) - 1, {command: "reused"})
