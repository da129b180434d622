"""AM213 legacy-query-unmapped: a `session.query(...)` chain with no exact `select()` form blocks
its route."""

from __future__ import annotations


def test_with_entities_blocks_the_route_with_am213(phase2, entry):
    document = phase2(
        """
        @router.get("/entities")
        def entities(session: session_dependency):
            return session.query(Book).with_entities(Book.id).all()
        """
    )
    found = entry(document, "entities")
    assert (found["action"], found["codes"]) == ("blocked", ["AM213"])
    assert "`.with_entities()` has no exact 2.0 `select()` counterpart here" in found["reasons"][0]
    assert document["files_changed"] == []


def test_near_miss_a_query_with_a_select_form_migrates(phase2, entry):
    document = phase2(
        """
        @router.get("/entities")
        def entities(session: session_dependency):
            return session.query(Book).filter(Book.id > 1).all()
        """
    )
    found = entry(document, "entities")
    assert found["action"] == "migrate" and "AM213" not in found["codes"], found
