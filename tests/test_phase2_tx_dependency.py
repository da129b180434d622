"""A dependency wrapping the route in a transaction on the request's Session migrates as an
async twin, and the migrated code commits on success and rolls back on an error, as before.

Each test migrates a small service (`test_phase2_soundness`'s), serves it through TestClient on
the generated async stack (aiosqlite, psycopg, aiomysql) and reads the rows back through a
separate synchronous Session.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness as soundness
from test_phase2_rules import apply, dedent, function, handler, helper, read
from test_phase2_soundness import DEPENDENCIES, KINDS, SUBSYSTEM, routes, serve

service = soundness.service  # the fixture building the sample service

BEGIN = DEPENDENCIES + """

def get_tx_db(db: session_dependency) -> Iterator[Session]:
    with db.begin():
        yield db


TxDb = Annotated[Session, Depends(get_tx_db)]
"""
COMMIT = DEPENDENCIES + """

def get_tx_db(db: Session = Depends(get_db_session)) -> Iterator[Session]:
    try:
        yield db
        db.commit()
    except Exception:
        db.rollback()
        raise


TxDb = Annotated[Session, Depends(get_tx_db)]
"""
SHAPES = {"begin": BEGIN, "commit": COMMIT}
ROUTES = """
from fastapi import HTTPException

from core.dependencies import TxDb


@router.post("/items")
def add_item(name: str, db: TxDb):
    db.add(Item(name=name, owner_id=1))
    db.flush()
    if name == "bad":
        raise HTTPException(409, "bad name")
    return {"ok": True}
"""
OTHER = """
from fastapi import APIRouter

from core.dependencies import TxDb
from models import Item

router = APIRouter()


@router.get("/other")
def count(db: TxDb):
    return {"count": len(db.query(Item).all())}
"""

MAIN = """
from fastapi import FastAPI

from api import items, other

app = FastAPI()
app.include_router(items.router)
app.include_router(other.router)
"""


def _service(service, dependencies: str):  # type: ignore[no-untyped-def]
    return service({
        "core/dependencies.py": "from collections.abc import Iterator\n" + dependencies,
        SUBSYSTEM: routes(ROUTES),
        "api/other.py": OTHER,
        "main.py": MAIN,
    })


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("kind", KINDS)
def test_a_transaction_dependency_commits_on_success_and_rolls_back_on_error(cli, service, kind, shape):
    root = _service(service, SHAPES[shape])
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate"
    assert helper(document, "get_tx_db")["action"] == "twin"
    assert "async def add_item(name: str, db: TxDb_async):" in function(root, SUBSYSTEM, "add_item")
    twin = function(root, "core/dependencies.py", "get_tx_db_async")
    if shape == "begin":
        assert twin == dedent(
            """
            async def get_tx_db_async(db: async_session_dependency) -> AsyncIterator[AsyncSession]:
                async with db.begin():
                    yield db
            """
        )
    else:
        assert "async def get_tx_db_async(db: AsyncSession = Depends(get_async_db_session)) -> AsyncIterator[AsyncSession]:" in twin
        assert "await db.commit()" in twin and "await db.rollback()" in twin
    dependencies = read(root, "core/dependencies.py")
    assert "TxDb_async = Annotated[AsyncSession, Depends(get_tx_db_async)]" in dependencies
    # the sync original stays for the routes that stay (api/other.py)
    assert "def get_tx_db(db" in dependencies and "TxDb = Annotated[Session, Depends(get_tx_db)]" in dependencies
    assert "def count(db: TxDb):" in read(root, "api/other.py")
    result = serve(root, kind, """
        ok = client.post("/items", params={"name": "pen"})
        bad = client.post("/items", params={"name": "bad"})
        other = client.get("/other")
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"ok": ok.status_code, "bad": bad.status_code, "names": names, "other": other.json()}))
    """)
    # committed at the end of the request on success; the flushed row of the failed one rolled back
    assert result == {"ok": 200, "bad": 409, "names": ["pen"], "other": {"count": 1}}


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_transaction_dependency_calling_a_sync_helper_stays_blocked(cli, service, kind):
    dependencies = DEPENDENCIES + """

