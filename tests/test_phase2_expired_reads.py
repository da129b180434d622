"""Phase two's soundness: attributes a commit expires, read afterwards (MissingGreenlet).

A reused async sessionmaker that expires objects on commit, and columns the database computes
on UPDATE: the migrated route gets `await db.refresh(obj)` after the commit and is RUN with
TestClient on aiosqlite and PostgreSQL, answering 200 with the right data.
"""

from __future__ import annotations

import re

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, function, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service
from test_phase2_soundness_stack import existing_async

__all__ = ["service"]  # the fixture, used by name


# ------------------------------------------- 2. attributes a commit expires


SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
"""
EXPIRED_READS = """
@router.post("/items", response_model=ItemOut)
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return item
""", """
@router.put("/users/{user_id}")
def rename_user(user_id: int, name: str, db: session_dependency):
    user = db.get(User, user_id)
    user.name = name
    db.commit()
    return {"id": user.id, "name": user.name}
""", """
@router.delete("/users/{user_id}")
def delete_user(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    db.delete(user)
    db.commit()
    return {"deleted": user.name}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_a_reused_maker_that_expires_on_commit_gets_refreshes_and_the_routes_answer(cli, service, kind):
    root = service({
        "db/engine.py": existing_async(
            "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])",
            maker="async_sessionmaker(async_engine)",  # expire_on_commit=True, the default
        ),
        "schemas.py": dedent(SCHEMAS),
        SUBSYSTEM: routes(*EXPIRED_READS).replace("from models import", "from schemas import ItemOut\nfrom models import"),
    })
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_item": "migrate", "rename_user": "migrate", "delete_user": "migrate",
    }
    # a deleted object is detached by the commit, not expired: a refresh would fail
    assert "refresh" not in function(root, SUBSYSTEM, "delete_user")
    assert "    await db.commit()\n    await db.refresh(item)\n    return item" in function(root, SUBSYSTEM, "create_item")
    assert "    await db.commit()\n    if user is not None:\n        await db.refresh(user)\n" in function(
        root, SUBSYSTEM, "rename_user"
    )
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        renamed = client.put("/users/1", params={"name": "Zoe"})
        deleted = client.delete("/users/2")
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({
            "created": [created.status_code, created.json()["name"]], "renamed": renamed.json(),
            "deleted": [deleted.status_code, deleted.json()], "names": names,
        }))
    """)
    assert result == {
        "created": [200, "pen"], "renamed": {"id": 1, "name": "Zoe"},
        "deleted": [200, {"deleted": "Bob"}], "names": ["Zoe"],
    }


def test_2_near_miss_a_maker_that_keeps_objects_needs_no_refresh(cli, service):
    root = service({
        "db/engine.py": existing_async("engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])"),
        "schemas.py": dedent(SCHEMAS),
        SUBSYSTEM: routes(*EXPIRED_READS).replace("from models import", "from schemas import ItemOut\nfrom models import"),
    })
    apply(cli, root)
    assert "refresh" not in read(root, SUBSYSTEM)


# How the reused stack says whether it expires on commit: `**options` the analysis cannot read
# (counted as expiring; here it does, by default), and a keyword of the dependency's own call
# that overrides a maker which keeps objects. The autoflush the maker states beside the options
# is the synchronous one's: a `**` that might set it would block the routes (AM326).
UNREAD_EXPIRY = {
    "options": {
        "maker": "async_sessionmaker(async_engine, autoflush=True, **SESSION_OPTIONS)",
        "before": "ASYNC_DRIVERS =",
        "after": 'SESSION_OPTIONS = {"info": {"stack": "async"}}\nASYNC_DRIVERS =',
    },
    "call keyword": {
        "maker": "async_sessionmaker(async_engine, expire_on_commit=False)",
        "before": "async with AsyncSessionLocal() as session",
        "after": "async with AsyncSessionLocal(expire_on_commit=True) as session",
    },
}


@pytest.mark.parametrize("kind", KINDS[:2])
@pytest.mark.parametrize("shape", sorted(UNREAD_EXPIRY))
def test_2_a_reused_maker_that_expires_by_options_or_by_its_call_gets_refreshes_and_the_data_lands(
    cli, service, kind, shape
):
    found = UNREAD_EXPIRY[shape]
    engine = existing_async("engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])", maker=found["maker"])
    assert found["before"] in engine
    root = service({
        "db/engine.py": engine.replace(found["before"], found["after"]),
        "schemas.py": dedent(SCHEMAS),
        SUBSYSTEM: routes(*EXPIRED_READS).replace("from models import", "from schemas import ItemOut\nfrom models import"),
    })
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_item": "migrate", "rename_user": "migrate", "delete_user": "migrate",
    }
    assert "get_async_db_session" not in read(root, "db/engine.py")  # the project's stack is reused
    # without these the response model reads expired attributes: ResponseValidationError
    assert "    await db.commit()\n    await db.refresh(item)\n    return item" in function(root, SUBSYSTEM, "create_item")
    assert "    await db.commit()\n    if user is not None:\n        await db.refresh(user)\n" in function(
        root, SUBSYSTEM, "rename_user"
    )
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        renamed = client.put("/users/1", params={"name": "Zoe"})
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({
            "created": [created.status_code, created.json()], "renamed": renamed.json(), "names": names,
            "items": items,
        }))
    """)
    assert result == {
        "created": [200, {"id": 1, "name": "pen"}], "renamed": {"id": 1, "name": "Zoe"},
        "names": ["Zoe", "Bob"], "items": ["pen"],
    }


SERVER_GENERATED_MODELS = user_item_models('revision: Mapped[int] = mapped_column(server_default="0", onupdate=literal_column("revision") + 1)', core='func, literal_column', orm='')


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_a_column_the_database_computes_on_update_is_refreshed_before_it_is_read(cli, service, kind):
    rename_refreshes_the_computed_revision(cli, service, kind, SERVER_GENERATED_MODELS)


