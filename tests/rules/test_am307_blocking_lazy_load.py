"""AM307 blocking-lazy-load: `check` reports an `async def` route lazy-loading a relationship
of a dependency's object on the synchronous Session."""

from __future__ import annotations

from rules.test_am129_lazy_load_on_loop import ROUTE, files


def test_a_lazy_read_on_a_dependency_object_is_an_am307_finding(app, findings):
    root = app(ROUTE.replace("{options}", "").replace("{await}", "await asyncio.sleep(0)\n    "), files())
    (finding,) = findings(root, "posts")
    assert finding["code"] == "AM307"
    assert "`user.posts`" in finding["message"] and "event loop" in finding["message"]


def test_near_miss_the_dependency_eager_loads_the_relationship(app, findings):
    root = app(ROUTE.replace("{options}", ", options=[selectinload(User.posts)]").replace("{await}", ""), files())
    assert findings(root, "posts") == []
