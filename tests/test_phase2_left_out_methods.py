"""A class holding the Session with a method that cannot move (a generator a StreamingResponse
iterates, a property): the routes calling only its other methods migrate onto a parallel async
class that leaves the method out; the routes calling it stay blocked, naming it."""

from __future__ import annotations

import ast

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

service = test_phase2_soundness.service

PUBLISHER = """
class Publisher:
    def __init__(self, db: Session):
        self.db = db

    def publish(self, name: str) -> int:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item.id

    def lines(self) -> Iterator[str]:
        for row in self.db.scalars(select(Item).order_by(Item.id)):
            yield f"{row.id},{row.name}\\n"

    def csv(self) -> str:
        return "".join(self.lines())


def get_publisher(db: Session = Depends(get_db_session)) -> Publisher:
    return Publisher(db)
"""
PUBLISH = """
@router.post("/items")
async def create_item(name: str, publisher: Publisher = Depends(get_publisher)):
    return {"id": publisher.publish(name)}
"""
EXPORT = """
@router.get("/items.csv")
def export_items(publisher: Publisher = Depends(get_publisher)):
    return StreamingResponse(publisher.lines(), media_type="text/csv")


@router.get("/items.txt")
def export_text(publisher: Publisher = Depends(get_publisher)):
    return {"csv": publisher.csv()}
"""
IMPORTS = "from collections.abc import Iterator\n\nfrom fastapi.responses import StreamingResponse\n"


def _class_methods(text: str, name: str) -> set[str]:
    found = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef) and n.name == name)
    return {n.name for n in found.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_a_route_calling_only_the_movable_method_migrates_and_the_generator_routes_stay(cli, service):
    root = service({SUBSYSTEM: IMPORTS + routes(PUBLISHER, PUBLISH, EXPORT)})
    line = 1 + read(root, SUBSYSTEM).splitlines().index("    def lines(self) -> Iterator[str]:")
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, SUBSYSTEM)
    # the copy has what the migrated route runs and nothing that would work on its AsyncSession synchronously
    assert _class_methods(text, "PublisherAsync") == {"__init__", "publish"}, text
    assert _class_methods(text, "Publisher") == {"__init__", "publish", "lines", "csv"}
    for route in ("export_items", "export_text"):
        found = handler(document, route)
        assert found["action"] == "blocked", found
        assert f"api/items.py:{line}: `Publisher.lines` is a generator" in found["reasons"][0], found
    helpers = {h["function"]: h for h in document["subsystem"]["helpers"]}
    assert "without `Publisher.csv`" in helpers["Publisher.publish"]["reasons"][0], helpers["Publisher.publish"]
    result = serve(root, "sqlite", """
        created = client.post("/items", params={"name": "pen"})
        exported = client.get("/items.csv")
        text = client.get("/items.txt").json()["csv"]
        with Sync() as s:
            names = list(s.scalars(select(Item.name)))
        print(json.dumps({"status": created.status_code, "names": names, "csv": exported.text, "text": text}))
    """)
    assert result == {"status": 200, "names": ["pen"], "csv": "1,pen\n", "text": "1,pen\n"}


UNUSED = """
class Publisher:
    def __init__(self, db: Session):
        self.db = db

    def publish(self, name: str) -> int:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item.id

    def count(self) -> int:
        return self.db.scalar(select(func.count()).select_from(Item))

    @property
    def total(self) -> int:
        return self.db.scalar(select(func.count()).select_from(Item))

    def lines(self) -> Iterator[str]:
        for row in self.db.scalars(select(Item).order_by(Item.id)):
            yield f"{row.id},{row.name}\\n"


def get_publisher(db: Session = Depends(get_db_session)) -> Publisher:
    return Publisher(db)
"""
UNUSED_ROUTES = """
@router.post("/items")
def create_item(name: str, publisher: Publisher = Depends(get_publisher)):
    made = publisher.publish(name)
    return {"id": made, "count": publisher.count()}
"""


