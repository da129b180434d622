"""AM330 in a script's own statements, outside any function: a coroutine kept in a global name
that nothing reads, or only what never runs it (`pending = crud.purge(db)` then
`print(pending)`), or handed straight to such a builtin (`print(crud.purge(db))`), was no finding
while the same in a function was. A global another module may read (it imports the name or the
module, the module's own functions read it, `__all__` names it) is kept apart, and a file that
names the global is read even when it holds no marker: it may be the one running it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from async_migrate.codemods import cache as caching
from async_migrate.codemods.config import load
from rules.test_am330_unawaited_coroutine_outside_handlers import CRUD, DB, MAIN

BASE = {"app/__init__.py": "", "app/db.py": DB, "app/crud.py": CRUD, "app/main.py": MAIN, "scripts/__init__.py": ""}

HEAD = "import asyncio\n\nfrom app import crud\nfrom app.db import SessionLocal\n\ndb = SessionLocal()\n"

LOST = HEAD + """\
pending = crud.purge(db)
print(pending)
print(crud.purge(db))
left = crud.purge(db)
"""

# Each a script of its own: the coroutine is run, or the global is read where it may be run.
NEAR = {
    "ran": HEAD + "pending = crud.purge(db)\nasyncio.run(pending)\n",
    "read_by_function": HEAD + "pending = crud.purge(db)\n\n\ndef later():\n    return pending\n",
    "exported": HEAD + '__all__ = ["pending"]\npending = crud.purge(db)\n',
    "by_globals": HEAD + 'pending = crud.purge(db)\nasyncio.run(globals()["pending"])\n',
    "shadowed": HEAD + "def print(value):\n    asyncio.run(value)\n\n\nprint(crud.purge(db))\n",
    # read by another module, which holds no marker: read because it names the global
    "holder": HEAD + "pending = crud.purge(db)\n",
}
USER = "import asyncio\n\nfrom scripts.holder import pending\n\nasyncio.run(pending)\n"


def _found(document: dict) -> dict[str, list[int]]:
    return {f["file"]: [b["line"] for b in f["blocking"]] for f in document["findings"] if f["code"] == "AM330"}


def _last_run(root: Path) -> dict:
    folder = caching.Cache.open(root.resolve(), load(root.resolve())).folder
    assert folder is not None
    return json.loads((folder / "last-run.json").read_text())


def test_a_global_nothing_runs_and_a_builtin_handed_the_call_are_am330(cli, project):
    document = cli.json("check", project({**BASE, "scripts/seed.py": LOST}))
    assert _found(document) == {"scripts/seed.py": [7, 9, 10]}
    message = document["findings"][0]["message"]
    assert "app.crud.purge(...) kept in the global pending, read only by what never runs it: print(pending) at line 8" in message
    assert "line 10 (app.crud.purge(...) kept in the global left, which nothing reads)" in message
    assert "line 9 (app.crud.purge(...))" in message


@pytest.mark.parametrize("name", sorted(NEAR))
def test_near_miss_a_global_that_may_be_run_is_no_finding(cli, project, name):
    files = {**BASE, f"scripts/{name}.py": NEAR[name], "scripts/user.py": USER}
    assert _found(cli.json("check", project(files))) == {}


def test_warm_runs_agree_and_a_reader_dropping_the_global_makes_it_a_finding(cli, project):
    root = project({**BASE, "scripts/holder.py": NEAR["holder"], "scripts/user.py": USER, "scripts/seed.py": LOST})
    cold = cli.json("check", root)
    assert _found(cold) == {"scripts/seed.py": [7, 9, 10]}
    assert cli.json("check", root) == cold == cli.json("check", root, "--no-cache")
    assert _last_run(root)["analysis"] == {"check": "reused"}
    (root / "scripts" / "user.py").write_text("import asyncio\n\nasyncio.run(asyncio.sleep(0))\n")
    edited = cli.json("check", root)
    assert _found(edited) == {"scripts/holder.py": [7], "scripts/seed.py": [7, 9, 10]}
    assert edited == cli.json("check", root, "--no-cache")
