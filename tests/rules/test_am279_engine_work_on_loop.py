"""AM279 engine-work-on-loop: a `def` route taking a synchronous engine's connection (itself or in
a helper) stays `def` in phase two, so its output passes `check`; an `async def` route, which
blocks the loop already, is not held back for it."""

from __future__ import annotations

from pathlib import Path

from test_phase2_rules import apply

ROUTER = """
from sqlalchemy import text

from db.engine import engine


def log_count(n: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("select :n"), {{"n": n}})


@router.get("/count")
{prefix}def count(db: session_dependency):
    n = db.scalar(select(func.count(Book.id)))
    {log}
    return {{"n": n}}
"""


def test_engine_work_in_a_helper_blocks_a_def_route_and_check_stays_clean(phase2, entry, cli):
    document = phase2(ROUTER.format(prefix="", log="log_count(n)"))
    found = entry(document, "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM279"], found
    assert "does synchronous engine work at line " in found["reasons"][0]
    assert "api.items.log_count(...)" in found["reasons"][0], found
    root = document["root"]
    apply(cli, Path(root), subsystem="api/items.py")
    assert not [f for f in cli.json("check", root)["findings"] if f["function"] == "count"]


def test_engine_work_in_the_route_itself_blocks_it(phase2, entry):
    log = 'with engine.connect() as conn:\n        conn.execute(text("select 1"))'
    found = entry(phase2(ROUTER.format(prefix="", log=log)), "count")
    assert found["codes"] == ["AM279"], found
    assert "(`engine.connect()`)" in found["reasons"][0], found


def test_near_miss_a_def_route_calling_no_engine_work_migrates(phase2, entry):
    assert entry(phase2(ROUTER.format(prefix="", log="")), "count")["action"] == "migrate"


def test_near_miss_an_async_route_already_blocking_is_not_blocked_for_it_but_is_not_all_clear(phase2, entry):
    found = entry(phase2(ROUTER.format(prefix="async ", log="log_count(n)")), "count")
    assert found["action"] == "migrate", found
    assert found["reasons"][0].startswith("moves to AsyncSession: awaits its Session calls; its synchronous engine "
                                          "work at line "), found
    assert found["reasons"][0].endswith("still blocks the event loop (check: AM306)"), found
