"""AM225 nested-function: a route defined inside a router factory stays on the synchronous path."""

from __future__ import annotations


def test_a_router_factory_route_is_blocked_with_am225(phase2, entry):
    document = phase2(
        """
        def make_routes():
            r = APIRouter()

            @r.get("/titles")
            def read_titles(session: session_dependency):
                return list(session.scalars(select(Book.title)))

            return r
        """
    )
    found = entry(document, "make_routes.<locals>.read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM225"])
    assert "is a route defined inside `make_routes`: each call of that factory builds its own copy" in (
        found["reasons"][0]
    ), found["reasons"]


def test_near_miss_the_same_route_at_module_level_migrates(phase2, entry):
    document = phase2(
        """
        @router.get("/titles")
        def read_titles(session: session_dependency):
            return list(session.scalars(select(Book.title)))
        """
    )
    assert entry(document, "read_titles")["action"] == "migrate"
