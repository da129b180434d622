"""AM114 pragma: a pragma keeps a handler phase one would convert, or acknowledges one it keeps."""

from __future__ import annotations

ROUTE = """
async def notify():
    return None


@router.post("")
async def publish(session: session_dependency):{pragma}
    {await_line}
    session.commit()
"""


def test_a_pragma_on_a_convertible_route_keeps_it_with_am114(app, reported):
    root = app(ROUTE.format(pragma="  # async-migrate: ignore[AM301] tiny table", await_line="pass"))
    entry = reported(root, "publish", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM114", "AM116"])
    assert entry["reasons"][0] == "kept by pragma: tiny table"


def test_a_pragma_on_a_mixed_route_acknowledges_it_after_the_real_reason(app, reported):
    pragma = "  # async-migrate: ignore[blocking-session] next sprint"
    root = app(ROUTE.format(pragma=pragma, await_line="await notify()"))
    entry = reported(root, "publish", "phase1")
    assert entry["codes"][:2] == ["AM108", "AM114"]
    assert entry["reasons"][1] == "acknowledged by pragma: next sprint"


def test_near_miss_without_the_pragma_the_route_converts(app, reported):
    root = app(ROUTE.format(pragma="", await_line="pass"))
    assert reported(root, "publish", "phase1")["codes"] == ["AM101"]
