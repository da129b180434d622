"""AM127 engine-work: an `async def` route doing synchronous engine work is converted by phase
one when it never awaits; one without engine (or Session) work is not."""

from __future__ import annotations

ROUTES = """
from sqlalchemy import text

from db.engine import engine


@router.get("/count")
async def count_books():
    with engine.connect() as conn:
        return {"n": conn.execute(text("select 1")).scalar()}


@router.get("/ping")
async def ping():
    return {"ok": True}
"""


def test_engine_work_in_an_async_route_is_reported_with_am127(app, reported):
    root = app(ROUTES)
    found = reported(root, "count_books", "phase1")
    assert found["action"] == "convert" and found["codes"] == ["AM127"], found
    assert "engine.connect()" in found["reasons"][0] and "line 15" in found["reasons"][0], found


def test_near_miss_a_route_without_engine_work_is_not(app, reported):
    found = reported(app(ROUTES), "ping", "phase1")
    assert found["action"] == "keep" and "AM127" not in found["codes"], found
