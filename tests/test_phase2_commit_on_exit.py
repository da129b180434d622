"""Phase two keeps a session dependency's commit at the end of a request (rule AM240).

A synchronous dependency that commits after `yield` saves what a route only added or
flushed. The generated async dependency must commit the same way, or those writes are
rolled back while the route still answers 200. Each case is migrated and then RUN.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness as soundness
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve


@pytest.fixture(name="service")
def service_fixture(project):  # type: ignore[no-untyped-def]
    """The soundness tests' application; each test gives its own `db/engine.py` and routes."""

    def build(files: dict[str, str]):  # type: ignore[no-untyped-def]
        return project({
            "db/__init__.py": "", "db/engine.py": soundness.ENGINE, "core/__init__.py": "",
            "core/dependencies.py": soundness.DEPENDENCIES, "api/__init__.py": "",
            "models.py": soundness.MODELS, "main.py": soundness.MAIN, **files,
        })

    return build

COMMITTING_ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    db = database_sessionmaker()
    try:
        yield db
        db.commit()
    except Exception:
        db.rollback()
        raise
    finally:
        db.close()
"""
# The Session bound with an annotation (`db: Session = ...`): an opener all the same, not a
# dependency wrapping another one.
ANNOTATED_ENGINE = COMMITTING_ENGINE.replace("    db = database_sessionmaker()", "    db: Session = database_sessionmaker()")
BEGIN_ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker.begin() as db:
        yield db
"""
# The route only adds and flushes: whether the row survives is the dependency's decision.
FLUSH_ONLY = """
@router.post("/items")
async def create_item(name: str, db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.flush()
    return {"id": item.id}
"""
COUNT = """
response = client.post("/items", params={"name": "kept"})
with Sync() as s:
    saved = s.scalar(select(func.count()).select_from(Item).where(Item.name == "kept"))
print(json.dumps({"status": response.status_code, "saved": saved}))
"""


@pytest.mark.parametrize(
    "engine_source", [COMMITTING_ENGINE, ANNOTATED_ENGINE, BEGIN_ENGINE], ids=["commit-after-yield", "annotated", "begin"]
)
@pytest.mark.parametrize("kind", KINDS)
def test_a_committing_dependency_gets_a_committing_async_dependency(cli, service, kind, engine_source):
    root = service({"db/engine.py": dedent(engine_source) + "\n", SUBSYSTEM: routes(FLUSH_ONLY)})
    assert serve(root, kind, COUNT) == {"status": 200, "saved": 1}  # before: saved by the dependency
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "await session.commit()" in read(root, "db/engine.py")
    assert serve(root, kind, COUNT) == {"status": 200, "saved": 1}  # after: still saved


def test_a_dependency_that_does_not_commit_gets_none(cli, service):
    # Near miss: without a commit in the dependency a flushed row was never saved, and the
    # async dependency must not start saving it.
    root = service({SUBSYSTEM: routes(FLUSH_ONLY)})
    assert serve(root, "sqlite", COUNT) == {"status": 200, "saved": 0}
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "session.commit()" not in read(root, "db/engine.py").split("async def get_async_db_session")[1]
    assert serve(root, "sqlite", COUNT) == {"status": 200, "saved": 0}


EXISTING_ASYNC = """

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db_session():
    async with async_database_sessionmaker() as session:
        yield session
"""


def test_reusing_an_async_dependency_that_does_not_commit_blocks(cli, service):
    root = service({
        "db/engine.py": dedent(COMMITTING_ENGINE) + "\n" + EXISTING_ASYNC,
        SUBSYSTEM: routes(FLUSH_ONLY),
    })
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked"
    assert "AM240" in found["codes"]
    assert "get_async_db_session" in " ".join(found["reasons"])
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", COUNT) == {"status": 200, "saved": 1}  # still on the sync path


def test_dependencies_that_disagree_block(cli, service):
    second = """

def get_readonly_session() -> Iterator[Session]:
    with database_sessionmaker() as db:
        yield db
"""
    root = service({
        "db/engine.py": dedent(COMMITTING_ENGINE) + "\n" + second,
        SUBSYSTEM: routes(
            "from db.engine import get_readonly_session",
            FLUSH_ONLY,
            """
            @router.get("/items/count")
            async def count_items(db: Session = Depends(get_readonly_session)):
                return {"count": db.scalar(select(func.count()).select_from(Item))}
            """,
        ),
    })
    document = apply(cli, root)
    # one async dependency copies one of them: the first route's moves, the other stays naming both
    first, other = (handler(document, name) for name in ("create_item", "count_items"))
    assert first["action"] == "migrate", first
    assert other["action"] == "blocked" and other["codes"] == ["AM240"], other