def rename_refreshes_the_computed_revision(cli, service, kind: str, models: str) -> None:  # type: ignore[no-untyped-def]
    """`models` maps `Item.revision`, a column the database computes on UPDATE: the migrated
    route refreshes the item after its commit and reads each new revision."""
    root = service({
        "models.py": dedent(models),
        SUBSYSTEM: routes(
            """
            @router.put("/items/{item_id}")
            def rename_item(item_id: int, name: str, db: session_dependency):
                item = db.scalars(select(Item).where(Item.id == item_id)).one()
                item.name = name
                db.commit()
                return {"name": item.name, "revision": item.revision}
            """,
        ),
    })
    document = apply(cli, root)
    assert handler(document, "rename_item")["action"] == "migrate"
    assert "    await db.commit()\n    await db.refresh(item)\n" in function(root, SUBSYSTEM, "rename_item")
    result = serve(root, kind, """
        with Sync() as s:
            s.add(Item(id=1, name="pen", owner_id=1))
            s.commit()
        first = client.put("/items/1", params={"name": "cup"}).json()
        second = client.put("/items/1", params={"name": "mug"}).json()
        print(json.dumps([first, second]))
    """)
    assert result == [{"name": "cup", "revision": 1}, {"name": "mug", "revision": 2}]


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_an_object_changed_only_through_setattr_is_refreshed_after_the_flush_before_its_column_is_read(
    cli, service, kind
):
    # The usual PATCH loop writes the row through setattr(): the flush expires `revision` all the
    # same, and the read between flush and commit was implicit IO (500, MissingGreenlet).
    root = service({
        "models.py": dedent(SERVER_GENERATED_MODELS),
        SUBSYSTEM: routes(
            """
            @router.patch("/items/{item_id}")
            def patch_item(item_id: int, name: str, db: session_dependency):
                item = db.get(Item, item_id)
                for key, value in {"name": name}.items():
                    setattr(item, key, value)
                db.flush()
                revision = item.revision
                db.commit()
                return {"name": item.name, "revision": revision}
            """,
        ),
    })
    document = apply(cli, root)
    assert handler(document, "patch_item")["action"] == "migrate"
    assert "    await db.flush()\n    if item is not None:\n        await db.refresh(item)\n    revision =" in function(
        root, SUBSYSTEM, "patch_item"
    )
    result = serve(root, kind, """
        with Sync() as s:
            s.add(Item(id=1, name="pen", owner_id=1))
            s.commit()
        first = client.patch("/items/1", params={"name": "cup"}).json()
        second = client.patch("/items/1", params={"name": "mug"}).json()
        print(json.dumps([first, second]))
    """)
    assert result == [{"name": "cup", "revision": 1}, {"name": "mug", "revision": 2}]


COLUMN_PROPERTY_MODELS = user_item_models("""
    owner_name = column_property(
        select(User.name).where(User.id == owner_id).correlate_except(User).scalar_subquery()
    )
""", core='select', orm='column_property')


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_a_column_property_the_flush_leaves_unloaded_is_refreshed_also_after_a_partial_refresh(cli, service, kind):
    # The INSERT does not return a SQL-expression column_property: the synchronous route loaded
    # it when read, the async one raised MissingGreenlet. A refresh naming other attributes
    # (`db.refresh(item, ["name"])`) leaves it unloaded.
    root = service({
        "models.py": dedent(COLUMN_PROPERTY_MODELS),
        SUBSYSTEM: routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                item = Item(name=name, owner_id=1)
                db.add(item)
                db.commit()
                return {"name": item.name, "owner": item.owner_name}
            """,
            """
            @router.post("/items/renamed")
            def create_renamed(name: str, db: session_dependency):
                item = Item(name=name, owner_id=2)
                db.add(item)
                db.commit()
                db.refresh(item, ["name"])
                return {"name": item.name, "owner": item.owner_name}
            """,
        ),
    })
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_item": "migrate", "create_renamed": "migrate",
    }
    assert "    await db.commit()\n    await db.refresh(item)\n" in function(root, SUBSYSTEM, "create_item")
    assert "    await db.commit()\n    await db.refresh(item)\n    await db.refresh(item, [\"name\"])\n" in function(
        root, SUBSYSTEM, "create_renamed"
    )
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        renamed = client.post("/items/renamed", params={"name": "cup"})
        print(json.dumps([created.status_code, created.json(), renamed.status_code, renamed.json()]))
    """)
    assert result == [200, {"name": "pen", "owner": "Ann"}, 200, {"name": "cup", "owner": "Bob"}]

# ------------------------------------------- 2. reads the synchronous sessionmaker reloaded


EXPIRING_ENGINE = ("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)")
STALE_READS = """
@router.put("/users/{user_id}/bulk")
def rename_bulk(user_id: int, name: str, db: session_dependency):
    user = db.get(User, user_id)
    db.execute(update(User).where(User.id == user_id).values(name=name))
    db.commit()
    return {"name": user.name}
""", """
@router.put("/users/{user_id}/sql")
def rename_sql(user_id: int, name: str, db: session_dependency):
    user = db.scalars(select(User).where(User.id == user_id)).one()
    db.execute(text("UPDATE users SET name = :n WHERE id = :i"), {"n": name, "i": user_id})
    db.commit()
    return {"name": user.name}
"""


def _stale_reads_app(service, engine: str):  # type: ignore[no-untyped-def]
    source = routes(*STALE_READS).replace("from sqlalchemy import func, select", "from sqlalchemy import func, select, text, update")
    return service({"db/engine.py": engine, SUBSYSTEM: source})


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_a_read_after_commit_the_sync_maker_reloaded_is_refreshed_and_sees_the_update(cli, service, kind):
    from test_phase2_soundness import ENGINE

    root = _stale_reads_app(service, dedent(ENGINE).replace(*EXPIRING_ENGINE))
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"rename_bulk": "migrate", "rename_sql": "migrate"}
    assert "    await db.commit()\n    if user is not None:\n        await db.refresh(user)\n" in function(
        root, SUBSYSTEM, "rename_bulk"
    )
    assert "    await db.commit()\n    await db.refresh(user)\n" in function(root, SUBSYSTEM, "rename_sql")
    result = serve(root, kind, """
        bulk = client.put("/users/1/bulk", params={"name": "Zoe"}).json()
        raw = client.put("/users/2/sql", params={"name": "Max"}).json()
        print(json.dumps({"bulk": bulk, "sql": raw}))
    """)
    assert result == {"bulk": {"name": "Zoe"}, "sql": {"name": "Max"}}


