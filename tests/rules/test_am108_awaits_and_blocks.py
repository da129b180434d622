"""AM108 awaits-and-blocks: a handler that awaits and does synchronous Session work stays (mixed)."""

from __future__ import annotations

import pytest

# Shared with AM115 and AM116, which say what becomes of the blocking call.
MIXED = """
async def notify(rows):
    return rows


def save(session):
    session.commit()


@router.post("")
async def create(session: session_dependency):
    await notify([])
    {call}
"""


@pytest.fixture
def mixed(app):  # type: ignore[no-untyped-def]
    return app(MIXED.replace("{call}", "save(session)"))


def test_a_route_awaiting_and_blocking_keeps_with_am108(mixed, reported):
    entry = reported(mixed, "create", "phase1")
    assert entry["action"] == "keep"
    assert entry["codes"][0] == "AM108"
    assert entry["reasons"][0].startswith("mixed: awaits at line ")


def test_near_miss_a_route_that_awaits_without_session_work_is_am105(app, reported):
    root = app(
        """
        async def notify(rows):
            return rows


        @router.post("")
        async def create():
            await notify([])
        """
    )
    assert reported(root, "create", "phase1")["codes"] == ["AM105"]
