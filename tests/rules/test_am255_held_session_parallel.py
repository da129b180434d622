"""AM255 held-session-parallel: a repository holding the Session that another subsystem also
uses gets a parallel async class; the migrated route uses it."""

from __future__ import annotations

from rules.test_am254_held_session_shared import OTHER, REPO, ROUTE


def test_a_repository_another_subsystem_uses_gets_a_parallel_class_with_am255(phase2, entry):
    document = phase2(ROUTE, {"repo.py": REPO, "api/admin.py": OTHER})
    assert entry(document, "read_titles")["action"] == "migrate"
    found = entry(document, "Repo.titles", "helpers")
    assert (found["action"], found["codes"]) == ("twin", ["AM255"])
    assert "the migrated code uses the parallel class RepoAsync" in found["reasons"][0]


def test_near_miss_a_repository_only_this_subsystem_uses_moves_in_place(phase2, entry):
    document = phase2(ROUTE, {"repo.py": REPO})
    assert entry(document, "read_titles")["action"] == "migrate"
    assert entry(document, "Repo.titles", "helpers")["codes"] == ["AM252"]
