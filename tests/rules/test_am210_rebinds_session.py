"""AM210 rebinds-session: a function that rebinds its Session to another name blocks its route."""

from __future__ import annotations


def test_rebinding_the_session_blocks_the_route_with_am210(phase2, entry):
    document = phase2(
        """
        @router.get("/titles")
        def read_titles(session: session_dependency):
            db = session
            return list(db.scalars(select(Book.title)))
        """
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM210"])
    assert "rebinds the Session to `db`" in found["reasons"][0]
    assert [b["code"] for b in document["subsystem"]["blockers"]] == ["AM210"]


def test_near_miss_using_the_session_under_its_own_name_migrates(phase2, entry):
    document = phase2(
        """
        @router.get("/titles")
        def read_titles(session: session_dependency):
            return list(session.scalars(select(Book.title)))
        """
    )
    assert entry(document, "read_titles")["action"] == "migrate"
