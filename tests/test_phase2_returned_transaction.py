"""Phase two and a helper returning the Session's transaction or connection straight
(`def begin(self): return self.session.begin()` on a repository, `return db.begin_nested()`),
entered by its callers with `with repo.begin():`: awaited inside the helper, the caller's
`with` got a started AsyncSessionTransaction, which is no synchronous context manager, so
every request failed. Such a helper blocks (AM258, naming the return), the routes calling it
stay synchronous and still write their rows, and a route calling only the repository's other
methods migrates (RUN on SQLite, PostgreSQL and MariaDB)."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

REPOSITORY = """
from sqlalchemy.orm import Session


class TxRepository:
    def __init__(self, session: Session):
        self.session = session

    def begin(self):
        return self.session.begin()

    def savepoint(self):
        return self.session.begin_nested()

    def add(self, obj) -> None:
        self.session.add(obj)

    def commit(self) -> None:
        self.session.commit()


def transaction(db: Session):
    return db.begin()
"""
ROUTES = """
from repository import TxRepository, transaction


def get_repo(db: Session = Depends(get_db_session)) -> TxRepository:
    return TxRepository(db)


@router.post("/begun")
def begun(repo: TxRepository = Depends(get_repo)):
    with repo.begin():
        repo.add(Item(id=1, name="begun", owner_id=1))
    return {"ok": True}


@router.post("/saved")
def saved(repo: TxRepository = Depends(get_repo)):
    with repo.savepoint():
        repo.add(Item(id=2, name="saved", owner_id=1))
    repo.commit()
    return {"ok": True}


@router.post("/helper")
def helper(db: session_dependency):
    with transaction(db):
        db.add(Item(id=3, name="helper", owner_id=1))
    return {"ok": True}


@router.post("/plain")
def plain(repo: TxRepository = Depends(get_repo)):
    repo.add(Item(id=4, name="plain", owner_id=1))
    repo.commit()
    return {"ok": True}
"""
RUN = """
statuses = [client.post(path).status_code for path in ("/begun", "/saved", "/helper", "/plain")]
with Sync() as s:
    names = list(s.scalars(select(Item.name).order_by(Item.id)))
print(json.dumps([statuses, names]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_helper_returning_the_sessions_transaction_blocks_and_the_rest_migrates(cli, service, kind):
    root = service({"repository.py": REPOSITORY, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name, returned in (("begun", "self.session.begin()"), ("saved", "self.session.begin_nested()"),
                           ("helper", "db.begin()")):
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM258" in found["codes"], found
        assert any(f"returns `{returned}`" in reason for reason in found["reasons"]), found["reasons"]
        assert function(root, SUBSYSTEM, name).startswith("def "), name
    assert handler(document, "plain")["action"] == "migrate"
    assert "await repo.commit()" in function(root, SUBSYSTEM, "plain")
    assert serve(root, kind, RUN) == [[200, 200, 200, 200], ["begun", "saved", "helper", "plain"]]