# Core statements on a `Table` (`select(users)`, `select(users.c.name)`, `insert(users).returning(
# users.c.id)`) hand back rows and values, never ORM objects, even where a class is mapped to the
# table: read after the commit, they are what they were, on either stack. Phase two blocked them
# as a list it could not refresh.
TABLES = """
from sqlalchemy import Column, Integer, MetaData, String, Table

users = Table("users", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(100)))
"""
TABLE_ROWS = """
@router.post("/users/table-rows")
def table_rows(db: session_dependency):
    rows = db.execute(select(users).order_by(users.c.id)).mappings().all()
    db.execute(update(users).where(users.c.id == 1).values(name="Zed"))
    db.commit()
    return [dict(r) for r in rows]
""", """
@router.post("/users/table-names")
def table_names(db: session_dependency):
    names = db.scalars(select(users.c["name"]).order_by(users.c.id)).all()
    ids = db.scalars(insert(users).returning(users.c.id), [{"id": 3, "name": "Cy"}, {"id": 4, "name": "Di"}]).all()
    db.commit()
    return {"names": list(names), "ids": sorted(ids)}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_rows_of_a_table_read_after_commit_migrate_and_answer_what_was_read(cli, service, kind):
    from test_phase2_soundness import ENGINE

    source = routes(*TABLE_ROWS).replace(
        "from sqlalchemy import func, select", "from sqlalchemy import func, insert, select, update"
    ).replace("from models import Item, User", "from models import Item, User\nfrom tables import users")
    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), "tables.py": TABLES, SUBSYSTEM: source})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"table_rows": "migrate", "table_names": "migrate"}
    result = serve(root, kind, """
        rows = client.post("/users/table-rows").json()
        names = client.post("/users/table-names").json()
        with Sync() as s:
            stored = s.execute(select(User.id, User.name).order_by(User.id)).all()
        print(json.dumps({"rows": rows, "names": names, "stored": [list(r) for r in stored]}))
    """)
    assert result == {
        "rows": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}],
        "names": {"names": ["Zed", "Bob"], "ids": [3, 4]},
        "stored": [[1, "Zed"], [2, "Bob"], [3, "Cy"], [4, "Di"]],
    }


BLOCK_READ = """
@router.put("/users/{user_id}/block")
def rename_in_block(user_id: int, name: str, db: session_dependency):
    with db.begin():
        user = db.scalars(select(User).where(User.id == user_id)).one()
        db.execute(text("UPDATE users SET name = :n WHERE id = :i"), {"n": name, "i": user_id})
    return {"name": user.name}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_a_read_after_a_begin_block_the_sync_maker_reloaded_is_refreshed_after_the_block(cli, service, kind):
    # `with db.begin():` commits where the block ends: the synchronous maker expired `user` there
    # and the read reloaded the row the raw UPDATE changed; the generated maker keeps objects, so
    # without a refresh after the block the route answered the name from before the UPDATE.
    from test_phase2_soundness import ENGINE

    source = routes(BLOCK_READ).replace("from sqlalchemy import func, select", "from sqlalchemy import func, select, text")
    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), SUBSYSTEM: source})
    document = apply(cli, root)
    assert handler(document, "rename_in_block")["action"] == "migrate"
    assert re.search(
        r"    async with db\.begin\(\):\n(        .*\n)+    await db\.refresh\(user\)\n    return ",
        function(root, SUBSYSTEM, "rename_in_block"),
    ), function(root, SUBSYSTEM, "rename_in_block")
    result = serve(root, kind, """
        print(json.dumps(client.put("/users/1/block", params={"name": "Zoe"}).json()))
    """)
    assert result == {"name": "Zoe"}


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_a_reused_maker_that_keeps_objects_refreshes_what_the_sync_maker_reloaded(cli, service, kind):
    from test_phase2_soundness import ENGINE

    engine = existing_async("engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])")
    assert dedent(ENGINE) in engine  # the reused maker keeps objects: expire_on_commit=False
    root = _stale_reads_app(service, engine.replace(*EXPIRING_ENGINE))
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"rename_bulk": "migrate", "rename_sql": "migrate"}
    assert "Depends(get_async_session)" in read(root, "core/dependencies.py")  # reused, not generated
    # without it the route answers the name the row had before the raw UPDATE
    assert "    await db.commit()\n    await db.refresh(user)\n" in function(root, SUBSYSTEM, "rename_sql")
    result = serve(root, kind, """
        bulk = client.put("/users/1/bulk", params={"name": "Zoe"}).json()
        raw = client.put("/users/2/sql", params={"name": "Max"}).json()
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"bulk": bulk, "sql": raw, "names": names}))
    """)
    assert result == {"bulk": {"name": "Zoe"}, "sql": {"name": "Max"}, "names": ["Zoe", "Max"]}


