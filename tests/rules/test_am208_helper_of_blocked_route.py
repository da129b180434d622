"""AM208 helper-of-blocked-route: a helper only blocked routes reach stays synchronous."""

from __future__ import annotations

HELPER = """
def titles(session: Session) -> list[str]:
    return list(session.scalars(select(Book.title)))
"""


def test_a_helper_reached_only_by_a_blocked_route_is_blocked_with_am208(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/titles")
def read_titles(session: session_dependency):
    list(map(lambda b: session.bulk_save_objects([b]), []))  # in a lambda: no await can stand
    return titles(session)
"""
    )
    assert entry(document, "read_titles")["action"] == "blocked"
    helper = entry(document, "titles", "helpers")
    assert (helper["action"], helper["codes"]) == ("blocked", ["AM208"])
    assert helper["reasons"] == ["only reached by blocked routes"]


def test_near_miss_the_same_helper_under_a_route_that_migrates_migrates_with_am206(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/titles")
def read_titles(session: session_dependency):
    return titles(session)
"""
    )
    helper = entry(document, "titles", "helpers")
    assert (helper["action"], helper["codes"]) == ("migrate", ["AM206"])
