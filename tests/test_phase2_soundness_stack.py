"""Phase two's soundness, continued: Session aliases in helpers, the generated stack's place
and names, a reused async stack's database, attributes expired by a commit.

As in test_phase2_soundness: a small application on the synchronous stack is migrated with
`phase2 --apply`, then RUN with TestClient, and the database is read back through a separate
synchronous session.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, function, handler, helper, read
from test_phase2_soundness import ENGINE, KINDS, MAIN, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

CRUD = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item

SessionDep = Annotated[Session, Depends(get_db_session)]


def add_item(db: SessionDep, name: str) -> Item:
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return item
"""
OTHER = """
from fastapi import APIRouter

from core.crud import SessionDep, add_item

router = APIRouter()


@router.post("/other")
def create_other(name: str, db: SessionDep):
    return {"name": add_item(db, name).name}
"""
TWO_ROUTERS = MAIN.replace(
    "from api.items import router", "from api.items import router\nfrom api.other import router as other"
) + "app.include_router(other)\n"


# ------------------------------------------- 3. helpers typed with a Session alias


@pytest.mark.parametrize("kind", KINDS[:2])
def test_3_helpers_typed_with_a_session_alias_migrate_and_their_writes_land(cli, service, kind):
    root = service({
        "core/crud.py": dedent(CRUD),
        "api/other.py": dedent(OTHER),
        "main.py": dedent(TWO_ROUTERS),
        SUBSYSTEM: routes(
            """
            def rename(db: session_dependency, item_id: int, name: str) -> None:
                db.get(Item, item_id).name = name
                db.commit()
            """,
            """
            def count_items(db: "Session") -> int:
                return db.scalar(select(func.count()).select_from(Item))
            """,
            """
            @router.post("/items")
            def create(name: str, db: session_dependency):
                item = add_item(db, name)
                rename(db, item.id, name + "!")
                return {"count": count_items(db)}
            """,
        ).replace("from models import Item, User", "from core.crud import add_item\nfrom models import Item, User"),
    })
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    assert helper(document, "rename")["action"] == "migrate"
    assert helper(document, "count_items")["action"] == "migrate"
    # shared with the other router, which stays synchronous: a twin, under a name that exists
    assert helper(document, "add_item")["action"] == "twin"
    assert function(root, "core/crud.py", "add_item_async").startswith(
        "async def add_item_async(db: AsyncSession, name: str) -> Item:"
    )
    assert function(root, SUBSYSTEM, "rename").startswith("async def rename(db: AsyncSession, item_id: int")
    assert function(root, SUBSYSTEM, "count_items").startswith('async def count_items(db: "AsyncSession") -> int:')
    assert "def add_item(db: SessionDep, name: str) -> Item:" in read(root, "core/crud.py")
    result = serve(root, kind, """
        migrated = client.post("/items", params={"name": "cup"}).json()
        synchronous = client.post("/other", params={"name": "pen"}).json()
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"migrated": migrated, "sync": synchronous, "names": names}))
    """)
    assert result == {"migrated": {"count": 1}, "sync": {"name": "pen"}, "names": ["cup!", "pen"]}


