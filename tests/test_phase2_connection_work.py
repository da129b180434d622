"""Phase two beside a synchronous Connection the request shares: a route doing Session work and
Connection work (a Connection dependency, a repository built on one, a helper handed one) stays
`def` on the synchronous Session, naming the dependency (AM279); a session dependency opening
its Session on that Connection blocks naming the shared transaction (AM271), so no half of a
transaction moves. The routes are RUN on aiosqlite: the migrated one writes through the
AsyncSession, the blocked ones still commit their Connection's rows."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

CONNECTION = """
from sqlalchemy import Connection, insert

from db.engine import engine


def get_conn():
    with engine.begin() as conn:
        yield conn


class UserLedger:
    def __init__(self, conn):
        self.conn = conn

    def count(self) -> int:
        return self.conn.execute(select(func.count(User.id))).scalar_one()


def get_ledger(conn=Depends(get_conn)) -> UserLedger:
    return UserLedger(conn)


def get_session_ledger(db: session_dependency) -> UserLedger:
    return UserLedger(db.connection())


def name_of(conn, user_id):
    return conn.execute(select(User.name).where(User.id == user_id)).scalar_one()
"""
SHARED = CONNECTION, """
@router.post("/plain")
def plain(db: session_dependency):
    db.add(User(id=3, name="plain"))
    db.commit()
    return {"ok": True}
""", """
@router.post("/with-conn")
def with_conn(db: session_dependency, conn: Connection = Depends(get_conn)):
    db.add(User(id=4, name="session"))
    db.commit()
    conn.execute(insert(User).values(id=5, name="conn"))
    return {"ok": True}
""", """
@router.get("/with-ledger")
def with_ledger(db: session_dependency, ledger: UserLedger = Depends(get_ledger)):
    return {"n": ledger.count(), "first": db.get(User, 1).name}
""", """
@router.get("/with-helper")
def with_helper(db: session_dependency, conn=Depends(get_conn)):
    return {"name": name_of(conn, 2), "n": db.scalar(select(func.count(User.id)))}
""", """
@router.get("/on-the-session")
def on_the_session(db: session_dependency, ledger: UserLedger = Depends(get_session_ledger)):
    return {"n": ledger.count(), "first": db.get(User, 1).name}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_route_working_on_a_dependencys_connection_stays_def_naming_it(cli, service, kind):
    root = service({SUBSYSTEM: routes(*SHARED)})
    document = apply(cli, root)
    found = {h["function"]: h for h in document["handlers"]}
    assert {name: h["action"] for name, h in found.items()} == {
        "plain": "migrate", "with_conn": "blocked", "with_ledger": "blocked", "with_helper": "blocked",
        "on_the_session": "blocked",
    }
    # The Session's own connection handed to the ledger by a dependency: Session work, which AM258
    # names; no advice to move it to the async engine.
    assert found["on_the_session"]["codes"] == ["AM258"], found["on_the_session"]
    for name, dependency in (("with_conn", "conn"), ("with_ledger", "ledger"), ("with_helper", "conn")):
        assert found[name]["codes"] == ["AM279"], found[name]
        assert f"`{dependency}` (`Depends(get_" in found[name]["reasons"][0], found[name]["reasons"]
        assert "works on the request's synchronous Connection" in found[name]["reasons"][0]
        assert function(root, SUBSYSTEM, name).startswith(f"def {name}(")
    assert function(root, SUBSYSTEM, "plain").startswith("async def plain(")
    result = serve(root, kind, """
        status = [client.post("/plain").status_code, client.post("/with-conn").status_code]
        read = [client.get(p).json() for p in ("/with-ledger", "/with-helper", "/on-the-session")]
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"status": status, "read": read, "names": names}))
    """)
    assert result == {
        "status": [200, 200],
        "read": [{"n": 5, "first": "Ann"}, {"name": "Bob", "n": 5}, {"n": 5, "first": "Ann"}],
        "names": ["Ann", "Bob", "plain", "session", "conn"],
    }


JOINED = CONNECTION, """
def get_tx_session(conn: Connection = Depends(get_conn)):
    with Session(bind=conn) as session:
        yield session
""", """
@router.post("/issue")
def issue(db: Session = Depends(get_tx_session), conn: Connection = Depends(get_conn)):
    db.add(User(id=3, name="orm"))
    db.flush()
    conn.execute(insert(User).values(id=4, name="core"))
    return {"ok": True}
""", """
@router.post("/void")
def void(db: Session = Depends(get_tx_session)):
    db.add(User(id=5, name="void"))
    db.flush()
    return {"ok": True}
"""


def test_a_session_joining_the_requests_connection_moves_no_half_of_the_transaction(cli, service):
    root = service({SUBSYSTEM: routes(*JOINED)})
    document = apply(cli, root)
    found = {h["function"]: h for h in document["handlers"]}
    assert {name: h["action"] for name, h in found.items()} == {"issue": "blocked", "void": "blocked"}
    assert found["void"]["codes"] == ["AM271"], found["void"]
    reason = found["void"]["reasons"][0]
    assert "opens its Session on the request's synchronous Connection `conn` (`Depends(get_conn)`)" in reason
    assert "one transaction, which an AsyncSession cannot join" in reason
    assert "write the async dependency by hand with the same statements and parameters" not in reason
    assert function(root, SUBSYSTEM, "issue").startswith("def issue(")
    assert function(root, SUBSYSTEM, "void").startswith("def void(")
    result = serve(root, "sqlite", """
        status = [client.post("/issue").status_code, client.post("/void").status_code]
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"status": status, "names": names}))
    """)
    assert result == {"status": [200, 200], "names": ["Ann", "Bob", "orm", "core", "void"]}
