"""AM252 held-session-moves: a repository holding the route's Session moves in place with it."""

from __future__ import annotations

REPO = """
from fastapi import Depends


class Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def titles(self):
        return list(self.session.scalars(select(Book.title)))


def get_repo(session: session_dependency) -> Repo:
    return Repo(session)
"""


def test_a_repository_used_only_by_migrated_routes_moves_with_am252(phase2, entry):
    document = phase2(REPO + """

@router.get("/titles")
def read_titles(repo: Repo = Depends(get_repo)):
    return repo.titles()
""")
    assert entry(document, "read_titles")["action"] == "migrate"
    found = entry(document, "Repo.titles", "helpers")
    assert (found["action"], found["codes"]) == ("migrate", ["AM252"])


def test_near_miss_a_repository_the_route_does_not_use_is_not_reported(phase2, entry):
    document = phase2(REPO + """

@router.get("/count")
def count(session: session_dependency):
    return session.scalar(select(func.count(Book.id)))
""")
    assert entry(document, "count")["action"] == "migrate"
    assert not any("AM252" in h["codes"] for h in document["subsystem"]["helpers"])
