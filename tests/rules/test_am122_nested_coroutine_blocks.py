"""AM122 nested-coroutine-blocks: Session work in a nested `async def` keeps the route: it runs on the loop anyway."""

from __future__ import annotations

STREAM = """
from fastapi.responses import StreamingResponse


@router.get("/export")
async def export(session: session_dependency):
    {kind} rows():
        for row in session.execute("select 1"):
            yield str(row)

    return StreamingResponse(rows())
"""


def test_an_async_generator_reading_the_session_is_am122(app, reported, findings):
    root = app(STREAM.format(kind="async def"))
    entry = reported(root, "export", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM122")
    assert findings(root, "export")[0]["code"] == "AM301"


def test_near_miss_a_sync_generator_converts(app, reported):
    root = app(STREAM.format(kind="def"))
    assert reported(root, "export", "phase1")["codes"] == ["AM101"]