SESSION_CLASS_ENGINE = """
import os
from collections.abc import Iterator
from functools import partial

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = partial(Session, engine)  # for the tests' checks only


def get_db_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_a_session_class_stack_expired_on_commit_so_the_generated_stack_refreshes(cli, service, kind):
    root = _stale_reads_app(service, dedent(SESSION_CLASS_ENGINE))  # Session(engine): expire_on_commit=True
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"rename_bulk": "migrate", "rename_sql": "migrate"}
    assert "expire_on_commit=False" in read(root, "db/engine.py")  # the generated async maker keeps objects
    assert "    await db.commit()\n    await db.refresh(user)\n" in function(root, SUBSYSTEM, "rename_sql")
    result = serve(root, kind, """
        raw = client.put("/users/2/sql", params={"name": "Max"}).json()
        with Sync() as s:
            name = s.get(User, 2).name
        print(json.dumps({"sql": raw, "name": name}))
    """)
    assert result == {"sql": {"name": "Max"}, "name": "Max"}


def test_2_near_miss_a_sync_maker_that_kept_objects_gets_no_refresh(cli, service):
    from test_phase2_soundness import ENGINE

    root = _stale_reads_app(service, dedent(ENGINE))  # expire_on_commit=False: the sync code read stale data too
    apply(cli, root)
    assert "refresh" not in read(root, SUBSYSTEM)


# ------------------------------------------- 3. rollback() and expire() expire whatever the maker says


EXPIRING_CALLS = """
@router.post("/users/{user_id}/clash")
def clash(user_id: int, db: session_dependency):
    user = db.scalars(select(User).where(User.id == user_id)).first()
    dup = User(id=user_id, name="dup")
    db.add(dup)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise HTTPException(status_code=409, detail=f"{user.name} {dup.name}")
    return {"id": dup.id}
