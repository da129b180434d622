"""AM201 moves-to-async-session: a route doing synchronous Session work moves to AsyncSession."""

from __future__ import annotations


def test_a_route_doing_session_work_moves_with_am201(phase2, entry):
    document = phase2(
        """
        @router.get("/titles")
        def read_titles(session: session_dependency):
            return list(session.scalars(select(Book.title)))
        """
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("migrate", ["AM201"])


def test_near_miss_a_route_without_session_work_stays(phase2, entry):
    document = phase2(
        """
        @router.get("/titles")
        def read_titles(session: session_dependency):
            return []

        @router.get("/count")
        def count(session: session_dependency):
            return session.scalar(select(func.count(Book.id)))
        """
    )
    found = entry(document, "read_titles")
    assert found["action"] == "unchanged" and "AM201" not in found["codes"], found
