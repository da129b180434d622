"""AM217 method-helper: a helper that is a method cannot move, so its route is blocked."""

from __future__ import annotations


def test_a_method_helper_blocks_its_route_with_am217(phase2, entry):
    document = phase2(
        """
        class Repo:
            @staticmethod
            def titles(session: Session):
                return list(session.scalars(select(Book.title)))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return Repo.titles(session)
        """
    )
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM217"])


def test_near_miss_the_same_helper_at_module_level_migrates(phase2, entry):
    document = phase2(
        """
        def titles(session: Session):
            return list(session.scalars(select(Book.title)))


        @router.get("/titles")
        def read_titles(session: session_dependency):
            return titles(session)
        """
    )
    assert entry(document, "read_titles")["action"] == "migrate"
