"""`--offload-mixed` leaves a helper call passing a keyword `func` where it is: run_in_threadpool
takes the function it runs as its own parameter `func`, so `run_in_threadpool(apply, db,
func="lower")` raised TypeError and the route answered 500. Run, the kept service still answers;
a call without such a keyword is offloaded as before."""

from __future__ import annotations

import json
import textwrap

from sample import run_python

MAIN = """
import asyncio

from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite:///./x.db", connect_args={"check_same_thread": False})
app = FastAPI()


def apply(db: Session, func: str = "upper", value: str = "x") -> str:
    db.execute(text("select 1"))
    return getattr(value, func)()


@app.get("/keyword")
async def keyword():
    await asyncio.sleep(0)
    with Session(engine) as db:
        return apply(db, func="lower", value="ABC")


@app.get("/unpacked")
async def unpacked(options: str = "lower"):
    await asyncio.sleep(0)
    with Session(engine) as db:
        return apply(db, **json.loads('{"func": "%s"}' % options), value="DEF")


@app.get("/other")
async def other():
    await asyncio.sleep(0)
    with Session(engine) as db:
        return apply(db, value="ghi")
"""
LOAD = """
import json

from fastapi.testclient import TestClient

from main import app

client = TestClient(app, raise_server_exceptions=False)
print(json.dumps({p: [r.status_code, r.json() if r.status_code == 200 else None]
                  for p in ("/keyword", "/unpacked", "/other") for r in [client.get(p)]}))
"""


def test_a_call_passing_func_is_not_offloaded_and_the_service_still_answers(cli, tmp_path):
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.py").write_text("import json\n" + textwrap.dedent(MAIN).lstrip(), encoding="utf-8")
    document = cli.json("phase1", root, "--apply", "--allow-dirty", "--offload-mixed")
    entries = {h["function"]: h for h in document["handlers"]}
    for name, clash in (("keyword", "the keyword `func=`"), ("unpacked", "a `**` mapping")):
        entry = entries[name]
        assert "AM115" not in entry["codes"], entry
        assert any(f"passes {clash}" in r and "'func'" in r for r in entry["reasons"]), entry
    # near miss: no keyword of that name, offloaded as before
    assert "AM115" in entries["other"]["codes"], entries["other"]
    written = (root / "main.py").read_text()
    assert "await run_in_threadpool(apply, db, value=\"ghi\")" in written, written
    assert "run_in_threadpool(apply, db, func" not in written, written
    result = run_python(textwrap.dedent(LOAD), cwd=root, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "/keyword": [200, "abc"], "/unpacked": [200, "def"], "/other": [200, "GHI"],
    }
