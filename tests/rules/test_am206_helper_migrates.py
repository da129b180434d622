"""AM206 helper-migrates: a helper called only within the subsystem becomes `async def`."""

from __future__ import annotations

ROUTES = """
def titles(session: Session) -> list[str]:
    return list(session.scalars(select(Book.title)))


def unused(session: Session) -> int:
    return session.scalar(select(func.count(Book.id)))


@router.get("/titles")
def read_titles(session: session_dependency):
    return titles(session)
"""


def test_a_helper_only_the_subsystem_calls_migrates_with_am206(phase2, entry):
    found = entry(phase2(ROUTES), "titles", "helpers")
    assert found["action"] == "migrate" and "AM206" in found["codes"], found


def test_near_miss_a_helper_no_migrated_route_reaches_is_not_listed(phase2):
    helpers = phase2(ROUTES)["subsystem"]["helpers"]
    assert [h["function"] for h in helpers] == ["titles"]
