"""AM144 process-wide-connection: a database connection the whole process shares keeps the route async."""

from __future__ import annotations

import pytest

# Each: (objects at module level, the route's use of one, what the reason must name).
SHAPES = {
    "sqlite3 global": (
        'import sqlite3\n_cache = sqlite3.connect("cache.db")',
        '_cache.execute("insert into hits values (1)")',
        "`_cache`, a sqlite3 connection (usable only from the thread that made it) made once at import time "
        "(api/items.py:11)",
    ),
    "from-imported connect, no thread check": (
        'from sqlite3 import connect\n_cache = connect("cache.db", check_same_thread=False)',
        "_cache.commit()",
        "`_cache`, a sqlite3 connection (`check_same_thread=False`) made once at import time",
    ),
    "SQLAlchemy Connection": (
        "from db.engine import engine\n_conn = engine.connect()",
        'n = _conn.execute(text("select 1")).scalar_one()',
        "`_conn`, a SQLAlchemy Connection made once at import time (api/items.py:",
    ),
    "raw_connection": (
        "from db.engine import engine\n_raw = engine.raw_connection()",
        "_raw.commit()",
        "`_raw`, a DB-API connection taken from the engine's pool made once at import time",
    ),
    "psycopg2 cursor": (
        'import psycopg2\n_pg = psycopg2.connect("dbname=test")\n_cur = _pg.cursor()',
        '_cur.execute("select 1")',
        "`_cur`, a cursor of a psycopg2 connection made once at import time (api/items.py:12)",
    ),
    "local alias": (
        "import pymysql\n_my = pymysql.connect(host='db')",
        'c = _my\n            c.ping()',
        "`_my`, a PyMySQL connection made once at import time",
    ),
    "class attribute": (
        'import sqlite3\n\n\nclass Hits:\n    conn = sqlite3.connect("hits.db")\n\n    @classmethod\n'
        '    def add(cls):\n        cls.conn.execute("insert into hits values (1)")',
        "Hits.add()",
        "`cls.conn`, a sqlite3 connection, a class attribute of `Hits` (api/items.py:",
    ),
    "opened by the __init__ of a module-level instance": (
        'import sqlite3\n\n\nclass Hits:\n    def __init__(self):\n        self.conn = sqlite3.connect("hits.db")\n\n'
        '    def add(self):\n        self.conn.execute("insert into hits values (1)")\n\n\ncounter = Hits()',
        "counter.add()",
        "`self.conn`, a sqlite3 connection `Hits.__init__` opens once and keeps on the instance `counter` every "
        "request gets",
    ),
    "cached function": (
        'import sqlite3\nfrom functools import lru_cache\n\n\n@lru_cache\ndef cached_conn():\n'
        '    return sqlite3.connect("c.db")',
        'cached_conn().execute("select 1")',
        "(`cached_conn().execute()`) a sqlite3 connection the `@lru_cache` function `cached_conn` (api/items.py:",
    ),
    "class attribute through a module-level instance": (
        'import sqlite3\n\n\nclass Repo:\n    conn = sqlite3.connect("r.db")\n\n\nrepo = Repo()',
        'repo.conn.execute("select 1")',
        "`repo.conn`, a sqlite3 connection, a class attribute of `Repo`",
    ),
    "helper handed the connection": (
        "from db.engine import engine\n_conn = engine.connect()\n\n\ndef count(conn):\n    return 1",
        "count(_conn)",
        "(`count(...)`) `_conn`, a SQLAlchemy Connection made once at import time",
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_process_wide_connection_keeps_the_route_and_check_says_so(app, reported, findings, shape):
    made, used, named = SHAPES[shape]
    root = app(
        f"""
        from sqlalchemy import select, text

        {made.replace(chr(10), chr(10) + ' ' * 8)}


        @router.get("/hits")
        async def hits(db: session_dependency):
            {used}
            return db.scalar(select(text("1")))
        """
    )
    entry = reported(root, "hits", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM144", entry
    assert named in entry["reasons"][0], entry["reasons"][0]
    if "check_same_thread=False" in named or "sqlite3" not in named:
        assert "ProgrammingError" not in entry["reasons"][0].split(" made ")[1].split("; a sqlite3")[0]
    found = findings(root, "hits")
    assert [f["code"] for f in found] == ["AM301"] and "phase one keeps it async" in found[0]["message"], found


def test_a_connection_the_lifespan_keeps_on_the_application_state_keeps_the_route(app, reported):
    root = app(
        """
        import sqlite3
        from contextlib import asynccontextmanager

        from fastapi import FastAPI, Request
        from sqlalchemy import select, text


        @asynccontextmanager
        async def lifespan(app: FastAPI):
            app.state.cache = sqlite3.connect("cache.db")
            yield


        @router.get("/hits")
        async def hits(request: Request, db: session_dependency):
            request.app.state.cache.execute("insert into hits values (1)")
            return db.scalar(select(text("1")))
        """
    )
    entry = reported(root, "hits", "phase1")
    assert entry["codes"][0] == "AM144", entry
    assert "`app.state.cache`, a sqlite3 connection stored on the application's state at api/items.py:" in (
        entry["reasons"][0]
    )


def test_near_miss_a_connection_per_request_or_an_engine_converts(app, reported):
    root = app(
        """
        import sqlite3

        from sqlalchemy import select, text

        from db.engine import engine

        _engine = engine


        @router.get("/pooled")
        async def pooled(db: session_dependency):
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            return db.scalar(select(text("1")))


        @router.get("/local")
        async def local(db: session_dependency):
            cache = sqlite3.connect("cache.db")
            cache.execute("insert into hits values (1)")
            cache.close()
            return db.scalar(select(text("1")))


        @router.get("/engine")
        async def on_engine(db: session_dependency):
            _engine.dispose()
            return db.scalar(select(text("1")))
        """
    )
    for name in ("pooled", "local", "on_engine"):
        entry = reported(root, name, "phase1")
        assert entry["action"] == "convert" and "AM144" not in entry["codes"], entry


def test_engine_work_beside_a_shared_connection_is_kept_too(app, reported):
    root = app(
        """
        import sqlite3

        from sqlalchemy import text

        from db.engine import engine

        _cache = sqlite3.connect("cache.db")


        @router.get("/n")
        async def n():
            _cache.execute("insert into hits values (1)")
            with engine.begin() as conn:
                return {"n": conn.execute(text("select 1")).scalar_one()}


        @router.get("/m")
        async def m():
            with engine.begin() as conn:
                return {"n": conn.execute(text("select 1")).scalar_one()}
        """
    )
    entry = reported(root, "n", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM144", entry
    assert "`_cache.execute()`" in entry["reasons"][0], entry
    assert reported(root, "m", "phase1")["action"] == "convert"
