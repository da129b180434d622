"""AM113 awaited-by-caller: a handler another function awaits stays `async def`."""

from __future__ import annotations


def test_a_route_awaited_by_another_keeps_with_am113(app, reported):
    root = app(
        """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()


        @router.get("/items/first")
        async def first_item(session: session_dependency):
            items = await list_items(session)
            return items[0]
        """
    )
    entry = reported(root, "list_items", "phase1")
    assert entry["action"] == "keep"
    assert entry["codes"][0] == "AM113"
    assert entry["reasons"][0].startswith("awaited by api.items.first_item (api/items.py:")


def test_near_miss_a_route_called_without_await_converts(app, reported):
    root = app(
        """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()


        @router.get("/items/names")
        async def names(session: session_dependency):
            return [repr(list_items)]
        """
    )
    assert reported(root, "list_items", "phase1")["codes"] == ["AM101"]
