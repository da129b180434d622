"""AM211 await-in-nested-function: a call that needs `await` inside a lambda or nested function
blocks its route."""

from __future__ import annotations

HELPER = """
def count(session: Session, n: int) -> int:
    return len(session.scalars(select(Book).limit(n)).all())
"""


def test_a_helper_called_from_a_lambda_blocks_the_route_with_am211(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/n")
def nested(session: session_dependency, ns: list[int]):
    return sorted(ns, key=lambda n: count(session, n))
"""
    )
    found = entry(document, "nested")
    assert (found["action"], found["codes"]) == ("blocked", ["AM211"])
    assert found["reasons"][0].endswith("needs `await` inside a nested function or lambda, where it cannot stand")
    assert document["files_changed"] == []


def test_near_miss_the_same_helper_called_in_a_loop_migrates(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/n")
def nested(session: session_dependency, ns: list[int]):
    total = 0
    for n in ns:
        total += count(session, n)
    return total
"""
    )
    found = entry(document, "nested")
    assert found["action"] == "migrate" and "AM211" not in found["codes"], found


def test_a_session_call_in_a_nested_coroutine_function_names_it(phase2, entry):
    document = phase2(
        """
@router.get("/stream")
def stream(session: session_dependency):
    async def rows():
        for book in session.scalars(select(Book)):
            yield book.title

    return list(rows.__name__)
"""
    )
    found = entry(document, "stream")
    assert (found["action"], found["codes"]) == ("blocked", ["AM211"]), found
    assert found["reasons"][0].endswith("needs `await` inside the nested coroutine function `rows`, which phase two "
                                        "does not rewrite")


def test_the_session_as_a_lambda_default_blocks_the_route_with_am211(phase2, entry):
    # `(lambda s=session: s.scalar(q))()` would return a coroutine never awaited
    document = phase2(
        """
@router.get("/n")
def counted(session: session_dependency):
    return (lambda s=session: s.scalar(select(func.count(Book.id))))()
"""
    )
    found = entry(document, "counted")
    assert (found["action"], found["codes"]) == ("blocked", ["AM211"]), found
    assert "hands the Session `session` to a nested function or lambda as the default of its parameter `s`" in (
        found["reasons"][0]
    )
    assert document["files_changed"] == []


def test_near_miss_another_default_in_a_nested_function_migrates(phase2, entry):
    document = phase2(
        """
@router.get("/n")
def counted(session: session_dependency, limit: int = 3):
    clamp = lambda n, top=limit: min(n, top)
    return clamp(session.scalar(select(func.count(Book.id))))
"""
    )
    found = entry(document, "counted")
    assert found["action"] == "migrate", found
    assert "return clamp(await session.scalar(" in document["diff"]