def test_a_class_whose_unmovable_methods_nothing_calls_still_moves_as_a_copy_without_them(cli, service):
    # Moved in place, `lines` and `total` would stay synchronous on the AsyncSession the class then holds.
    root = service({SUBSYSTEM: IMPORTS + routes(UNUSED, UNUSED_ROUTES)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, SUBSYSTEM)
    assert _class_methods(text, "PublisherAsync") == {"__init__", "publish", "count"}, text
    assert _class_methods(text, "Publisher") == {"__init__", "publish", "count", "total", "lines"}
    helpers = {h["function"]: h for h in document["subsystem"]["helpers"]}
    reason = helpers["Publisher.publish"]["reasons"][0]
    assert "`Publisher.lines`" in reason and "`Publisher.total`" in reason and "which cannot move" in reason, reason
    result = serve(root, "sqlite", """
        first = client.post("/items", params={"name": "pen"}).json()
        second = client.post("/items", params={"name": "ink"}).json()
        with Sync() as s:
            names = list(s.scalars(select(Item.name).order_by(Item.id)))
        print(json.dumps({"first": first, "second": second, "names": names}))
    """)
    assert result == {"first": {"id": 1, "count": 1}, "second": {"id": 2, "count": 2}, "names": ["pen", "ink"]}


def test_a_route_reaching_a_property_stays_blocked_naming_it(cli, service):
    reading = UNUSED_ROUTES.replace('"count": publisher.count()', '"count": publisher.total')
    root = service({SUBSYSTEM: IMPORTS + routes(UNUSED, reading)})
    found = handler(run(cli, root), "create_item")
    assert found["action"] == "blocked", found
    assert "`Publisher.total` is a property" in found["reasons"][0], found


def test_shared_block_blocks_a_class_that_would_need_a_copy_without_its_generator(cli, service):
    built = UNUSED_ROUTES.replace("publisher: Publisher = Depends(get_publisher)", "db: session_dependency").replace(
        "    made = ", "    publisher = Publisher(db)\n    made = "
    )
    root = service({SUBSYSTEM: IMPORTS + routes(UNUSED, built)})
    assert handler(run(cli, root), "create_item")["action"] == "migrate"
    found = handler(run(cli, root, "--shared", "block"), "create_item")
    assert found["action"] == "blocked", found
    assert any("`Publisher.lines`" in r and "cannot move with it" in r for r in found["reasons"]), found["reasons"]


def test_a_generator_method_called_where_the_analysis_cannot_tell_on_what_keeps_the_class_whole(cli, service):
    # `feed` unannotated and handed in from nowhere the analysis follows: it may be the copy.
    unseen = UNUSED_ROUTES + '\n\ndef dump(feed) -> str:\n    return "".join(feed.lines())\n'
    root = service({SUBSYSTEM: IMPORTS + routes(UNUSED, unseen)})
    found = handler(run(cli, root), "create_item")
    assert found["action"] == "blocked", found
    assert "is a generator" in found["reasons"][0], found


def test_a_property_read_the_analysis_does_not_resolve_keeps_the_class_whole(cli, service):
    # `Publisher(db).total`: the copy the route would build has no `total`, and nothing says the read runs it.
    unresolved = UNUSED_ROUTES.replace("publisher: Publisher = Depends(get_publisher)", "db: session_dependency").replace(
        "    made = publisher.publish(name)\n", "    made = Publisher(db).publish(name)\n"
    ).replace('"count": publisher.count()', '"count": Publisher(db).total')
    root = service({SUBSYSTEM: IMPORTS + routes(UNUSED, unresolved)})
    found = handler(run(cli, root), "create_item")
    assert found["action"] == "blocked", found


ASYNC_STREAM = """
class Publisher:
    def __init__(self, db: Session):
        self.db = db

    def publish(self, name: str) -> int:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item.id

    async def stream(self) -> AsyncIterator[str]:
        for row in self.db.scalars(select(Item).order_by(Item.id)):
            yield f"{row.id},{row.name}\\n"


def get_publisher(db: Session = Depends(get_db_session)) -> Publisher:
    return Publisher(db)
"""
ASYNC_EXPORT = """
@router.get("/items.csv")
async def export_items(publisher: Publisher = Depends(get_publisher)):
    return StreamingResponse(publisher.stream(), media_type="text/csv")
"""


def test_an_async_generator_method_is_left_out_and_its_route_stays_on_the_sync_class(cli, service):
    root = service({
        SUBSYSTEM: "from collections.abc import AsyncIterator\n\nfrom fastapi.responses import StreamingResponse\n"
        + routes(ASYNC_STREAM, PUBLISH, ASYNC_EXPORT)
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    found = handler(document, "export_items")
    assert found["action"] == "blocked" and "`Publisher.stream` is an async generator" in found["reasons"][0], found
    text = read(root, SUBSYSTEM)
    assert _class_methods(text, "PublisherAsync") == {"__init__", "publish"}, text
    result = serve(root, "sqlite", """
        created = client.post("/items", params={"name": "pen"})
        exported = client.get("/items.csv")
        with Sync() as s:
            names = list(s.scalars(select(Item.name)))
        print(json.dumps({"status": created.status_code, "names": names, "csv": exported.text}))
    """)
    assert result == {"status": 200, "names": ["pen"], "csv": "1,pen\n"}


def test_a_generator_helper_other_than_the_route_is_named_in_its_reason(cli, service):
    helper = """
    def _rows(db: Session) -> Iterator[str]:
        for row in db.scalars(select(Item).order_by(Item.id)):
            yield f"{row.id},{row.name}\\n"


    @router.get("/items.csv")
    def export_items(db: session_dependency):
        return StreamingResponse(_rows(db), media_type="text/csv")
    """
    root = service({SUBSYSTEM: IMPORTS + routes(helper)})
    line = 1 + read(root, SUBSYSTEM).splitlines().index("def _rows(db: Session) -> Iterator[str]:")
    found = handler(run(cli, root), "export_items")
    assert found["action"] == "blocked", found
    assert found["reasons"][0].startswith(f"api/items.py:{line}: `_rows` is a generator: "), found


BUS = """
class Bus:
    def __init__(self) -> None:
        self.handlers: dict = {}

    def subscribe(self, kind: str):
        def register(fn):
            self.handlers.setdefault(kind, []).append(fn)
            return fn

        return register

    def publish(self, kind: str, db: Session, payload: Item) -> None:
        for handler in self.handlers.get(kind, []):
            handler(db, payload)


bus = Bus()


@bus.subscribe("added")
def record_added(db: Session, item: Item) -> None:
    db.add(Item(name=item.name + "!", owner_id=2))


class Catalogue:
    def __init__(self, db: Session):
        self.db = db

    def add(self, name: str) -> int:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item.id

    def announce(self, name: str) -> int:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.flush()
        bus.publish("added", self.db, item)
        self.db.commit()
        return item.id


def get_catalogue(db: Session = Depends(get_db_session)) -> Catalogue:
    return Catalogue(db)
"""
BUS_ROUTES = """
@router.post("/items")
def create_item(name: str, catalogue: Catalogue = Depends(get_catalogue)):
    return {"id": catalogue.add(name)}


@router.post("/items/announced")
def announce_item(name: str, catalogue: Catalogue = Depends(get_catalogue)):
    return {"id": catalogue.announce(name)}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_method_reaching_a_blocked_helper_is_left_out_and_only_its_routes_stay(cli, service, kind):
    """`Catalogue.announce` hands the Session to a bus whose handlers the analysis cannot tell:
    that blocked every route using the class, `create_item` (which only calls `add`) with the
    bus's line as its reason though it never reaches the bus. The method is left out of the
    parallel class as one with a blocker of its own is; the route calling it stays, naming it."""
    root = service({SUBSYSTEM: routes(BUS, BUS_ROUTES)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    announced = handler(document, "announce_item")
    assert announced["action"] == "blocked", announced
    # the loop's local names the table it comes out of, not "a parameter or a variable"
    reasons = " ".join(announced["reasons"])
    assert "passes the Session to `handler()`, a class or function picked at run time out of `handlers`" in reasons
    text = read(root, SUBSYSTEM)
    assert _class_methods(text, "CatalogueAsync") == {"__init__", "add"}, text
    assert _class_methods(text, "Catalogue") == {"__init__", "add", "announce"}
    assert "    def publish(self, kind: str, db: Session, payload: Item) -> None:" in text
    result = serve(root, kind, """
        import warnings
        warnings.simplefilter("error", RuntimeWarning)
        created = client.post("/items", params={"name": "pen"}).json()
        announced = client.post("/items/announced", params={"name": "ink"}).json()
        with Sync() as s:
            rows = [[i.name, i.owner_id] for i in s.scalars(select(Item).order_by(Item.id))]
        print(json.dumps({"created": created, "announced": announced, "rows": rows}))
    """)
    assert result == {
        "created": {"id": 1}, "announced": {"id": 2}, "rows": [["pen", 1], ["ink", 1], ["ink!", 2]],
    }
    assert run(cli, root, "--apply", "--allow-dirty")["files_changed"] == []
