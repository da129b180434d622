"""AM288 sync-engine-from-session: work on the synchronous Engine the Session hands out
(`get_bind()`, `.bind`) blocks the route in phase two; reading what it describes does not."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "work",
    [
        "with session.get_bind().connect() as conn:\n                return conn.execute(text('select 1')).scalar()",
        "engine = session.get_bind()\n            with engine.begin() as conn:\n                return conn.execute(text('select 1')).scalar()",
        "return session.bind.connect().execute(text('select 1')).scalar()",
        "return read_frame('select 1', session.get_bind())",
    ],
    ids=["get_bind-connect", "bound-then-begin", "bind-attribute", "handed-on"],
)
def test_work_on_the_engine_behind_the_session_blocks_the_route_with_am288(phase2, entry, work):
    document = phase2(
        f"""
        from sqlalchemy import text


        def read_frame(query, bind):
            with bind.connect() as conn:
                return list(conn.execute(text(query)))


        @router.get("/count")
        def count(session: session_dependency):
            {work}
        """
    )
    found = entry(document, "count")
    assert found["action"] == "blocked", found
    assert "AM288" in found["codes"], found
    assert "MissingGreenlet" in found["reasons"][found["codes"].index("AM288")]
    assert "async def count" not in document["diff"]


def test_near_miss_reading_the_dialect_migrates(phase2, entry):
    document = phase2(
        """
        @router.get("/count")
        def count(session: session_dependency):
            if session.get_bind().dialect.name == "sqlite" and session.bind.url.database:
                return session.scalar(select(func.count(Book.id)))
            return 0
        """
    )
    found = entry(document, "count")
    assert (found["action"], "AM288" in found["codes"]) == ("migrate", False), found


# What names the driver reads otherwise on the Engine behind an AsyncSession (`sqlite+aiosqlite`):
# phase two migrated the route and it answered with the async driver's name.
@pytest.mark.parametrize(
    "read",
    [
        "session.get_bind().url.drivername",
        "str(session.bind.url)",
        "session.get_bind().dialect.driver",
        "session.bind.driver",
        "engine.url.drivername",
    ],
)
def test_a_read_naming_the_engines_driver_blocks_the_route_with_am288(phase2, entry, read):
    document = phase2(
        f"""
        @router.get("/driver")
        def driver(session: session_dependency):
            engine = session.get_bind()
            return {{"driver": {read}, "n": session.scalar(select(func.count(Book.id)))}}
        """
    )
    found = entry(document, "driver")
    assert found["action"] == "blocked" and "AM288" in found["codes"], found
    assert "whose driver is the async one" in found["reasons"][found["codes"].index("AM288")], found


@pytest.mark.parametrize("read", ["session.get_bind().url.database", "engine.dialect.name", "engine.url.port"])
def test_near_miss_a_read_the_async_engine_answers_alike_migrates(phase2, entry, read):
    document = phase2(
        f"""
        @router.get("/driver")
        def driver(session: session_dependency):
            engine = session.get_bind()
            return {{"db": {read}, "n": session.scalar(select(func.count(Book.id)))}}
        """
    )
    found = entry(document, "driver")
    assert (found["action"], "AM288" in found["codes"]) == ("migrate", False), found