""", """
@router.get("/users/{user_id}/expire")
def expire_one(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    db.execute(text("UPDATE users SET name = 'raw' WHERE id = :i"), {"i": user_id})
    db.expire(user)
    return {"name": user.name}
""", """
@router.get("/users/{user_id}/expire-all")
def expire_every(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    db.expire_all()
    return {"name": user.name}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_3_a_read_after_rollback_or_expire_is_refreshed_and_answers(cli, service, kind):
    source = routes(*EXPIRING_CALLS).replace(
        "from fastapi import APIRouter, Depends",
        "from fastapi import APIRouter, Depends, HTTPException\nfrom sqlalchemy.exc import IntegrityError",
    ).replace("from sqlalchemy import func, select", "from sqlalchemy import func, select, text")
    root = service({SUBSYSTEM: source})  # expire_on_commit=False: only the calls expire
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "clash": "migrate", "expire_one": "migrate", "expire_every": "migrate",
    }
    clash = function(root, SUBSYSTEM, "clash")
    assert "await db.rollback()\n        if user is not None:\n            await db.refresh(user)\n" in clash
    assert "refresh(dup)" not in clash  # made here: the rollback expunges it, a refresh would fail
    assert "    db.expire(user)\n    if user is not None:\n        await db.refresh(user)\n" in function(
        root, SUBSYSTEM, "expire_one"
    )
    assert "    db.expire_all()\n    if user is not None:\n        await db.refresh(user)\n" in function(
        root, SUBSYSTEM, "expire_every"
    )
    result = serve(root, kind, """
        clashed = client.post("/users/1/clash")
        expired = client.get("/users/2/expire").json()
        every = client.get("/users/1/expire-all").json()
        print(json.dumps({"clash": [clashed.status_code, clashed.json()], "expire": expired, "all": every}))
    """)
    assert result == {
        "clash": [409, {"detail": "Ann dup"}], "expire": {"name": "raw"}, "all": {"name": "Ann"},
    }


RAISED_AFTER_ROLLBACK = """
@router.put("/users/{user_id}")
def rename(user_id: int, name: str, db: session_dependency):
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404)
    user.name = name
    try:
        db.commit()
    except StaleDataError:
        db.rollback()
        raise HTTPException(status_code=409, detail="changed meanwhile")
    return {"name": user.name}
"""


def test_3_near_miss_a_rollback_followed_by_a_raise_gets_no_refresh_and_a_deleted_row_answers_409(cli, service):
    """`except StaleDataError: db.rollback(); raise HTTPException(409)`: the read after the
    `try` never runs on that path. A refresh added after the rollback ran anyway, and when a
    concurrent request had deleted the row it raised InvalidRequestError: a 500 in place of
    the 409 the synchronous route answered."""
    source = routes(RAISED_AFTER_ROLLBACK).replace(
        "from fastapi import APIRouter, Depends",
        "from fastapi import APIRouter, Depends, HTTPException\nfrom sqlalchemy.orm.exc import StaleDataError",
    )
    root = service({SUBSYSTEM: source})
    document = apply(cli, root)
    assert handler(document, "rename")["action"] == "migrate", document
    rename = function(root, SUBSYSTEM, "rename")
    assert "await db.rollback()\n        raise HTTPException" in rename, rename
    result = serve(root, "sqlite", """
        from sqlalchemy import event, text

        def delete_first(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("UPDATE"):
                with engine.begin() as other:  # another request deletes the row meanwhile
                    other.execute(text("DELETE FROM users WHERE id = 1"))

        renamed = client.put("/users/2", params={"name": "Bea"})
        event.listen(stack.async_engine.sync_engine, "before_cursor_execute", delete_first)
        gone = client.put("/users/1", params={"name": "Al"})
        print(json.dumps({"renamed": [renamed.status_code, renamed.json()], "gone": [gone.status_code, gone.json()]}))
    """)
    assert result == {"renamed": [200, {"name": "Bea"}], "gone": [409, {"detail": "changed meanwhile"}]}


# ------------------------------------------- 4. lists of objects read after the commit


LIST_READS = """
@router.put("/items/rename", response_model=list[ItemOut])
def rename_all(name: str, db: session_dependency):
    items = db.scalars(select(Item).order_by(Item.id)).all()
    for item in items:
        item.name = f"{item.name}-{name}"
    db.commit()
    return items
""", """
@router.post("/items/loop")
def add_then_list(name: str, db: session_dependency):
    items = db.query(Item).order_by(Item.id).all()
    db.add(Item(name=name, owner_id=1))
    db.commit()
    names = []
    for each in items:
        names.append(each.name)
    return {"before": names, "first": items[0].name}
""", """
@router.post("/items/prune")
def prune(db: session_dependency):
    items = list(db.scalars(select(Item).order_by(Item.id)))
    for item in items:
        if item.name.startswith("old"):
            db.delete(item)
    if items: db.commit()
    return {"seen": [i.name for i in items]}
""", """
@router.post("/items/rows")
def rows_after_commit(db: session_dependency):
    rows = db.execute(select(Item).order_by(Item.id)).all()
    db.commit()
    return {"names": [r[0].name for r in rows]}
""", """
@router.post("/items/grown")
def grown(name: str, db: session_dependency):
    items = db.scalars(select(Item).order_by(Item.id)).all()
    items.append(Item(name=name, owner_id=1))
    db.commit()
    return {"names": [i.name for i in items]}
"""
SEED_ITEMS = """
    with Sync() as s:
        s.add_all([Item(name="pen", owner_id=1), Item(name="old cup", owner_id=1)])
        s.commit()
"""


def _list_app(service, engine: str):  # type: ignore[no-untyped-def]
    return service({
        "db/engine.py": engine,
        "schemas.py": dedent(SCHEMAS),
        SUBSYSTEM: routes(*LIST_READS).replace("from models import", "from schemas import ItemOut\nfrom models import"),
    })


@pytest.mark.parametrize("kind", KINDS[:2])
def test_4_a_list_read_after_commit_is_refreshed_object_by_object_and_the_routes_answer(cli, service, kind):
    root = _list_app(service, existing_async(
        "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])", maker="async_sessionmaker(async_engine)",
    ))
    document = apply(cli, root)
    actions = {h["function"]: h["action"] for h in document["handlers"]}
    assert actions == {
        "rename_all": "migrate", "add_then_list": "migrate", "prune": "migrate",
        "rows_after_commit": "blocked", "grown": "blocked",
    }
    # the loop variable is a name the function does not use (`item` is taken)
    assert "    await db.commit()\n    for item_2 in items:\n        if item_2 in db:\n            await db.refresh(item_2)\n" in (
        function(root, SUBSYSTEM, "rename_all")
    )
    assert "    for item in items:\n        if item in db:\n            await db.refresh(item)\n    names = []" in (
        function(root, SUBSYSTEM, "add_then_list")
    )
    # a one-line suite takes no `for` statement: the loop is a comprehension
    assert "if items: await db.commit(); [await db.refresh(item_2) for item_2 in items if item_2 in db]" in (
        function(root, SUBSYSTEM, "prune")
    )
    # rows hold objects phase two cannot refresh one by one; a list the route grew holds an
    # object the Session may not: both blocked, naming the list and the line of the read
    rows = handler(document, "rows_after_commit")
    reason = rows["reasons"][rows["codes"].index("AM248")]
    assert reason.startswith(f"{SUBSYSTEM}:") and "`r` (an element of `rows`) is used (line " in reason, reason
    assert "`rows` is a list" in reason, reason
    grown = handler(document, "grown")
    assert "AM248" in grown["codes"] and "`i.name` (an element of `items`) is read (line " in " ".join(grown["reasons"]), grown
    result = serve(root, kind, SEED_ITEMS + """
        renamed = client.put("/items/rename", params={"name": "x"})
        looped = client.post("/items/loop", params={"name": "box"})
        pruned = client.post("/items/prune")
        rows = client.post("/items/rows")
        grown = client.post("/items/grown", params={"name": "bag"})
        with Sync() as s:
            names = list(s.scalars(select(Item.name).order_by(Item.id)).all())
        print(json.dumps({
            "renamed": [renamed.status_code, renamed.json()], "looped": looped.json(), "pruned": pruned.json(),
            "rows": rows.json(), "grown": grown.json(), "names": names,
        }))
    """)
    assert result == {
        "renamed": [200, [{"id": 1, "name": "pen-x"}, {"id": 2, "name": "old cup-x"}]],
        "looped": {"before": ["pen-x", "old cup-x"], "first": "pen-x"},
        # the deleted object is detached, not expired: read as it was, as the sync code did
        "pruned": {"seen": ["pen-x", "old cup-x", "box"]},
        "rows": {"names": ["pen-x", "box"]},
        "grown": {"names": ["pen-x", "box", "bag"]},  # blocked, unchanged: the bag is never added
        "names": ["pen-x", "box"],
    }


@pytest.mark.parametrize("kind", KINDS[:2])
def test_4_a_list_the_sync_maker_reloaded_is_refreshed_and_sees_the_raw_update(cli, service, kind):
    from test_phase2_soundness import ENGINE

    source = routes(
        """
        @router.post("/items/upper")
        def upper(db: session_dependency):
            items = db.scalars(select(Item).order_by(Item.id)).all()
            db.execute(text("UPDATE items SET name = upper(name)"))
            db.commit()
            return [i.name for i in items]
        """,
    ).replace("from sqlalchemy import func, select", "from sqlalchemy import func, select, text")
    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), SUBSYSTEM: source})
    document = apply(cli, root)
    assert handler(document, "upper")["action"] == "migrate"
    assert "await db.refresh(item)" in function(root, SUBSYSTEM, "upper")
    result = serve(root, kind, SEED_ITEMS + """
        print(json.dumps(client.post("/items/upper").json()))
    """)
    assert result == ["PEN", "OLD CUP"]


@pytest.mark.parametrize("kind", KINDS[:2])
def test_4_a_commit_in_a_loop_expires_what_the_next_pass_reads_first(cli, service, kind):
    root = service({
        "db/engine.py": existing_async(
            "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])", maker="async_sessionmaker(async_engine)",
        ),
        SUBSYSTEM: routes(
            """
            @router.post("/items/mark")
            def mark_each(db: session_dependency):
                items = db.scalars(select(Item).order_by(Item.id)).all()
                seen = []
                for item in items:
                    seen.append(item.name)
                    item.name = f"{item.name}!"
                    db.commit()
                return seen
            """,
        ),
    })
    document = apply(cli, root)
    assert handler(document, "mark_each")["action"] == "migrate"
    # the second pass reads an object the first pass's commit expired
    assert "        await db.commit()\n        for item_2 in items:\n" in function(root, SUBSYSTEM, "mark_each")
    result = serve(root, kind, SEED_ITEMS + """
        seen = client.post("/items/mark").json()
        with Sync() as s:
            names = list(s.scalars(select(Item.name).order_by(Item.id)).all())
        print(json.dumps({"seen": seen, "names": names}))
    """)
    assert result == {"seen": ["pen", "old cup"], "names": ["pen!", "old cup!"]}


