"""AM330 for a script, a worker or a command the pre-pass would not read: its text holds none of
`run.MARKERS` (no Session, no router, no `async def`) and nothing read imports it, so before,
`from app.services import purge_all` ... `purge_all()` was in no call graph and `check` passed it
while the rows were never written. `check` now reads the files the markers skip that name a
project coroutine function as a word, and a later run taking the last one from the cache gives
the same findings, an edit of such a file included."""

from __future__ import annotations

import json
from pathlib import Path

from async_migrate.codemods import cache as caching
from async_migrate.codemods.config import load
from rules.test_am330_unawaited_coroutine_outside_handlers import CRUD, DB, MAIN

SERVICES = """\
from app import crud
from app.db import AsyncSessionLocal


async def purge_all() -> int:
    async with AsyncSessionLocal() as db:
        return await crud.purge(db)
"""

FILES = {
    "app/__init__.py": "",
    "app/db.py": DB,
    "app/crud.py": CRUD,
    "app/main.py": MAIN,
    "app/services.py": SERVICES,
    "scripts/__init__.py": "",
    # no marker in any of these
    "scripts/nightly.py": "from app.services import purge_all\n\npurge_all()\n",
    "scripts/weekly.py": "from app import services\n\n\ndef run() -> None:\n    services.purge_all()\n",
    "scripts/ran.py": "import asyncio\n\nfrom app.services import purge_all\n\nasyncio.run(purge_all())\n",
    "scripts/notes.py": 'NAMES = ["purge_all_later"]  # a longer word: no caller\n',
}


def _last_run(root: Path) -> dict:
    folder = caching.Cache.open(root.resolve(), load(root.resolve())).folder
    assert folder is not None
    return json.loads((folder / "last-run.json").read_text())


def _found(document: dict) -> list[tuple[str, str, int]]:
    return [(f["file"], f["function"], f["line"]) for f in document["findings"] if f["code"] == "AM330"]


def test_a_script_holding_no_marker_calling_a_coroutine_function_is_am330(cli, project):
    root = project(FILES)
    document = cli.json("check", root)
    assert _found(document) == [("scripts/nightly.py", "<module>", 3), ("scripts/weekly.py", "run", 4)]
    assert "at line 3 (app.services.purge_all(...))" in document["findings"][0]["message"]
    # read because they name the function; a longer word is no name of it: left unread
    parsed = _last_run(root)["parsed"]
    assert {"scripts/nightly.py", "scripts/weekly.py", "scripts/ran.py"} <= set(parsed)
    assert "scripts/notes.py" not in parsed
    assert cli("check", root).exit_code == 1


def test_near_miss_a_script_running_the_coroutine_is_no_finding(cli, project):
    ran_only = {path: text for path, text in FILES.items() if path not in ("scripts/nightly.py", "scripts/weekly.py")}
    root = project(ran_only)
    assert _found(cli.json("check", root)) == []
    assert "scripts/ran.py" in _last_run(root)["parsed"]  # read, and found to run what it makes


def test_near_miss_a_script_calling_a_plain_function_is_no_finding(cli, project):
    root = project({**FILES, "app/services.py": "def purge_all() -> int:\n    return 0\n"})
    assert _found(cli.json("check", root)) == []


def test_warm_runs_give_the_cold_findings_and_an_edited_script_is_read_again(cli, project):
    root = project(FILES)
    cold = cli.json("check", root)
    assert cli.json("check", root) == cold == cli.json("check", root, "--no-cache")
    assert (_last_run(root)["parsed"], _last_run(root)["analysis"]) == ([], {"check": "reused"})

    # a file the last run skipped now calls it: read again, reported as a cold run reports it
    (root / "scripts" / "notes.py").write_text("from app.services import purge_all\n\npurge_all()\n")
    edited = cli.json("check", root)
    assert ("scripts/notes.py", "<module>", 3) in _found(edited)
    assert edited == cli.json("check", root, "--no-cache")
    assert cli.json("check", root) == edited and _last_run(root)["analysis"] == {"check": "reused"}

    # a caller now runs what it makes: the finding goes, warm as cold
    (root / "scripts" / "nightly.py").write_text(FILES["scripts/ran.py"])
    fixed = cli.json("check", root)
    assert ("scripts/nightly.py", "<module>", 3) not in _found(fixed)
    assert fixed == cli.json("check", root, "--no-cache")

    # the function is plain again: no script is a finding, and the skipped ones are skipped again
    (root / "app" / "services.py").write_text("def purge_all() -> int:\n    return 0\n")
    plain = cli.json("check", root)
    assert _found(plain) == [] and plain == cli.json("check", root, "--no-cache")