def audit(db: Session) -> None:
    db.execute(select(User.id).limit(1))


def get_tx_db(db: session_dependency) -> Iterator[Session]:
    with db.begin():
        audit(db)
        yield db


TxDb = Annotated[Session, Depends(get_tx_db)]
"""
    root = _service(service, "from sqlalchemy import select\n\nfrom models import User\n" + dependencies)
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and found["codes"] == ["AM256"], found
    line = next(n for n, text in enumerate(read(root, "core/dependencies.py").splitlines(), 1) if "audit(db)" in text
                and "def" not in text)
    assert f"core/dependencies.py:{line}: `audit(db)` in `get_tx_db` is more than a transaction around the Session" \
        in found["reasons"][0], found["reasons"]
    assert read(root, SUBSYSTEM) == before
    # the unchanged code still commits and rolls back
    result = serve(root, kind, """
        ok = client.post("/items", params={"name": "pen"})
        bad = client.post("/items", params={"name": "bad"})
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"ok": ok.status_code, "bad": bad.status_code, "names": names}))
    """)
    assert result == {"ok": 200, "bad": 409, "names": ["pen"]}


@pytest.mark.parametrize("kind", KINDS)
def test_a_dependency_receiving_the_session_through_the_transaction_dependency_moves_with_it(cli, service, kind):
    # The route names no transaction dependency; the one of its dependency still runs the request
    # in a transaction on the request's one Session, which the twins keep.
    root = service({
        "core/dependencies.py": "from collections.abc import Iterator\n" + BEGIN + """

def get_owner(db: TxDb) -> User:
    return db.get(User, 1)
""",
        SUBSYSTEM: routes("""
            from fastapi import HTTPException

            from core.dependencies import get_owner


            @router.put("/me")
            def rename(name: str, owner: User = Depends(get_owner), db: Session = Depends(get_db_session)):
                owner.name = name
                db.flush()
                if name == "bad":
                    raise HTTPException(409, "bad name")
                return {"id": owner.id}
        """),
    })
    (root / "core/dependencies.py").write_text(
        read(root, "core/dependencies.py").replace("from fastapi import Depends", "from fastapi import Depends\n\nfrom models import User"),
        encoding="utf-8",
    )
    document = apply(cli, root)
    assert handler(document, "rename")["action"] == "migrate", handler(document, "rename")
    assert "async def get_owner_async(db: TxDb_async) -> User:" in read(root, "core/dependencies.py")
    result = serve(root, kind, """
        ok = client.put("/me", params={"name": "Zoe"})
        bad = client.put("/me", params={"name": "bad"})
        with Sync() as s:
            name = s.get(User, 1).name
        print(json.dumps({"ok": ok.status_code, "bad": bad.status_code, "name": name}))
    """)
    assert result == {"ok": 200, "bad": 409, "name": "Zoe"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_transaction_dependency_in_the_route_decorator_moves_with_the_route(cli, service, kind):
    # `dependencies=[Depends(get_tx_db)]` commits the Session the route writes through: the
    # migrated route names its twin, or the rows would never be committed.
    root = service({
        "core/dependencies.py": "from collections.abc import Iterator\n" + COMMIT,
        SUBSYSTEM: routes("""
            from core.dependencies import get_tx_db


            @router.post("/items", dependencies=[Depends(get_tx_db)])
            def add_item(name: str, db: Session = Depends(get_db_session)):
                db.add(Item(name=name, owner_id=1))
                return {"ok": True}
        """),
    })
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert '@router.post("/items", dependencies=[Depends(get_tx_db_async)])' in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        ok = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"ok": ok.status_code, "names": names}))
    """)
    assert result == {"ok": 200, "names": ["pen"]}
