"""AM303 bad-pragma: an `# async-migrate: ignore[...]` pragma without a reason is a finding
itself; one with a reason silences the finding."""

from __future__ import annotations

ROUTE = """
@router.get("/items")
async def read_items(session: session_dependency):{pragma}
    return session.execute("select 1").all()
"""


def test_a_pragma_without_a_reason_is_an_am303_finding(app, findings):
    root = app(ROUTE.replace("{pragma}", "  # async-migrate: ignore[blocking-session]"))
    (finding,) = findings(root, "read_items")
    assert finding["code"] == "AM303"
    assert "gives no reason" in finding["message"]


def test_near_miss_a_pragma_with_a_reason_silences_the_finding(app, findings):
    root = app(ROUTE.replace("{pragma}", "  # async-migrate: ignore[blocking-session] tiny table, measured"))
    assert findings(root, "read_items") == []
