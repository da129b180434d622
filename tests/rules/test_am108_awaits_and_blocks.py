"""AM108 awaits-and-blocks: a handler that awaits and does synchronous Session work stays (mixed)."""

from __future__ import annotations

import pytest


@pytest.fixture
def mixed(app):  # type: ignore[no-untyped-def]
    return app(
        """
        async def notify(rows):
            return rows


        def save(session):
            session.commit()


        @router.post("")
        async def create(session: session_dependency):
            await notify([])
            save(session)
        """
    )


def test_a_route_awaiting_and_blocking_keeps_with_am108_then_am116(mixed, reported):
    entry = reported(mixed, "create", "phase1")
    assert entry["action"] == "keep"
    assert entry["codes"] == ["AM108", "AM116"]
    assert entry["reasons"][0].startswith("mixed: awaits at line ")


def test_with_offload_mixed_the_helper_call_is_am115_instead_of_still_blocking(mixed, reported):
    entry = reported(mixed, "create", "phase1", "--offload-mixed")
    assert entry["codes"] == ["AM108", "AM115"]


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
