"""AM212 await-in-generator-expression: a Session call inside a generator expression blocks the route."""

from __future__ import annotations


def test_a_session_call_in_a_generator_expression_blocks_with_am212(phase2, entry):
    document = phase2(
        """
        @router.get("/total")
        def total(session: session_dependency):
            return sum(session.scalar(select(func.count(Book.id))) for _ in range(2))
        """
    )
    found = entry(document, "total")
    assert (found["action"], found["codes"]) == ("blocked", ["AM212"])
    assert "generator expression" in found["reasons"][0]


def test_near_miss_the_same_call_in_a_list_comprehension_migrates(phase2, entry):
    document = phase2(
        """
        @router.get("/total")
        def total(session: session_dependency):
            return sum([session.scalar(select(func.count(Book.id))) for _ in range(2)])
        """
    )
    assert entry(document, "total")["action"] == "migrate"
