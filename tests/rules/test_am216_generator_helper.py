"""AM216 generator-helper: a helper that yields cannot move to AsyncSession, so its route is blocked."""

from __future__ import annotations


def test_a_generator_helper_blocks_its_route_with_am216(phase2, entry):
    document = phase2(
        """
        def iter_titles(session: Session):
            yield from session.scalars(select(Book.title))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return list(iter_titles(session))
        """
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM216"])
    assert entry(document, "iter_titles", "helpers")["codes"] == ["AM216"]


def test_near_miss_a_helper_returning_a_list_migrates(phase2, entry):
    document = phase2(
        """
        def list_titles(session: Session):
            return list(session.scalars(select(Book.title)))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return list_titles(session)
        """
    )
    assert entry(document, "read_titles")["action"] == "migrate"
