"""AM101 takes-sync-session: an `async def` handler that uses its synchronous Session and never awaits."""

from __future__ import annotations


def test_a_route_using_its_session_converts_with_am101(app, reported):
    root = app(
        """
        @router.get("")
        async def read_items(session: session_dependency):
            return session.execute("select 1").all()
        """
    )
    entry = reported(root, "read_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM101"])
    assert entry["reasons"][0].startswith("takes a synchronous Session `session: session_dependency`")


def test_near_miss_a_session_parameter_never_used_is_am106_not_am101(app, reported):
    root = app(
        """
        @router.get("")
        async def read_items(session: session_dependency):
            return {"ok": True}
        """
    )
    entry = reported(root, "read_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM106"])


def test_a_session_from_an_untyped_depends_shape_converts_with_am101(app, reported, findings):
    # FastAPI calls what Depends names: the sessionmaker itself, a partial of the Session
    # dependency, a lambda calling it. Each gives the route a synchronous Session.
    root = app(
        """
        import functools

        from fastapi import Depends

        from db.engine import database_sessionmaker, get_db_session

        cached = functools.partial(get_db_session)


        @router.get("/a")
        async def by_sessionmaker(db=Depends(database_sessionmaker)):
            return db.execute("select 1").all()


        @router.get("/b")
        async def by_lambda(db=Depends(lambda: next(get_db_session()))):
            return db.execute("select 1").all()


        @router.get("/c")
        async def by_partial(db=Depends(cached)):
            return db.execute("select 1").all()


        @router.get("/d")
        async def by_inline_partial(db=Depends(functools.partial(get_db_session))):
            return db.execute("select 1").all()
        """
    )
    for function, written in [
        ("by_sessionmaker", "`db=Depends(database_sessionmaker)` (FastAPI calls the sessionmaker"),
        ("by_lambda", "`db=Depends(lambda: next(get_db_session()))` (it calls get_db_session"),
        # FastAPI calls the partial's function, inline or named at module level: the Session
        # dependency itself
        ("by_partial", "`db = Depends(cached)` and never awaits"),
        ("by_inline_partial", "`db = Depends(functools.partial(get_db_session))` and never awaits"),
    ]:
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"]) == ("convert", ["AM101"]), function
        assert entry["reasons"][0].startswith(f"takes a synchronous Session {written}"), entry["reasons"]
        assert [f["code"] for f in findings(root, function)] == ["AM301"], function
