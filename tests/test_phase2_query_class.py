"""A sessionmaker building its Sessions with a project Query class (`query_cls=LiveQuery`): a
legacy chain reaching a Query method the class overrides (`get()` hiding soft-deleted rows, an
`__init__` touching every query) would lose it as a `select()` on an AsyncSession, which has no
Query class: such a chain blocks its route, naming the override. A chain calling a method the
class adds blocks naming that method; a chain reaching neither still migrates. The execution
options a soft-delete `do_orm_execute` listener reads (`include_deleted=True`) stay on the
migrated statement. The blocked routes and the migrated ones are RUN, as in test_phase2_soundness."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Query, Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])


class LiveQuery(Query):
    def get(self, ident):
        # A name starting with "~" marks a row deleted softly: get() hides it as the lists do.
        obj = super().get(ident)
        return None if obj is not None and obj.name.startswith("~") else obj

    def live(self):
        from models import Item

        return self.filter(~Item.name.startswith("~"))


database_sessionmaker = sessionmaker(engine, expire_on_commit=False, query_cls=LiveQuery)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
ROUTES = """
from fastapi import HTTPException


@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.get("/items/{item_id}")
def read_item(item_id: int, db: session_dependency):
    item = db.query(Item).get(item_id)
    if item is None:
        raise HTTPException(status_code=404)
    return {"name": item.name}


@router.get("/live")
def live_items(db: session_dependency):
    items = (
        db.query(Item)
        .live()
        .order_by(Item.id)
        .all()
    )
    return [i.name for i in items]


@router.get("/items")
def all_items(db: session_dependency):
    return [i.name for i in db.query(Item).order_by(Item.id).all()]