REPORTS = """
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_readonly_session
from models import Item

router = APIRouter()


@router.get("/items/count")
async def count_items(db: Session = Depends(get_readonly_session)):
    return {"count": db.scalar(select(func.count()).select_from(Item))}
"""
BOTH_ROUTERS = """
from fastapi import FastAPI

from api import items, reports

app = FastAPI()
app.include_router(items.router)
app.include_router(reports.router)
"""
COUNT_BOTH = COUNT.replace(
    "print(json.dumps({", 'counted = client.get("/items/count").json()["count"]\nprint(json.dumps({"counted": counted, '
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_dependency_only_other_routers_use_does_not_block(cli, service, kind):
    # `get_readonly_session` does not commit, `get_db_session` does; only api/reports.py
    # injects the first. The subsystem api/items.py reaches one dependency, and its async
    # dependency commits as that one does.
    second = """

def get_readonly_session() -> Iterator[Session]:
    with database_sessionmaker() as db:
        yield db
"""
    root = service({
        "db/engine.py": dedent(COMMITTING_ENGINE) + "\n" + second,
        SUBSYSTEM: routes(FLUSH_ONLY),
        "api/reports.py": dedent(REPORTS),
        "main.py": dedent(BOTH_ROUTERS),
    })
    assert serve(root, kind, COUNT_BOTH) == {"counted": 1, "status": 200, "saved": 1}
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "await session.commit()" in read(root, "db/engine.py")
    assert serve(root, kind, COUNT_BOTH) == {"counted": 1, "status": 200, "saved": 1}
    # The other router's subsystem would reuse the committing async dependency: blocked, named.
    reports = read(root, "api/reports.py")
    document = apply(cli, root, subsystem="api/reports.py")
    found = handler(document, "count_items")
    assert found["action"] == "blocked" and "AM240" in found["codes"], found
    assert "get_async_db_session" in " ".join(found["reasons"])
    assert read(root, "api/reports.py") == reports


# `current_session()` is typed `-> Session` but is a plain getter no route injects; the routes
# reach `get_db_session` only through a class dependency's `__init__`.
GETTER = """

_request_session: ContextVar[Session | None] = ContextVar("request_session", default=None)


def current_session() -> Session:
    session = _request_session.get()
    if session is None:
        raise RuntimeError("no Session bound to this request")
    return session
"""
THROUGH_CLASS = """
class ItemService:
    def __init__(self, db: Session = Depends({dependency})) -> None:
        self.db = db

    def create(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.flush()
        return item


@router.post("/items")
async def create_item(name: str, service: ItemService = Depends()):
    return {{"id": service.create(name).id}}
"""


def test_a_plain_getter_typed_session_is_not_a_dependency_that_disagrees(cli, service):
    # The dependency is found through the class's `__init__`: the getter, which does not
    # commit, is no session dependency of any route and does not block the subsystem.
    engine = dedent(COMMITTING_ENGINE).replace("import os\n", "import os\nfrom contextvars import ContextVar\n")
    root = service({
        "db/engine.py": engine + "\n" + GETTER,
        SUBSYSTEM: routes(THROUGH_CLASS.format(dependency="get_db_session")),
    })
    assert serve(root, "sqlite", COUNT) == {"status": 200, "saved": 1}
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "migrate", found
    assert "await session.commit()" in read(root, "db/engine.py")
    assert serve(root, "sqlite", COUNT) == {"status": 200, "saved": 1}  # still committed at the end


def test_dependencies_that_disagree_through_a_class_dependency_block(cli, service):
    # Near miss: a dependency that does not commit, reached only through a class's `__init__`,
    # disagrees with one a route injects directly.
    second = """

def get_readonly_session() -> Iterator[Session]:
    with database_sessionmaker() as db:
        yield db
"""
    root = service({
        "db/engine.py": dedent(COMMITTING_ENGINE) + "\n" + second,
        SUBSYSTEM: routes(
            "from db.engine import get_readonly_session",
            THROUGH_CLASS.format(dependency="get_readonly_session").replace("/items\"", "/items/service\""),
            FLUSH_ONLY.replace("create_item", "create_plain"),
        ),
    })
    document = apply(cli, root)
    # one async dependency copies one of them: the first route's moves, the other stays naming both
    first, other = (handler(document, name) for name in ("create_item", "create_plain"))
    assert first["action"] == "migrate", first
    assert other["action"] == "blocked" and other["codes"] == ["AM240"], other