# ------------------------------------------- 5. an object a helper loaded on the route's Session


HELPER_READS = """
def find_item(db: Session, item_id: int) -> Item | None:
    return db.scalars(select(Item).where(Item.id == item_id)).first()


def find_or_new(db: Session, item_id: int) -> Item:
    return db.get(Item, item_id) or Item(name="new", owner_id=1)


def all_items(db: Session) -> list[Item]:
    return db.scalars(select(Item).order_by(Item.id)).all()


def some_items(db: Session) -> list[Item]:
    return [i for i in db.scalars(select(Item)) if i.id > 0]
""", """
@router.post("/items/suffix")
def suffix_all(db: session_dependency):
    items = all_items(db)
    for item in items:
        item.name = f"{item.name}!"
    db.commit()
    return {"names": [i.name for i in items]}
""", """
@router.post("/items/some")
def suffix_some(db: session_dependency):
    items = some_items(db)
    db.commit()
    return {"names": [i.name for i in items]}
""", """
@router.put("/items/{item_id}", response_model=ItemOut)
def rename_item(item_id: int, name: str, db: session_dependency):
    item = find_item(db, item_id)
    item.name = name
    db.commit()
    return item
""", """
@router.put("/items/{item_id}/or-new")
def rename_or_new(item_id: int, name: str, db: session_dependency):
    item = find_or_new(db, item_id)
    item.name = name
    db.add(item)
    db.commit()
    return {"name": item.name}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_5_an_object_a_helper_found_on_the_routes_session_is_refreshed_and_the_route_answers(cli, service, kind):
    root = service({
        "db/engine.py": existing_async(
            "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])", maker="async_sessionmaker(async_engine)",
        ),
        "schemas.py": dedent(SCHEMAS),
        SUBSYSTEM: routes(*HELPER_READS).replace("from models import", "from schemas import ItemOut\nfrom models import"),
    })
    document = apply(cli, root)
    assert handler(document, "rename_item")["action"] == "migrate"
    assert "    await db.commit()\n    if item is not None:\n        await db.refresh(item)\n    return item" in (
        function(root, SUBSYSTEM, "rename_item")
    )
    assert "    await db.commit()\n    for item_2 in items:\n" in function(root, SUBSYSTEM, "suffix_all")
    # `... or Item(...)`: maybe an object the Session does not hold yet: not shown, blocked
    other = handler(document, "rename_or_new")
    assert other["action"] == "blocked" and "AM248" in other["codes"], other
    assert "`item` is the result of a call" in " ".join(other["reasons"]), other
    # a list a comprehension built: its elements, read after the commit, block the route
    some = handler(document, "suffix_some")
    assert some["action"] == "blocked" and "`i.name` (an element of `items`) is read" in " ".join(some["reasons"]), some
    result = serve(root, kind, SEED_ITEMS + """
        renamed = client.put("/items/1", params={"name": "cup"})
        suffixed = client.post("/items/suffix").json()
        with Sync() as s:
            names = list(s.scalars(select(Item.name).order_by(Item.id)).all())
        print(json.dumps({"renamed": [renamed.status_code, renamed.json()], "suffixed": suffixed, "names": names}))
    """)
    assert result == {
        "renamed": [200, {"id": 1, "name": "cup"}], "suffixed": {"names": ["cup!", "old cup!"]},
        "names": ["cup!", "old cup!"],
    }


MERGE = """
@router.put("/items/{item_id}")
def upsert(item_id: int, name: str, db: session_dependency):
    merged = db.merge(Item(id=item_id, name=name, owner_id=1))
    db.commit()
    return {"id": merged.id, "name": merged.name}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_the_object_merge_returns_is_refreshed_after_the_commit(cli, service, kind):
    from test_phase2_soundness import ENGINE

    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), SUBSYSTEM: routes(MERGE)})
    document = apply(cli, root)
    assert handler(document, "upsert")["action"] == "migrate", handler(document, "upsert")
    assert "    await db.commit()\n    await db.refresh(merged)\n" in function(root, SUBSYSTEM, "upsert")
    result = serve(root, kind, """
        made = client.put("/items/7", params={"name": "pen"}).json()
        again = client.put("/items/7", params={"name": "cup"}).json()
        with Sync() as s:
            names = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"made": made, "again": again, "names": names}))
    """)
    assert result == {"made": {"id": 7, "name": "pen"}, "again": {"id": 7, "name": "cup"}, "names": ["cup"]}


BULK_COUNT = """
@router.post("/items/reset")
def reset(db: session_dependency):
    n = db.query(Item).filter(Item.name != "").update({"name": "x"}, synchronize_session=False)
    db.commit()
    return {"updated": n}
"""


def test_2_the_row_count_a_bulk_update_returns_is_read_after_the_commit_as_it_is(cli, service):
    from test_phase2_soundness import ENGINE

    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), SUBSYSTEM: routes(BULK_COUNT)})
    document = apply(cli, root)
    assert handler(document, "reset")["action"] == "migrate", handler(document, "reset")
    assert "refresh(n)" not in function(root, SUBSYSTEM, "reset")
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(name="pen", owner_id=1))
            s.commit()
        print(json.dumps(client.post("/items/reset").json()))
    """)
    assert result == {"updated": 1}


def test_an_object_built_and_not_added_is_refreshed_only_while_the_session_holds_it(cli, service):
    # `Item(...)` never added is not in the Session: the commit does not expire it, and refreshing
    # it would raise InvalidRequestError. A cascade could have added it, so the refresh is guarded.
    root = service({
        "db/engine.py": existing_async(
            "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])",
            maker="async_sessionmaker(async_engine)",  # expire_on_commit=True, the default
        ),
        SUBSYSTEM: routes("""
            @router.post("/drafts")
            def draft(name: str, db: session_dependency):
                item = Item(name=name, owner_id=1)
                db.commit()
                return {"name": item.name}
        """),
    })
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"draft": "migrate"}
    assert "    await db.commit()\n    if item in db:\n        await db.refresh(item)\n" in function(root, SUBSYSTEM, "draft")
    result = serve(root, "sqlite", """
        print(json.dumps(client.post("/drafts", params={"name": "pen"}).json()))
    """)
    assert result == {"name": "pen"}


# ------------------------------------------- a savepoint's rollback expires what changed inside it


SAVEPOINT_READ = """
@router.put("/users/{user_id}/name")
def rename_or_keep(user_id: int, name: str, db: session_dependency):
    user = db.get(User, user_id)
    try:
        with db.begin_nested():
            user.name = name
            db.add(User(id=2, name="clash"))
            db.flush()
    except IntegrityError:
        HANDLER
        return {"kept": user.name}
    db.commit()
    return {"renamed": user.name}
