"""AM305 unused-pragma: a handler's pragma that silences no finding is a finding itself."""

from __future__ import annotations

ROUTE = """
# async-migrate: ignore[blocking-session] tiny table, measured
@router.get("/items")
async def read_items(session: session_dependency):
    return {body}
"""


def test_a_pragma_on_a_route_that_no_longer_blocks_is_an_am305_finding(app, findings):
    root = app(ROUTE.format(body='{"ok": True}'))
    (finding,) = findings(root, "read_items")
    assert finding["code"] == "AM305"
    assert "silences nothing" in finding["message"] and "blocking-session" in finding["message"]


def test_a_pragma_on_a_def_route_is_an_am305_finding(app, findings):
    root = app(ROUTE.format(body='session.execute("select 1").all()').replace("async def", "def"))
    (finding,) = findings(root, "read_items")
    assert finding["code"] == "AM305" and "does not judge a `def` route" in finding["message"]


def test_near_miss_a_pragma_silencing_the_blocking_work_is_used(app, findings):
    root = app(ROUTE.format(body='session.execute("select 1").all()'))
    assert findings(root, "read_items") == []
