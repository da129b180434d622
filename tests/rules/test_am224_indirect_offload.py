"""AM224 indirect-offload: a Session helper run through run_in_executor or functools.partial blocks
the route in phase two; `run_in_threadpool(helper, session)` does not."""

from __future__ import annotations

import pytest

HELPER = """
import asyncio
import functools

import anyio

from fastapi.concurrency import run_in_threadpool


def save(session: Session):
    session.commit()
"""


@pytest.mark.parametrize(
    "call",
    [
        "await asyncio.get_running_loop().run_in_executor(None, save, session)",
        "await run_in_threadpool(functools.partial(save, session))",
        "await run_in_threadpool(lambda: save(session))",
        "await asyncio.to_thread(lambda: save(session))",
        # anyio's own keyword: what is left of the call after unwrapping would be `save(session, limiter=...)`
        "await anyio.to_thread.run_sync(save, session, limiter=None)",
    ],
)
def test_an_indirectly_offloaded_session_helper_blocks_the_route_with_am224(phase2, entry, call):
    document = phase2(
        HELPER
        + f"""

@router.post("/save")
async def save_route(session: session_dependency):
    {call}
"""
    )
    found = entry(document, "save_route")
    assert found["action"] == "blocked", found
    assert "AM224" in found["codes"], found
    if "lambda" in call:  # not AM211's "cannot stand": the lambda goes, the call is awaited in its place
        assert "inside a lambda handed to a thread" in found["reasons"][found["codes"].index("AM224")], found


def test_near_miss_run_in_threadpool_with_the_helper_itself_migrates(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.post("/save")
async def save_route(session: session_dependency):
    await run_in_threadpool(save, session)
"""
    )
    assert entry(document, "save_route")["action"] == "migrate"