"""
# The same, the savepoint in a helper that hands the object back.
SAVEPOINT_HELPER = """
def try_rename(db: Session, user: User, name: str) -> bool:
    try:
        with db.begin_nested():
            user.name = name
            db.add(User(id=2, name="clash"))
            db.flush()
        return True
    except IntegrityError:
        HANDLER
        return False


@router.put("/users/{user_id}/name")
def rename_or_keep(user_id: int, name: str, db: session_dependency):
    user = db.get(User, user_id)
    if try_rename(db, user, name):
        db.commit()
        return {"renamed": user.name}
    return {"kept": user.name}
"""

# A savepoint per line of a batch: the handler carries on, and the read comes after the loop.
SAVEPOINT_LOOP = """
@router.put("/users/{user_id}/name")
def rename_or_keep(user_id: int, name: str, db: session_dependency):
    user = db.get(User, user_id)
    for clash in (2,):
        try:
            with db.begin_nested():
                user.name = name
                db.add(User(id=clash, name="clash"))
                db.flush()
        except IntegrityError:
            HANDLER
            continue
    return {"kept": user.name}
"""

# A whole transaction rolled back expires every object, also one the block only loaded.
TRANSACTION_LOADED = """
@router.put("/users/{user_id}/name")
def rename_or_keep(user_id: int, name: str, db: session_dependency):
    try:
        with db.begin():
            user = db.get(User, user_id)
            db.add(User(id=2, name=name))
    except IntegrityError:
        HANDLER
        return {"kept": user.name}
    return {"renamed": name}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
@pytest.mark.parametrize("refreshed", [False, True], ids=["read", "refreshed"])
@pytest.mark.parametrize(
    "shape", [SAVEPOINT_READ, SAVEPOINT_HELPER, SAVEPOINT_LOOP, TRANSACTION_LOADED],
    ids=["route", "helper", "loop", "transaction"],
)
def test_a_read_after_a_savepoint_rolled_back_blocks_unless_refreshed_and_answers(cli, service, kind, refreshed, shape):
    # The rolled-back savepoint expired `user`: the synchronous handler reloaded it when read, an
    # AsyncSession raised MissingGreenlet (a 500). Read as it is, the route stays synchronous;
    # refreshed first, it migrates and reads what the database holds.
    source = routes(shape.replace("HANDLER", "db.refresh(user)" if refreshed else "pass")).replace(
        "from sqlalchemy import func, select", "from sqlalchemy import func, select\nfrom sqlalchemy.exc import IntegrityError"
    )
    root = service({SUBSYSTEM: source})
    document = apply(cli, root)
    found = handler(document, "rename_or_keep")
    assert (found["action"], "AM292" in found["codes"]) == (("migrate", False) if refreshed else ("blocked", True)), found
    if refreshed:
        assert re.search(r"except IntegrityError:\n +await db\.refresh\(user\)\n", read(root, SUBSYSTEM))
    result = serve(root, kind, """
        response = client.put("/users/1/name", params={"name": "Zoe"})
        print(json.dumps([response.status_code, response.json()]))
    """)
    assert result == [200, {"kept": "Ann"}]


COLUMN_LISTS = """
@router.post("/users/ids")
def user_ids(db: session_dependency):
    ids = db.scalars(select(User.id).order_by(User.id)).all()
    db.add(Item(name="seen", owner_id=ids[0]))
    db.commit()
    return {"ids": list(ids)}
""", """
@router.post("/users/renamed")
def rename_all(db: session_dependency):
    ids = db.scalars(update(User).values(name=User.name + "!").returning(User.id)).all()
    rows = db.execute(update(User).values(name=User.name + "?").returning(User.id, User.name)).all()
    db.commit()
    return {"ids": sorted(ids), "names": sorted(r.name for r in rows)}
"""


def test_2_lists_of_column_values_read_after_the_commit_need_no_refresh_and_the_routes_write(cli, service):
    # `select(User.id)` and `returning(User.id, User.name)` load values, not objects: nothing for
    # a commit to expire. The first crashed phase two (KeyError: `models.User.id` read as a
    # class); the second blocked with "add `await session.refresh(obj)` for each object `ids` holds".
    from test_phase2_soundness import ENGINE

    source = routes(*COLUMN_LISTS).replace("from sqlalchemy import func, select", "from sqlalchemy import func, select, update")
    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), SUBSYSTEM: source})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"user_ids": "migrate", "rename_all": "migrate"}
    assert "refresh" not in read(root, SUBSYSTEM)
    assert serve(root, "sqlite", """
        ids = client.post("/users/ids").json()
        renamed = client.post("/users/renamed").json()
        with Sync() as s:
            items = s.scalars(select(Item.name)).all()
            names = sorted(s.scalars(select(User.name)).all())
        print(json.dumps([ids, renamed, items, names]))
    """) == [{"ids": [1, 2]}, {"ids": [1, 2], "names": ["Ann!?", "Bob!?"]}, ["seen"], ["Ann!?", "Bob!?"]]


