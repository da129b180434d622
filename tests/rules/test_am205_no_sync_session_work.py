"""AM205 no-sync-session-work: a route with no synchronous Session work is left alone."""

from __future__ import annotations

ROUTES = """
@router.get("/health")
def health():
    return {"ok": True}


@router.get("/titles")
def read_titles(session: session_dependency):
    return list(session.scalars(select(Book.title)))
"""


def test_a_route_without_session_work_is_unchanged_with_am205(phase2, entry):
    found = entry(phase2(ROUTES), "health")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"])


def test_near_miss_a_route_with_session_work_moves(phase2, entry):
    found = entry(phase2(ROUTES), "read_titles")
    assert found["action"] == "migrate" and "AM205" not in found["codes"], found