def test_3_near_miss_a_name_that_only_starts_like_the_session_type_is_not_renamed(cli, service):
    """`SessionDep` contains `Session`: only the whole name is the Session type."""
    root = service({
        SUBSYSTEM: routes(
            """
            SessionLike = int


            def add(db: session_dependency, name: str, limit: SessionLike) -> None:
                db.add(Item(name=name, owner_id=limit))
                db.commit()
            """,
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                add(db, name, 1)
            """,
        )
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "add").startswith(
        "async def add(db: AsyncSession, name: str, limit: SessionLike) -> None:"
    )


# ------------------------------------------- 4. where the generated stack goes, and its names


LATE_IMPORTS_ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker


def _async_url(url):
    return "the project's own: " + str(url)


engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)

from sqlalchemy import URL  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_4_the_generated_stack_goes_below_later_imports_and_never_takes_a_projects_name(cli, service, kind):
    root = service({
        "db/engine.py": dedent(LATE_IMPORTS_ENGINE),
        SUBSYSTEM: routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                db.add(Item(name=name, owner_id=1))
                db.commit()
                return {"ok": True}
            """,
        ),
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    engine = read(root, "db/engine.py")
    # the project's function is untouched and the generated one has a name of its own
    assert function(root, "db/engine.py", "_async_url") == dedent(
        """
        def _async_url(url):
            return "the project's own: " + str(url)
        """
    )
    assert "async_engine = create_async_engine(_async_url_2(engine.url))" in engine
    assert engine.index("from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402") < engine.index(
        "async def get_async_db_session"
    )
    result = serve(root, kind, """
        response = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": response.status_code, "items": items}))
    """)
    assert result == {"status": 200, "items": ["pen"]}


def test_4_near_miss_without_a_later_import_the_stack_follows_the_sessionmaker(cli, service):
    root = service({
        SUBSYSTEM: routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                db.add(Item(name=name, owner_id=1))
                db.commit()
            """,
        ),
    })
    apply(cli, root)
    engine = read(root, "db/engine.py")
    assert "def _async_url(url: URL) -> URL:" in engine
    assert engine.index("database_sessionmaker = sessionmaker(") < engine.index("def _async_url(") < engine.index(
        "def get_db_session("
    )


def test_4_a_configured_stack_name_bound_by_a_class_blocks_naming_it(cli, service):
    root = service({
        "db/engine.py": dedent(ENGINE) + "\n\n\nclass async_engine:\n    pass\n",
        SUBSYSTEM: routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                db.add(Item(name=name, owner_id=1))
                db.commit()
            """,
        ),
    })
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked"
    assert "AM232" in found["codes"]
    assert any("`async_engine` is a class here" in reason for reason in found["reasons"]), found["reasons"]
    assert "create_async_engine" not in read(root, "db/engine.py")


# ------------------------------------------- 1. a reused async stack and its database


def existing_async(engine_url: str, maker: str = "async_sessionmaker(async_engine, expire_on_commit=False)") -> str:
    """The usual engine module with an async stack of the project's own beside it."""
    return dedent(ENGINE) + "\n\n\n" + dedent(
        f"""
        from collections.abc import AsyncIterator

        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

        ASYNC_DRIVERS = {{"sqlite": "sqlite+aiosqlite", "postgresql+psycopg": "postgresql+psycopg", "mysql+pymysql": "mysql+aiomysql"}}
        async_engine = create_async_engine({engine_url})
        AsyncSessionLocal = {maker}


        async def get_async_session() -> AsyncIterator[AsyncSession]:
            async with AsyncSessionLocal() as session:
                yield session
        """
    ) + "\n"


CREATE_ITEM = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""
COUNT_ITEMS = """
    response = client.post("/items", params={"name": "pen"})
    with Sync() as s:
        items = list(s.scalars(select(Item.name)).all())
    print(json.dumps({"status": response.status_code, "items": items}))
"""


def test_1_a_reused_async_engine_on_another_database_blocks_and_the_data_lands(cli, service):
    root = service({
        "db/engine.py": existing_async(
            'os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://").replace("app.db", "reports.db")'
        ),
        SUBSYSTEM: routes(CREATE_ITEM),
    })
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM243" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM243")]
    # both sources, each with its line
    assert "db/engine.py:7" in reason and "db/engine.py:21" in reason, reason
    assert 'reports.db' in reason and 'os.environ["DATABASE_URL"]' in reason, reason
    assert "async_engine" not in read(root, SUBSYSTEM)
    assert serve(root, "sqlite", COUNT_ITEMS) == {"status": 200, "items": ["pen"]}


@pytest.mark.parametrize("kind", KINDS)
def test_1_near_miss_a_reused_async_engine_derived_from_the_sync_engine_is_reused(cli, service, kind):
    root = service({
        "db/engine.py": existing_async("engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])"),
        SUBSYSTEM: routes(CREATE_ITEM),
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "get_async_db_session" not in read(root, "db/engine.py")  # no second stack
    assert "Depends(get_async_session)" in read(root, "core/dependencies.py")
    assert serve(root, kind, COUNT_ITEMS) == {"status": 200, "items": ["pen"]}


def test_1_a_reused_async_engine_swapping_the_driver_once_is_reused_and_the_data_lands(cli, service):
    # `.replace(old, new, 1)` is how a hand-written stack often swaps the scheme: the count only
    # stops a second match, and the scheme comes first
    root = service({
        "db/engine.py": existing_async('os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://", 1)'),
        SUBSYSTEM: routes(CREATE_ITEM),
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "get_async_db_session" not in read(root, "db/engine.py")
    assert serve(root, "sqlite", COUNT_ITEMS) == {"status": 200, "items": ["pen"]}


def test_1_near_miss_a_counted_replace_of_the_database_name_still_blocks(cli, service):
    root = service({
        "db/engine.py": existing_async(
            'os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://", 1).replace("app.db", "reports.db", 1)'
        ),
        SUBSYSTEM: routes(CREATE_ITEM),
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM243" in found["codes"], found
