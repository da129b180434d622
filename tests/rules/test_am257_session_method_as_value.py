"""AM257 session-method-as-value: a Session method handed on uncalled (to a thread, a background
task, `map`) blocks the route in phase two; calling it directly does not."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "call",
    [
        "result = await run_in_threadpool(session.execute, select(func.count(Book.id)))",
        "tasks.add_task(session.commit)",
        "list(map(session.merge, []))",
    ],
)
def test_a_session_method_handed_on_as_a_value_blocks_the_route_with_am257(phase2, entry, call):
    document = phase2(
        f"""
        from fastapi import BackgroundTasks
        from fastapi.concurrency import run_in_threadpool


        @router.post("/count")
        async def count(session: session_dependency, tasks: BackgroundTasks):
            {call}
            return session.scalar(select(func.count(Book.id)))
        """
    )
    found = entry(document, "count")
    assert found["action"] == "blocked", found
    assert "AM257" in found["codes"], found
    assert document["diff"] == "" or "async def count(session: AsyncSession" not in document["diff"]


def test_near_miss_the_method_called_directly_migrates(phase2, entry):
    document = phase2(
        """
        @router.post("/count")
        async def count(session: session_dependency):
            session.commit()
            return session.scalar(select(func.count(Book.id)))
        """
    )
    found = entry(document, "count")
    assert (found["action"], "AM257" in found["codes"]) == ("migrate", False), found


@pytest.mark.parametrize(
    "kept",
    [
        "run = session.scalar\n    return run(select(func.count(Book.id)))",
        "ops = {'count': session.scalar}\n    return ops['count'](select(func.count(Book.id)))",
        "return (lambda: session.scalar)()(select(func.count(Book.id)))",
    ],
    ids=["alias", "display", "lambda"],
)
def test_a_session_method_kept_as_a_value_blocks_the_route_with_am257(phase2, entry, kept):
    # Called later through the name it is kept under, with no `await`: the route returned a
    # coroutine (or failed on it) once migrated, while phase two reported it migrated.
    document = phase2(f"""
@router.get("/count")
async def count(session: session_dependency):
    {kept}
""")
    found = entry(document, "count")
    assert (found["action"], found["codes"]) == ("blocked", ["AM257"]), found
    assert "takes `session.scalar` as a value" in found["reasons"][0], found
    assert document["files_changed"] == []