"""
SCRIPT = """
pen = client.post("/items", params={"name": "pen"}).json()["id"]
gone = client.post("/items", params={"name": "~gone"}).json()["id"]
print(json.dumps({
    "pen": client.get(f"/items/{pen}").status_code,
    "gone": client.get(f"/items/{gone}").status_code,
    "live": client.get("/live").json(),
    "all": client.get("/items").json(),
}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_chain_reaching_an_override_of_the_query_class_blocks_and_the_others_migrate(cli, service, kind):
    root = service({"db/engine.py": ENGINE, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    reasons = " ".join(handler(document, "read_item")["reasons"])
    assert handler(document, "read_item")["action"] == "blocked", reasons
    assert "query_cls=LiveQuery" in reasons and "overrides Query's `get` (db/engine.py:11)" in reasons
    live = " ".join(handler(document, "live_items")["reasons"])
    assert handler(document, "live_items")["action"] == "blocked", live
    assert "`.live()` in `db.query(Item).live().order_by(Item.id).all()` is a method of `LiveQuery` (db/engine.py:16)" in live
    # Neither reaches get() nor live(): LiveQuery changes nothing they return.
    for name in ("create_item", "all_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "select(Item).order_by(Item.id)" in function(root, SUBSYSTEM, "all_items")
    assert "db.query(Item).get(item_id)" in function(root, SUBSYSTEM, "read_item")
    result = serve(root, kind, SCRIPT)
    assert result == {"pen": 200, "gone": 404, "live": ["pen"], "all": ["pen", "~gone"]}


EVERY_QUERY = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Query, Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SEEN = []


class CountingQuery(Query):
    def __init__(self, entities, session=None):
        SEEN.append(entities)
        super().__init__(entities, session)


database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
database_sessionmaker.configure(query_cls=CountingQuery)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""


def test_a_special_method_override_set_by_configure_blocks_every_chain(cli, service):
    root = service({"db/engine.py": EVERY_QUERY, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("read_item", "live_items", "all_items"):
        reasons = " ".join(handler(document, name)["reasons"])
        assert handler(document, name)["action"] == "blocked", reasons
        assert "query_cls=CountingQuery" in reasons and "`__init__` (db/engine.py:12)" in reasons
    assert handler(document, "create_item")["action"] == "migrate"


def test_a_query_class_from_outside_the_project_blocks_every_chain(cli, service):
    engine = ENGINE.replace(
        "from sqlalchemy.orm import Query, Session, sessionmaker",
        "from fancy_orm import FancyQuery\nfrom sqlalchemy.orm import Query, Session, sessionmaker",
    ).replace("query_cls=LiveQuery", "query_cls=FancyQuery")
    root = service({"db/engine.py": engine, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    reasons = " ".join(handler(document, "all_items")["reasons"])
    assert handler(document, "all_items")["action"] == "blocked", reasons
    assert "`FancyQuery` is not a class defined in the project" in reasons


def test_query_itself_as_the_query_class_changes_nothing(cli, service):
    engine = ENGINE.replace("query_cls=LiveQuery", "query_cls=Query")
    root = service({"db/engine.py": engine, SUBSYSTEM: routes(ROUTES.replace(".live()", ".filter(Item.id > 0)"))})
    document = apply(cli, root)
    for name in ("read_item", "live_items", "all_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)


SOFT_DELETE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session, sessionmaker, with_loader_criteria

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


@event.listens_for(database_sessionmaker, "do_orm_execute")
def _hide_deleted(state):
    from models import Item

    # A name starting with "~" marks a row deleted softly; `include_deleted=True` shows it.
    if state.is_select and not state.execution_options.get("include_deleted", False):
        state.statement = state.statement.options(
            with_loader_criteria(Item, lambda cls: ~cls.name.startswith("~"), include_aliases=True)
        )


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""
TRASH = """
from fastapi import HTTPException


@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.get("/items/{item_id}")
def read_item(item_id: int, db: session_dependency):
    item = db.query(Item).filter(Item.id == item_id).first()
    if item is None:
        raise HTTPException(status_code=404)
    return {"name": item.name}


@router.get("/trash/{item_id}")
def read_deleted(item_id: int, db: session_dependency):
    item = (
        db.query(Item)
        .execution_options(include_deleted=True)
        .filter(Item.id == item_id)
        .first()
    )
    if item is None:
        raise HTTPException(status_code=404)
    return {"name": item.name}


@router.get("/everything")
def everything(db: session_dependency):
    return [i.name for i in db.query(Item).execution_options(include_deleted=True).order_by(Item.id).all()]


@router.get("/everything/count")
def count_everything(db: session_dependency):
    return db.query(Item).execution_options(include_deleted=True).count()
"""
TRASH_SCRIPT = """
pen = client.post("/items", params={"name": "pen"}).json()["id"]
gone = client.post("/items", params={"name": "~gone"}).json()["id"]
print(json.dumps({
    "gone": client.get(f"/items/{gone}").status_code,
    "trash": client.get(f"/trash/{gone}").json(),
    "everything": client.get("/everything").json(),
    "count": client.get("/everything/count").json(),
}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_execution_options_a_soft_delete_listener_reads_stay_on_the_migrated_statement(cli, service, kind):
    root = service({"db/engine.py": SOFT_DELETE, SUBSYSTEM: routes(TRASH)})
    document = apply(cli, root)
    for name in ("read_item", "read_deleted", "everything"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "select(Item).execution_options(include_deleted=True)" in function(root, SUBSYSTEM, "everything")
    # Counted through a subquery the options would sit where no listener reads them.
    reasons = " ".join(handler(document, "count_everything")["reasons"])
    assert handler(document, "count_everything")["action"] == "blocked", reasons
    assert "`.count()` after `.execution_options()`" in reasons
    result = serve(root, kind, TRASH_SCRIPT)
    assert result == {"gone": 404, "trash": {"name": "~gone"}, "everything": ["pen", "~gone"], "count": 2}


SUBCLASS = ENGINE.replace(
    "database_sessionmaker = sessionmaker(engine, expire_on_commit=False, query_cls=LiveQuery)",
    '''class AppSession(Session):
    def live_names(self):
        from models import Item

        return [i.name for i in self.query(Item).live().order_by(Item.id)]


database_sessionmaker = sessionmaker(engine, class_=AppSession, expire_on_commit=False, query_cls=LiveQuery)''',
)
LIVE_NAMES = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.get("/live")
def live_items(db: session_dependency):
    return db.live_names()
"""
LIVE_SCRIPT = """
client.post("/items", params={"name": "pen"})
client.post("/items", params={"name": "~gone"})
print(json.dumps({"live": client.get("/live").json()}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_the_async_sessions_keep_the_query_class_for_what_runs_on_their_synchronous_session(cli, service, kind):
    root = service({"db/engine.py": SUBCLASS, SUBSYSTEM: routes(LIVE_NAMES)})
    document = apply(cli, root)
    assert handler(document, "live_items")["action"] == "migrate", handler(document, "live_items")
    assert "sync_session.live_names()" in function(root, SUBSYSTEM, "live_items")
    # The session method runs on the Session behind the AsyncSession, which builds its Query from
    # the async_sessionmaker's keywords: without query_cls=, `.live()` is no attribute of Query.
    assert "query_cls=LiveQuery" in read(root, "db/engine.py").split("async_sessionmaker(", 1)[1]
    assert serve(root, kind, LIVE_SCRIPT) == {"live": ["pen"]}
