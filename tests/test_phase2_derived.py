"""Phase two's soundness: objects taken from the Session (`begin_nested()`, `begin()`,
`connection()`) have coroutine methods too on AsyncSession. The migrated routes are RUN with
TestClient on aiosqlite: a savepoint rolled back discards its rows, a transaction committed
keeps them, a connection's query answers."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

DERIVED = """
@router.post("/savepoint")
def savepoint(db: session_dependency):
    db.add(User(id=3, name="kept"))
    sp = db.begin_nested()
    db.add(User(id=4, name="discarded"))
    db.flush()
    sp.rollback()
    db.commit()
    return {"ok": True}
""", """
@router.get("/conn")
def conn(db: session_dependency):
    c = db.connection()
    n = c.execute(select(func.count(User.id))).scalar()
    return {"n": n}
""", """
@router.post("/tx")
def tx(db: session_dependency):
    t = db.begin()
    db.add(User(id=5, name="tx"))
    t.commit()
    return {"ok": True}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_coroutine_methods_of_a_transaction_or_connection_from_the_session_are_awaited(cli, service, kind):
    root = service({SUBSYSTEM: routes(*DERIVED)})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "savepoint": "migrate", "conn": "migrate", "tx": "migrate",
    }
    assert "    await sp.rollback()\n" in function(root, SUBSYSTEM, "savepoint")
    assert "n = (await c.execute(select(func.count(User.id)))).scalar()" in function(root, SUBSYSTEM, "conn")
    assert "    await t.commit()\n" in function(root, SUBSYSTEM, "tx")
    result = serve(root, kind, """
        saved = client.post("/savepoint").status_code
        counted = client.get("/conn").json()
        committed = client.post("/tx").status_code
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"status": [saved, committed], "counted": counted, "names": names}))
    """)
    assert result == {"status": [200, 200], "counted": {"n": 3}, "names": ["Ann", "Bob", "kept", "tx"]}


HELD = """
class UserRepo:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add_discarded(self) -> None:
        self.db.add(User(id=3, name="kept"))
        sp = self.db.begin_nested()
        self.db.add(User(id=4, name="discarded"))
        self.db.flush()
        sp.rollback()
        self.db.commit()
""", """
@router.post("/held-savepoint")
def held_savepoint(db: session_dependency):
    UserRepo(db).add_discarded()
    return {"ok": True}
"""


# A coroutine method called straight on the Session's connection or savepoint, never bound
# (`db.connection().execute(stmt).rowcount`): awaited with the Session's call under it, where
# phase two blocked the route (AM258).
CHAINED = """
@router.post("/rename/{user_id}")
def rename(user_id: int, name: str, db: session_dependency):
    n = db.connection().execute(update(User).where(User.id == user_id).values(name=name)).rowcount
    db.commit()
    return {"n": n}
""", """
@router.post("/discard")
def discard(db: session_dependency):
    db.begin_nested()
    db.add(User(id=6, name="gone"))
    db.flush()
    db.get_nested_transaction().rollback()
    db.commit()
    return {"ok": True}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_coroutine_method_called_straight_on_the_sessions_connection_is_awaited_with_it(cli, service, kind):
    source = routes(*CHAINED).replace("from sqlalchemy import func, select", "from sqlalchemy import func, select, update")
    root = service({SUBSYSTEM: source})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"rename": "migrate", "discard": "migrate"}
    assert "n = (await (await db.connection()).execute(update(User)" in function(root, SUBSYSTEM, "rename")
    assert "    await db.get_nested_transaction().rollback()\n" in function(root, SUBSYSTEM, "discard")
    result = serve(root, kind, """
        renamed = client.post("/rename/1", params={"name": "Zoe"}).json()
        discarded = client.post("/discard").status_code
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"renamed": renamed, "discarded": discarded, "names": names}))
    """)
    assert result == {"renamed": {"n": 1}, "discarded": 200, "names": ["Zoe", "Bob"]}


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_savepoint_from_a_held_session_is_awaited_and_discards_its_rows(cli, service, kind):
    root = service({SUBSYSTEM: routes(*HELD)})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"held_savepoint": "migrate"}
    assert "        await sp.rollback()\n" in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        status = client.post("/held-savepoint").status_code
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"status": status, "names": names}))
    """)
    assert result == {"status": 200, "names": ["Ann", "Bob", "kept"]}


PAGED = """
from fastapi_pagination import Page, Params
from fastapi_pagination.ext.sqlalchemy import paginate
from pydantic import BaseModel


class UserRow(BaseModel):
    id: int
    name: str
""", """
@router.get("/conn-page", response_model=Page[UserRow])
def conn_page(db: session_dependency):
    return paginate(db.connection(), select(User.id, User.name).order_by(User.id), Params(page=1, size=1))
""", """
@router.get("/named-conn-page", response_model=Page[UserRow])
def named_conn_page(db: session_dependency):
    conn = db.connection()
    return paginate(conn, select(User.id, User.name).order_by(User.id.desc()), Params(page=1, size=1))
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_mapped_call_given_the_sessions_connection_takes_its_async_form(cli, service, kind):
    # On AsyncSession `db.connection()` is an AsyncConnection: the sync `paginate` on it fails
    # ("Coroutine ... is not allowed in sync flow"); `apaginate` takes it.
    root = service({SUBSYSTEM: routes(*PAGED)})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "conn_page": "migrate", "named_conn_page": "migrate",
    }
    assert "return await apaginate(await db.connection(), " in function(root, SUBSYSTEM, "conn_page")
    assert "return await apaginate(conn, " in function(root, SUBSYSTEM, "named_conn_page")
    result = serve(root, kind, """
        pages = [client.get(p).json() for p in ("/conn-page", "/named-conn-page")]
        print(json.dumps([{"total": page["total"], "items": page["items"]} for page in pages]))
    """)
    assert result == [
        {"total": 2, "items": [{"id": 1, "name": "Ann"}]}, {"total": 2, "items": [{"id": 2, "name": "Bob"}]},
    ]


HANDED = """
from sqlalchemy import Connection


