"""AM336: a `def` handler, run in the threadpool, uses one database connection the whole process shares."""

from __future__ import annotations

ROUTES = """
import sqlite3
from functools import lru_cache

import psycopg
from fastapi import Depends
from sqlalchemy import text

from db.engine import engine

_cache = sqlite3.connect("cache.db")
_pg = psycopg.connect("dbname=test")
_conn = engine.connect()


def get_conn():
    return _conn


@lru_cache
def cached_cache():
    return sqlite3.connect("cache.db", check_same_thread=False)


def fresh_cache():
    return sqlite3.connect("cache.db")


def log_hit(sku: str) -> None:
    _pg.execute("insert into hits values (%s)", (sku,))


@router.get("/products/{sku}")
def product(sku: str):
    _cache.execute("insert into hits values (?)", (sku,))
    return {"sku": sku}


@router.get("/logged/{sku}")
def logged(sku: str):
    log_hit(sku)
    return {"sku": sku}


@router.get("/stats")
def stats(conn=Depends(get_conn)):
    return {"n": conn.execute(text("select 1")).scalar_one()}


@router.get("/cached")
def cached(cache=Depends(cached_cache)):
    return {"n": cache.execute("select 1").fetchone()[0]}


@router.get("/fresh")
def fresh(cache=Depends(fresh_cache)):
    return {"n": cache.execute("select 1").fetchone()[0]}


@router.get("/pooled")
def pooled():
    with engine.connect() as conn:
        return {"n": conn.execute(text("select 1")).scalar_one()}


@router.get("/local")
def local():
    cache = sqlite3.connect("cache.db")
    try:
        return {"n": cache.execute("select 1").fetchone()[0]}
    finally:
        cache.close()


@router.get("/engine")
def on_engine():
    engine.dispose()
    return {}
"""


def test_a_def_route_on_a_process_wide_connection_is_flagged(app, findings):
    root = app(ROUTES)
    product = findings(root, "product")
    assert [f["code"] for f in product] == ["AM336"], product
    message = product[0]["message"]
    assert "`_cache`, a sqlite3 connection (usable only from the thread that made it) made once at import time" in (
        message
    )
    assert "sqlite3.ProgrammingError" in message and "; fix: " in message, message
    logged = findings(root, "logged")
    assert [f["code"] for f in logged] == ["AM336"], logged
    assert "(`_pg.execute()`) `_pg`, a psycopg connection made once" in logged[0]["message"], logged
    assert "ProgrammingError" not in logged[0]["message"]
    stats = findings(root, "stats")
    assert [f["code"] for f in stats] == ["AM336"], stats
    assert "`conn`, which `get_conn()` hands out: `_conn`, a SQLAlchemy Connection" in stats[0]["message"], stats
    cached = findings(root, "cached")
    assert [f["code"] for f in cached] == ["AM336"], cached
    assert "`cache`, a sqlite3 connection the `@lru_cache` function `cached_cache`" in cached[0]["message"], cached


def test_near_miss_a_connection_per_request_an_engine_or_a_dependency_handing_one_out_is_not_flagged(app, findings):
    root = app(ROUTES)
    for name in ("fresh", "pooled", "local", "on_engine", "get_conn", "fresh_cache"):
        assert findings(root, name) == [], name


def test_without_the_thread_check_it_is_still_shared_and_a_pragma_silences_it(app, findings):
    root = app(
        """
        import sqlite3

        _cache = sqlite3.connect("cache.db", check_same_thread=False)


        @router.get("/n")
        def n():  # async-migrate: ignore[AM336] guarded by a lock in the real code
            return {"n": _cache.execute("select 1").fetchone()[0]}


        @router.get("/m")
        def m():
            return {"n": _cache.execute("select 1").fetchone()[0]}
        """
    )
    assert findings(root, "n") == []
    found = findings(root, "m")
    assert [f["code"] for f in found] == ["AM336"], found
    assert "(`check_same_thread=False`)" in found[0]["message"] and "ProgrammingError" not in found[0]["message"]


def test_a_connection_reached_through_names_bound_many_times_is_flagged(app, findings):
    # Each name bound several times from the one before: the search follows every binding, and
    # keeps each answer (without that, bindings to the power of the depth: minutes on airflow).
    rebinds = "\n".join(
        f"            n{level} = n{level - 1} if flag == {k} else n{level - 1}"
        for level in range(1, 8) for k in range(6)
    )
    root = app(
        f"""
        import sqlite3

        _cache = sqlite3.connect("cache.db")


        @router.get("/chain")
        def chain(flag: int):
            n0 = _cache
{rebinds}
            return {{"n": n7.execute("select 1").fetchone()[0]}}
        """
    )
    found = findings(root, "chain")
    assert [f["code"] for f in found] == ["AM336"], found
    assert "`_cache`, a sqlite3 connection" in found[0]["message"], found


def test_a_connection_found_after_a_name_bound_from_itself_many_times_is_flagged(app, findings):
    # `frame = frame.<method>(...)` with six methods: every order of them up to the depth is a new
    # expression (six to the eighth), searched in full before the binding holding the connection.
    rebinds = "\n".join(
        f"            frame = frame.{method}(flag)" for method in ("rename", "drop", "sort", "merge", "pivot", "fill")
    )
    root = app(
        f"""
        import sqlite3

        _cache = sqlite3.connect("cache.db")


        @router.get("/pipeline")
        def pipeline(flag: int, frame: list):
{rebinds}
            rows = frame.rows()
            rows = _cache
            return {{"n": rows.execute("select 1").fetchone()[0]}}
        """
    )
    found = findings(root, "pipeline")
    assert [f["code"] for f in found] == ["AM336"], found
    assert "`_cache`, a sqlite3 connection" in found[0]["message"], found
