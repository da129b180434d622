"""An import phase two adds must not close a cycle of module-level imports.

The hand-written async stack (`get_async_db_session` and its alias `AsyncSessionDep`) lives in
a router module, `api/reports.py`, which imports `paginate` from `helpers.py`. A dependency in
`helpers.py` sharing the route's Session (`current_user(db: session_dependency)`) gets an async
twin annotated with that alias: phase two added `from api.reports import AsyncSessionDep` to
`helpers.py`, a cycle (`ImportError: cannot import name 'paginate' from partially initialized
module`), said "wrote 2 files" and exited 0. The route reaching the twin now blocks, naming the
modules of the cycle, and the rest migrate; the application is imported and RUN. Near misses:
no cycle (paginate elsewhere, or imported by the router only under `if TYPE_CHECKING:`), and
the import is written and run.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, function, handler, read
from test_phase2_soundness import ENGINE, KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ENGINE_TAIL = """

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_engine = create_async_engine(
    os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://")
    .replace("postgresql://", "postgresql+psycopg://").replace("mysql+pymysql://", "mysql+aiomysql://")
)
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)
"""
REPORTS = """
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import async_database_sessionmaker
from PAGING import paginate
from models import Item


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session


AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_db_session)]

router = APIRouter()


@router.get("/reports/items")
async def item_names(db: AsyncSessionDep):
    return list(await db.scalars(paginate(select(Item.name).order_by(Item.id))))
"""
PAGING = """
from sqlalchemy import Select


def paginate(stmt: Select, limit: int = 10) -> Select:
    return stmt.limit(limit)
"""
HELPERS = """
from fastapi import HTTPException

from core.dependencies import session_dependency
from models import User

PAGING_IMPORT


def current_user(db: session_dependency) -> User:
    user = db.get(User, 1)
    if user is None:
        raise HTTPException(status_code=404, detail="no user")
    return user
"""
ROUTES = """
from typing import Annotated

from helpers import current_user

CurrentUser = Annotated[User, Depends(current_user)]


@router.post("/items")
def create_item(name: str, db: session_dependency, user: CurrentUser):
    db.add(Item(name=f"{name} by {user.name}", owner_id=user.id))
    db.commit()
    return {"ok": True}


@router.post("/plain-items")
def create_plain_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=2))
    db.commit()
    return {"ok": True}
"""
MAIN = """
from fastapi import FastAPI

from api import items, reports

app = FastAPI()
app.include_router(items.router)
app.include_router(reports.router)
"""
SCRIPT = """
made = client.post("/items", params={"name": "pen"})
plain = client.post("/plain-items", params={"name": "cup"})
listed = client.get("/reports/items")
with Sync() as s:
    rows = sorted(s.scalars(select(Item.name)))
print(json.dumps({
    "status": [made.status_code, plain.status_code, listed.status_code], "listed": listed.json(), "rows": rows,
}))
"""
RAN = {"status": [200, 200, 200], "listed": ["pen by Ann", "cup"], "rows": ["cup", "pen by Ann"]}
SERVICE = """
from sqlalchemy import Select

from helpers import paginate as _paginate


def paginate(stmt: Select) -> Select:
    return _paginate(stmt)
