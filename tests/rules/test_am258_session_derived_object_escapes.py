"""AM258 session-derived-object-escapes: a transaction or connection taken from the Session and
handed on, rebound or used through a method the async object lacks blocks the route; used in
place (the run is in tests/test_phase2_derived.py), or under `with`, it migrates."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "use",
    [
        "finish(sp)",  # handed on: the callee's `sp.rollback()` would not be awaited
        "sp.close()",  # AsyncSessionTransaction has no close()
        "other = sp",
        "session.begin_nested().rollback()",  # never bound: the rollback's coroutine is dropped
        "session.connection().execute(select(Book.id)).all()",
    ],
)
def test_a_transaction_from_the_session_leaving_the_function_blocks_the_route_with_am258(phase2, entry, use):
    document = phase2(
        f"""
        def finish(sp):
            sp.rollback()


        @router.post("/savepoint")
        async def savepoint(session: session_dependency):
            sp = session.begin_nested()
            session.add(Book(title="x"))
            {use}
            session.commit()
            return {{"ok": True}}
        """
    )
    found = entry(document, "savepoint")
    assert found["action"] == "blocked", found
    assert "AM258" in found["codes"], found


def test_near_miss_a_transaction_used_in_place_migrates(phase2, entry):
    document = phase2(
        """
        @router.post("/savepoint")
        async def savepoint(session: session_dependency):
            sp = session.begin_nested()
            session.add(Book(title="x"))
            sp.rollback()
            session.commit()
            return {"ok": True}
        """
    )
    found = entry(document, "savepoint")
    assert (found["action"], "AM258" in found["codes"]) == ("migrate", False), found
    assert "await sp.rollback()" in document["diff"]


def test_near_miss_the_current_transaction_committed_in_place_is_awaited(phase2, entry):
    document = phase2(
        """
        @router.post("/books")
        async def add(session: session_dependency):
            session.add(Book(title="x"))
            t = session.get_transaction()
            t.commit()
            return {"ok": True}
        """
    )
    found = entry(document, "add")
    assert (found["action"], "AM258" in found["codes"]) == ("migrate", False), found
    assert "    await t.commit()\n" in document["diff"]
