"""AM224 indirect-offload: a Session helper run in a worker thread in a shape phase two cannot write
as `await save(session)` blocks the route; the shapes it can write migrate."""

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


def _route(call: str) -> str:
    return HELPER + f"""

@router.post("/save")
async def save_route(session: session_dependency):
    {call}
"""


@pytest.mark.parametrize(
    ("call", "why"),
    [
        # the nested function would need `await`, which phase two does not write there
        ("def run():\n        save(session)\n\n    await run_in_threadpool(run)", "inside `run`, a function defined in"),
        ("await run_in_threadpool(lambda: save(session) or None)", "inside a lambda handed to `run_in_threadpool()` that does more"),
        # the lambda takes the Session as its parameter: no function to call in its place
        ("await run_in_threadpool(lambda s: save(s), session)", "with a function the analysis cannot name"),
        ("fut = asyncio.get_running_loop().run_in_executor(None, save, session)\n    await fut", "not awaited in place"),
        # anyio's own keyword: what is left of the call after unwrapping would be `save(session, limiter=...)`
        ("await anyio.to_thread.run_sync(save, session, limiter=None)", "given keywords of its own"),
    ],
)
def test_a_session_helper_in_a_thread_phase_two_cannot_unwrap_blocks_the_route_with_am224(phase2, entry, call, why):
    found = entry(phase2(_route(call)), "save_route")
    assert found["action"] == "blocked", found
    assert "AM224" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM224")]
    assert why in reason, reason
    if "cannot name" not in why:
        assert "calls `api.items.save()`, which moves to AsyncSession," in reason, reason


@pytest.mark.parametrize(
    "call",
    [
        "await run_in_threadpool(save, session)",
        "await asyncio.get_running_loop().run_in_executor(None, save, session)",
        "await run_in_threadpool(functools.partial(save, session))",
        "await run_in_threadpool(lambda: save(session))",
        "await asyncio.to_thread(lambda: save(session))",
        "await anyio.to_thread.run_sync(save, session)",
    ],
)
def test_near_miss_a_thread_phase_two_drops_migrates_with_the_call_awaited(phase2, entry, call):
    document = phase2(_route(call))
    assert entry(document, "save_route")["action"] == "migrate", entry(document, "save_route")