"""
# Where helpers.py keeps paginate, and what api/reports.py imports it from.
CYCLES = {
    # api.reports imports helpers
    "direct": ("from paging import paginate as paginate", "helpers", {}),
    # api.reports -> services.listing -> helpers
    "chain": ("from paging import paginate as paginate", "services.listing", {
        "services/__init__.py": "", "services/listing.py": SERVICE,
    }),
}


def _files(paging_import: str, reports_from: str, extra: dict[str, str]) -> dict[str, str]:
    helpers = dedent(HELPERS).replace("PAGING_IMPORT", paging_import)
    return {
        "db/engine.py": ENGINE + ENGINE_TAIL,
        "api/reports.py": dedent(REPORTS).replace("PAGING", reports_from),
        "paging.py": PAGING,
        "helpers.py": helpers,
        "main.py": MAIN,
        SUBSYSTEM: routes(ROUTES),
        "pyproject.toml": '[tool.async-migrate]\nasync-dependency = "get_async_db_session"\n',
        **extra,
    }


def _cycle_run(cli, service, shape: str) -> object:  # type: ignore[no-untyped-def]
    paging_import, reports_from, extra = CYCLES[shape]
    root = service(_files(paging_import, reports_from, extra))
    document = apply(cli, root)
    blocked = handler(document, "create_item")
    assert blocked["action"] == "blocked", blocked
    why = " ".join(blocked["reasons"])
    ring = " -> ".join(["helpers", "api.reports", *([reports_from] if reports_from != "helpers" else []), "helpers"])
    assert "import cycle" in why and f"({ring})" in why and "`AsyncSessionDep`" in why, why
    assert handler(document, "create_plain_item")["action"] == "migrate", document["handlers"]
    assert "api.reports" not in read(root, "helpers.py")
    assert function(root, SUBSYSTEM, "create_item").startswith("def create_item(")
    assert function(root, SUBSYSTEM, "create_plain_item").startswith("async def create_plain_item(")
    return root


@pytest.mark.parametrize("kind", KINDS)
def test_an_import_closing_a_cycle_blocks_its_route_and_the_application_still_imports_and_runs(cli, service, kind):
    root = _cycle_run(cli, service, "direct")
    assert serve(root, kind, SCRIPT) == RAN


def test_a_cycle_through_a_chain_of_modules_blocks_too(cli, service):
    root = _cycle_run(cli, service, "chain")
    assert serve(root, "sqlite", SCRIPT) == RAN


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_without_a_cycle_the_import_is_written_and_runs(cli, service, kind):
    root = service(_files("", "paging", {}))
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")["reasons"]
    assert "from api.reports import AsyncSessionDep" in read(root, "helpers.py")
    assert function(root, SUBSYSTEM, "create_item").startswith("async def create_item(")
    assert serve(root, kind, SCRIPT) == RAN


def test_near_miss_an_import_only_under_type_checking_makes_no_cycle(cli, service):
    files = _files("from paging import paginate as paginate", "paging", {})
    files["api/reports.py"] = files["api/reports.py"].replace(
        "from models import Item\n",
        "from models import Item\n\nif TYPE_CHECKING:\n    from helpers import current_user\n",
    ).replace("from typing import Annotated\n", "from typing import TYPE_CHECKING, Annotated\n")
    root = service(files)
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")["reasons"]
    assert "from api.reports import AsyncSessionDep" in read(root, "helpers.py")
    assert serve(root, "sqlite", SCRIPT) == RAN


# The async stack generates its alias, and where it would go closes a cycle: beside the sync
# alias (core/dependencies.py) it would import the hand-written dependency from api/reports.py,
# which imports core.dependencies for its own routes. It goes beside the dependency instead.
DEPENDENCY_ROUTER = """
from collections.abc import AsyncIterator

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dependencies import session_dependency
from db.engine import async_database_sessionmaker
from models import Item


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session


router = APIRouter()


@router.get("/reports/items")
def item_names(db: session_dependency):
    return list(db.scalars(select(Item.name).order_by(Item.id)))
"""
PLAIN_ROUTES = """
@router.post("/plain-items")
def create_plain_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=2))
    db.commit()
    return {"ok": True}
"""
PLAIN_SCRIPT = """
plain = client.post("/plain-items", params={"name": "cup"})
listed = client.get("/reports/items")
with Sync() as s:
    rows = sorted(s.scalars(select(Item.name)))
print(json.dumps({"status": [plain.status_code, listed.status_code], "listed": listed.json(), "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_generated_alias_goes_beside_a_dependency_whose_module_imports_the_sync_one(cli, service, kind):
    root = service({
        "db/engine.py": ENGINE + ENGINE_TAIL,
        "api/reports.py": DEPENDENCY_ROUTER,
        "main.py": MAIN,
        SUBSYSTEM: routes(PLAIN_ROUTES),
        "pyproject.toml": '[tool.async-migrate]\nasync-dependency = "get_async_db_session"\n',
    })
    document = apply(cli, root)
    assert handler(document, "create_plain_item")["action"] == "migrate", document["handlers"]
    assert "async_session_dependency = Annotated[AsyncSession, Depends(get_async_db_session)]" in read(
        root, "api/reports.py"
    )
    assert "get_async_db_session" not in read(root, "core/dependencies.py")
    assert "from api.reports import async_session_dependency" in read(root, SUBSYSTEM)
    assert serve(root, kind, PLAIN_SCRIPT) == {"status": [200, 200], "listed": ["cup"], "rows": ["cup"]}
