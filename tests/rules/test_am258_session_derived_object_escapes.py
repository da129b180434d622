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
        "session.begin_nested().close()",  # never bound, and AsyncSessionTransaction has no close()
        "session.connection().begin()",  # the AsyncConnection's transaction is awaited or entered
        "list(session.connection().execute(select(Book.id)) for _ in range(2))",  # no await in a generator
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


@pytest.mark.parametrize(("use", "written"), [
    ("session.begin_nested().rollback()", "await (await session.begin_nested()).rollback()"),
    ("session.connection().execute(select(Book.id)).all()",
     "(await (await session.connection()).execute(select(Book.id))).all()"),
    ("session.connection().in_transaction()", "(await session.connection()).in_transaction()"),
])
def test_near_miss_a_coroutine_method_called_straight_on_it_is_awaited_with_it(phase2, entry, use, written):
    document = phase2(
        f"""
        @router.post("/straight")
        async def straight(session: session_dependency):
            session.add(Book(title="x"))
            {use}
            session.commit()
            return {{"ok": True}}
        """
    )
    found = entry(document, "straight")
    assert (found["action"], "AM258" in found["codes"]) == ("migrate", False), found
    assert written in document["diff"], document["diff"]


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


# Attributes read on the Session's connection: `connection` raises on an AsyncConnection (the DBAPI
# connection, a driver cursor), `dialect` and `info` read the same.
CONNECTION_READS = """
@router.get("/raw")
def raw(session: session_dependency):
    {use}
    return {{"n": session.scalar(select(func.count(Book.id)))}}
"""


@pytest.mark.parametrize(("use", "action"), [
    ("conn = session.connection()\n    cursor = conn.connection.cursor()", "blocked"),
    ("dbapi = session.connection().connection.dbapi_connection", "blocked"),
    ("conn = session.connection()\n    engine = conn.engine", "blocked"),
    # near misses: read alike, or a method the rewrite awaits
    ("conn = session.connection()\n    name = conn.dialect.name\n    conn.info['who'] = name", "migrate"),
    ("name = session.connection().dialect.name", "migrate"),
    ("conn = session.connection()\n    level = conn.get_isolation_level()", "migrate"),
])
def test_an_attribute_the_async_connection_reads_otherwise_blocks_the_route_with_am258(phase2, entry, use, action):
    found = entry(phase2(CONNECTION_READS.format(use=use)), "raw")
    assert found["action"] == action, found
    if action == "blocked":
        assert "AM258" in found["codes"] and "reads `" in found["reasons"][found["codes"].index("AM258")], found


def test_async_connection_refuses_the_dbapi_connection_attribute(tmp_path):
    """Why `conn.connection` blocks: the AsyncConnection raises where the synchronous one answers."""
    import asyncio

    from sqlalchemy.exc import InvalidRequestError
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    async def run() -> str:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/t.db")
        try:
            async with AsyncSession(engine) as session:
                conn = await session.connection()
                try:
                    conn.connection  # noqa: B018
                except InvalidRequestError:
                    return f"refused; {conn.dialect.name}; {await conn.get_isolation_level()}"
            return "answered"
        finally:
            # after the Session has given its connection back, or the pool keeps it (and its thread)
            await engine.dispose()

    assert asyncio.run(run()) == "refused; sqlite; SERIALIZABLE"


def test_a_transaction_begun_on_the_sessions_connection_blocks_naming_what_the_async_one_needs(phase2, entry):
    found = entry(phase2(CONNECTION_READS.format(use="conn = session.connection()\n    sp = conn.begin_nested()")), "raw")
    assert found["action"] == "blocked" and "AM258" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM258")]
    assert "`conn.begin_nested()`, whose transaction the async AsyncConnection hands back to be awaited" in reason
    assert "does not offer" not in reason, reason
