"""AM202 awaits-migrated-helpers: a migrated route awaits the project helpers that move with it."""

from __future__ import annotations

from rules.test_am208_helper_of_blocked_route import HELPER  # `titles(session)`, a Session helper


def test_a_route_calling_a_session_helper_awaits_it_with_am202(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/titles")
def read_titles(session: session_dependency):
    return titles(session)
"""
    )
    found = entry(document, "read_titles")
    assert found["action"] == "migrate" and "AM202" in found["codes"], found


def test_near_miss_a_route_doing_its_own_session_work_awaits_no_helper(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/titles")
def read_titles(session: session_dependency):
    return list(session.scalars(select(Book.title)))
"""
    )
    found = entry(document, "read_titles")
    assert found["action"] == "migrate" and "AM202" not in found["codes"], found
