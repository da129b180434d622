"""AM209 helper-used-as-value: a helper named as a value somewhere keeps its sync original and
gets an async twin."""

from __future__ import annotations

HELPER = """
def titles(session: Session) -> list[str]:
    return list(session.scalars(select(Book.title)))


@router.get("/titles")
def read_titles(session: session_dependency):
    return titles(session)
"""


def test_a_helper_named_as_a_value_gets_a_twin_with_am209(phase2, entry):
    found = entry(phase2(HELPER + "\n\nEXPORTERS = {'titles': titles}\n"), "titles", "helpers")
    assert found["action"] == "twin" and "AM209" in found["codes"], found


def test_near_miss_a_helper_only_called_migrates_in_place(phase2, entry):
    found = entry(phase2(HELPER), "titles", "helpers")
    assert found["action"] == "migrate" and "AM209" not in found["codes"], found