def test_2_near_miss_objects_an_update_returns_are_still_stale_after_the_commit(cli, service):
    from test_phase2_soundness import ENGINE

    source = routes("""
        @router.post("/users/renamed")
        def rename_all(db: session_dependency):
            users = db.scalars(update(User).values(name=User.name + "!").returning(User)).all()
            db.commit()
            return {"names": sorted(u.name for u in users)}
    """).replace("from sqlalchemy import func, select", "from sqlalchemy import func, select, update")
    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), SUBSYSTEM: source})
    found = handler(apply(cli, root), "rename_all")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found


def test_a_column_selected_alone_and_read_after_the_commit_is_no_object(project, cli):
    # `select(Product.stock)` names a column: the analysis asked whether `Product.stock` is a
    # mapped class and failed with KeyError instead of answering no.
    root = project({
        "app/__init__.py": "",
        "app/routers/__init__.py": "",
        "app/db.py": """
            from typing import Annotated

            from fastapi import Depends
            from sqlalchemy import create_engine
            from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

            engine = create_engine("sqlite:///./shop.db")
            SessionLocal = sessionmaker(bind=engine)


            class Base(DeclarativeBase):
                pass


            def get_db():
                with SessionLocal() as db:
                    yield db


            DbSession = Annotated[Session, Depends(get_db)]
        """,
        "app/models.py": """
            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import Mapped, mapped_column

            from app.db import Base


            class Product(Base):
                __tablename__ = "products"
                id: Mapped[int] = mapped_column(primary_key=True)
                stock: Mapped[int] = mapped_column(default=0)


            class OrderItem(Base):
                __tablename__ = "order_items"
                id: Mapped[int] = mapped_column(primary_key=True)
                product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
        """,
        "app/routers/orders.py": """
            from fastapi import APIRouter
            from sqlalchemy import select

            from app.db import DbSession
            from app.models import OrderItem, Product

            router = APIRouter()


            @router.post("/products/{product_id}/take")
            def take(product_id: int, db: DbSession):
                product = db.get(Product, product_id)
                db.add(OrderItem(product_id=product.id))
                db.flush()
                left = db.scalar(select(Product.stock).where(Product.id == product.id))
                db.commit()
                return {"left": left, "stock": product.stock}
        """,
        "app/main.py": "from fastapi import FastAPI\n\nfrom app.routers import orders\n\napp = FastAPI()\napp.include_router(orders.router)\n",
    })
    document = cli.json("phase2", root, "--subsystem", "app/routers/orders.py")
    assert document["errors"] == [], document["errors"]
    found = next(h for h in document["handlers"] if h["function"] == "take")
    assert found["action"] == "migrate", found
    assert "await db.refresh(product)" in document["diff"], document["diff"]


# What a statement hands back that holds no ORM object, read after the commit: the count of a
# bulk DELETE or UPDATE, rows of columns, rows of raw SQL. No commit expires them, so the routes
# migrate as they are (no refresh, no block) and answer what they wrote.
VALUE_READS = """
@router.post("/users/purge")
def purge(name: str, db: session_dependency):
    gone = db.execute(delete(User).where(User.name == name)).rowcount
    db.commit()
    return {"removed": gone}
""", """
@router.post("/users/rename-all")
def rename_all(name: str, db: session_dependency):
    result = db.execute(update(User).values(name=name))
    db.commit()
    return {"renamed": result.rowcount}
""", """
@router.post("/users/listing")
def listing(db: session_dependency):
    found = db.execute(select(User.id, User.name).order_by(User.id)).all()
    raw = db.execute(text("SELECT COUNT(*) AS n FROM users")).mappings().all()
    db.commit()
    return {"users": [[r.id, r.name] for r in found], "n": raw[0]["n"]}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_values_read_after_commit_from_statements_holding_no_object_migrate_and_answer(cli, service, kind):
    from test_phase2_soundness import ENGINE

    source = routes(*VALUE_READS).replace(
        "from sqlalchemy import func, select", "from sqlalchemy import delete, func, select, text, update"
    )
    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), SUBSYSTEM: source})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "purge": "migrate", "rename_all": "migrate", "listing": "migrate",
    }, document["handlers"]
    assert "refresh" not in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        listed = client.post("/users/listing").json()
        purged = client.post("/users/purge", params={"name": "Bob"}).json()
        renamed = client.post("/users/rename-all", params={"name": "Zoe"}).json()
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"listed": listed, "purged": purged, "renamed": renamed, "names": names}))
    """)
    assert result == {
        "listed": {"users": [[1, "Ann"], [2, "Bob"]], "n": 2}, "purged": {"removed": 1},
        "renamed": {"renamed": 1}, "names": ["Zoe"],
    }


# A helper handing back the Row a column RETURNING gives: values, read after the route's commit.
ROW_HELPER = """
def add_user(db: Session, name: str):
    stmt = insert(User).values(id=3, name=name).returning(User.id, User.name)
    return db.execute(stmt).one()
""", """
@router.post("/users/added")
def added(name: str, db: session_dependency):
    row = add_user(db, name)
    db.commit()
    return {"id": row.id, "name": row.name, "found": db.get(User, row.id).name}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_2_a_row_of_columns_a_helper_hands_back_read_after_commit_migrates_and_the_row_lands(cli, service, kind):
    from test_phase2_soundness import ENGINE

    source = routes(*ROW_HELPER).replace("from sqlalchemy import func, select", "from sqlalchemy import func, insert, select")
    root = service({"db/engine.py": dedent(ENGINE).replace(*EXPIRING_ENGINE), SUBSYSTEM: source})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"added": "migrate"}, document["handlers"]
    assert "refresh(row" not in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        answer = client.post("/users/added", params={"name": "Cy"}).json()
        with Sync() as s:
            names = list(s.scalars(select(User.name).order_by(User.id)).all())
        print(json.dumps({"answer": answer, "names": names}))
    """)
    assert result == {"answer": {"id": 3, "name": "Cy", "found": "Cy"}, "names": ["Ann", "Bob", "Cy"]}
