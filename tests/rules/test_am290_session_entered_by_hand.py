"""AM290 session-entered-by-hand: a Session entered through `__enter__()` or
`ExitStack.enter_context(...)` blocks the function in phase two (an AsyncSession has no
`__enter__`); the same Session opened in a `with` statement migrates."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "opening",
    [
        "s = database_sessionmaker.begin().__enter__()",
        "s = database_sessionmaker().__enter__()",
        "cm = database_sessionmaker.begin()\n            s = cm.__enter__()",
        "s = contextlib.ExitStack().enter_context(database_sessionmaker())",
    ],
    ids=["begin-enter", "enter", "held-then-entered", "exit-stack"],
)
def test_a_session_entered_by_hand_blocks_the_route_with_am290(phase2, entry, opening):
    document = phase2(
        f"""
        import contextlib

        from db.engine import database_sessionmaker


        @router.get("/count")
        def count():
            {opening}
            return s.scalar(select(func.count(Book.id)))
        """
    )
    found = entry(document, "count")
    assert found["action"] == "blocked", found
    assert "AM290" in found["codes"], found
    assert "not in a `with` statement" in found["reasons"][found["codes"].index("AM290")]
    # not read as a Session left open: the exit is the code's, by hand
    assert "AM154" not in found["codes"], found
    assert "AsyncSession" not in document["diff"]


def test_an_exit_stack_inside_a_with_statement_blocks_too(phase2, entry):
    document = phase2(
        """
        import contextlib

        from db.engine import database_sessionmaker


        @router.get("/count")
        def count():
            with contextlib.ExitStack() as stack:
                s = stack.enter_context(database_sessionmaker.begin())
                return s.scalar(select(func.count(Book.id)))
        """
    )
    found = entry(document, "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM290"], found


def test_near_miss_the_same_session_opened_in_a_with_statement_migrates(phase2, entry):
    document = phase2(
        """
        from db.engine import database_sessionmaker


        @router.get("/count")
        def count():
            with database_sessionmaker.begin() as s:
                return s.scalar(select(func.count(Book.id)))
        """
    )
    found = entry(document, "count")
    assert found["action"] == "migrate", found
    assert "AM290" not in found["codes"], found