def count_users(connection: Connection) -> int:
    return connection.execute(select(func.count(User.id))).scalar_one()
""", """
@router.get("/handed")
def handed(db: session_dependency):
    return {"n": count_users(db.connection())}
""", """
@router.get("/named-handed")
def named_handed(db: session_dependency):
    conn = db.connection()
    return {"n": count_users(conn)}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_the_sessions_connection_handed_to_a_function_expecting_a_sync_one_blocks_naming_it(cli, service, kind):
    # Migrated, `count_users(await db.connection())` hands it an AsyncConnection: its execute()
    # is a coroutine, and `.scalar_one()` on it fails on every request.
    root = service({SUBSYSTEM: routes(*HANDED)})
    document = apply(cli, root)
    found = {h["function"]: h for h in document["handlers"]}
    assert (found["handed"]["action"], found["handed"]["codes"]) == ("blocked", ["AM258"]), found["handed"]
    assert "passes `db.connection()` straight to `count_users()`, which would get the AsyncConnection where it " \
        "expects the synchronous object" in found["handed"]["reasons"][0]
    assert (found["named_handed"]["action"], found["named_handed"]["codes"]) == ("blocked", ["AM258"])
    assert "passes `conn` (from the Session's `connection()`) to `count_users()`" in (
        found["named_handed"]["reasons"][0]
    )
    assert function(root, SUBSYSTEM, "handed").startswith("def handed(")
    result = serve(root, kind, """
        print(json.dumps([client.get(p).json() for p in ("/handed", "/named-handed")]))
    """)
    assert result == [{"n": 2}, {"n": 2}]


def test_the_sessions_connection_handed_to_a_library_call_blocks_naming_it(cli, service):
    root = service({SUBSYSTEM: routes("""
        import pandas as pd


        @router.get("/frame")
        def frame(db: session_dependency):
            return pd.read_sql(select(User.name), db.connection()).to_dict()
        """)})
    document = run(cli, root)
    found = next(h for h in document["handlers"] if h["function"] == "frame")
    assert found["action"] == "blocked" and "AM258" in found["codes"], found
    assert any("passes `db.connection()` straight to `pandas.read_sql()`" in r for r in found["reasons"]), found


# Attributes of the Session's connection: those the AsyncConnection reads alike (and its awaited
# `get_isolation_level()`) migrate and answer; the DBAPI connection, which it refuses, blocks.
CONNECTION_ATTRIBUTES = """
@router.post("/described")
def described(db: session_dependency):
    c = db.connection()
    level = c.get_isolation_level()
    c.info["request"] = "described"
    db.add(User(id=3, name=c.dialect.name))
    db.commit()
    return {"dialect": db.connection().dialect.name, "level": bool(level)}
""", """
@router.get("/raw")
def raw(db: session_dependency):
    cursor = db.connection().connection.cursor()
    cursor.execute("SELECT COUNT(*) FROM users")
    return {"n": cursor.fetchone()[0]}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_attributes_of_the_sessions_connection_read_alike_migrate_and_the_dbapi_connection_blocks(cli, service, kind):
    root = service({SUBSYSTEM: routes(*CONNECTION_ATTRIBUTES)})
    document = apply(cli, root)
    actions = {h["function"]: h for h in document["handlers"]}
    assert actions["described"]["action"] == "migrate", actions["described"]
    assert actions["raw"]["action"] == "blocked" and "AM258" in actions["raw"]["codes"], actions["raw"]
    assert "    level = await c.get_isolation_level()\n" in function(root, SUBSYSTEM, "described")
    result = serve(root, kind, """
        answer = client.post("/described").json()
        raw = client.get("/raw").json()
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"answer": answer, "raw": raw, "names": names}))
    """)
    dialect = {"sqlite": "sqlite", "postgres": "postgresql"}[kind]
    assert result == {"answer": {"dialect": dialect, "level": True}, "raw": {"n": 3}, "names": ["Ann", "Bob", dialect]}


# `yield_per()` on a Result the Session call already ran chunks it: AsyncSession's Result is
# buffered and chunks the same, so the route migrates and answers every row.
CHUNKS = """
@router.get("/chunks")
def chunks(db: session_dependency):
    first = [list(p) for p in db.scalars(select(User.id).order_by(User.id)).yield_per(1).partitions()]
    result = db.execute(select(User.name).order_by(User.id))
    return {"ids": first, "names": [list(p) for p in result.scalars().yield_per(1).partitions()]}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_yield_per_on_a_result_the_session_ran_migrates_and_chunks_every_row(cli, service, kind):
    root = service({SUBSYSTEM: routes(CHUNKS)})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"chunks": "migrate"}, document["handlers"]
    result = serve(root, kind, """
        print(json.dumps(client.get("/chunks").json()))
    """)
    assert result == {"ids": [[1], [2]], "names": [["Ann"], ["Bob"]]}
