"""Phase two run subsystem after subsystem, and on shapes whose stack or holder class is read
from what the subsystem itself does, proved by running the migrated application.

- A shared helper doing only Session work with no I/O (`db.add(...)`) gets a twin that stays a
  plain `def` taking an AsyncSession: a later run for another subsystem reuses it, never adding
  `record_async_2` beside it, and a run on a migrated subsystem changes nothing.
- A subsystem whose routes reach no session dependency and open their Sessions themselves
  (`with database_sessionmaker() as db:`) gets the stack of the sessionmaker they open, not the
  one another router's dependency opens (another database's, committing otherwise).
- A plain class holding the Session (`Tx(db)`, no method of its own) that a route builds moves
  with it: the route's `tx.session.add(...)` runs on the AsyncSession. Where FastAPI builds it
  (`Depends()`) from the synchronous dependency, the route blocks saying so.
"""

from __future__ import annotations

import re

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service

RECORD = """
from sqlalchemy.orm import Session

from models import Item


def record(db: Session, name: str) -> None:
    db.add(Item(name=name, owner_id=1))


def store(db: Session, name: str) -> int:
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.flush()
    return item.id
"""
RECORDING = """
from services import record, store


@router.post("/{name}")
{prefix}def add_{name}(name: str, db: Session = Depends(get_db_session)):
    record(db, name)
    stored = store(db, name + "+")
    db.commit()
    return {{"stored": stored}}
"""
THREE_ROUTERS = """
from fastapi import FastAPI

from api import a, b, c

app = FastAPI()
app.include_router(a.router)
app.include_router(b.router)
app.include_router(c.router)
"""
POST_EACH = """
statuses = [client.post(f"/{name}", params={"name": name}).status_code for name in ("a", "b", "c")]
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)))
print(json.dumps({"statuses": statuses, "names": names}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_def_twin_an_earlier_run_wrote_is_reused_by_the_next_subsystem(cli, service, kind):
    root = service({
        "services.py": dedent(RECORD),
        "main.py": dedent(THREE_ROUTERS),
        # api/c.py stays synchronous: `record` and `store` keep their originals for it
        **{
            f"api/{name}.py": routes(RECORDING.format(name=name, prefix="" if name == "c" else "async "))
            for name in ("a", "b", "c")
        },
    })
    for subsystem in ("api/a.py", "api/b.py"):
        document = apply(cli, root, subsystem=subsystem)
        assert handler(document, f"add_{subsystem[4]}")["action"] == "migrate", subsystem
    text = read(root, "services.py")
    assert re.findall(r"\b\w+_async_\d+\b", text) == [], text
    assert text.count("def record_async(") == 1 and text.count("def store_async(") == 1, text
    assert "calls services.record_async" in " ".join(handler(document, "add_b")["reasons"])
    assert "record_async(db, name)" in read(root, "api/b.py")
    before = {path: path.read_bytes() for path in root.rglob("*.py")}
    for subsystem in ("api/a.py", "api/b.py"):
        assert apply(cli, root, subsystem=subsystem)["files_changed"] == [], subsystem
    assert {path: path.read_bytes() for path in root.rglob("*.py")} == before
    assert serve(root, kind, POST_EACH) == {
        "statuses": [200, 200, 200], "names": ["a", "a+", "b", "b+", "c", "c+"],
    }


OTHER_DATABASE = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

other_engine = create_engine(os.environ["DATABASE_URL"])
OtherSession = sessionmaker(other_engine)


def get_other_db():
    db = OtherSession()
    try:
        yield db
        db.commit()
    finally:
        db.close()
"""
OTHER_ROUTE = """
from db.other import get_other_db


@router.post("/other")
def add_other(name: str, db: Session = Depends(get_other_db)):
    db.add(Item(name=name, owner_id=1))
    return {"ok": True}
"""
OWN_OPENING = """
from db.engine import database_sessionmaker


@router.post("/own")
async def add_own(name: str):
    with database_sessionmaker() as db:
        db.add(Item(name=name, owner_id=1))
        db.commit()
    return {"ok": True}
"""
TWO_ROUTERS = """
from fastapi import FastAPI

from api import other, own

app = FastAPI()
app.include_router(other.router)
app.include_router(own.router)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_subsystem_opening_its_own_sessions_gets_the_stack_of_what_it_opens(cli, service, kind):
    root = service({
        "db/other.py": dedent(OTHER_DATABASE),
        "api/other.py": routes(OTHER_ROUTE),
        "api/own.py": routes(OWN_OPENING),
        "main.py": dedent(TWO_ROUTERS),
    })
    document = apply(cli, root, subsystem="api/own.py")
    found = handler(document, "add_own")
    # Not the other router's `OtherSession`, nor its dependency's commit on exit, blamed here.
    assert found["action"] == "migrate", found
    assert "async with async_database_sessionmaker() as db:" in read(root, "api/own.py")
    assert "async_database_sessionmaker = async_sessionmaker(async_engine" in read(root, "db/engine.py")
    assert read(root, "db/other.py") == dedent(OTHER_DATABASE)
    result = serve(root, kind, """
        statuses = [client.post(path, params={"name": path[1:]}).status_code for path in ("/own", "/other")]
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)))
        print(json.dumps({"statuses": statuses, "names": names}))
    """)
    assert result == {"statuses": [200, 200], "names": ["other", "own"]}


PLAIN_HOLDER = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item


class Tx:
    def __init__(self, session: Session) -> None:
        self.session = session


class InjectedTx:
    def __init__(self, session: Session = Depends(get_db_session)) -> None:
        self.session = session


def record(tx: Tx, name: str) -> None:
    tx.session.add(Item(name=name, owner_id=1))
    tx.session.flush()
"""
THROUGH_HOLDER = """
from services import InjectedTx, Tx, record


@router.post("/items")
async def add_item(name: str, db: Session = Depends(get_db_session)):
    tx = Tx(db)
    record(tx, name)
    tx.session.add(Item(name=name + "+", owner_id=1))
    db.commit()
    return {"ok": True}


@router.post("/injected")
async def add_injected(name: str, tx: InjectedTx = Depends()):
    tx.session.add(Item(name=name, owner_id=1))
    tx.session.commit()
    return {"ok": True}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_holder_class_the_route_builds_moves_with_it(cli, service, kind):
    root = service({"services.py": dedent(PLAIN_HOLDER), test_phase2_soundness.SUBSYSTEM: routes(THROUGH_HOLDER)})
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert "def __init__(self, session: AsyncSession) -> None:" in read(root, "services.py")
    assert "await tx.session.flush()" in read(root, "services.py")
    blocked = handler(document, "add_injected")
    assert blocked["action"] == "blocked"
    reasons = " ".join(blocked["reasons"])
    assert "InjectedTx has no method doing Session work, and FastAPI builds it (`Depends(InjectedTx)`)" in reasons
    assert "call a method of the class" not in reasons
    result = serve(root, kind, """
        statuses = [client.post(path, params={"name": path[1:]}).status_code for path in ("/items", "/injected")]
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)))
        print(json.dumps({"statuses": statuses, "names": names}))
    """)
    assert result == {"statuses": [200, 200], "names": ["injected", "items", "items+"]}
