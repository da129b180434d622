"""Phase two and what the synchronous stack does beside opening sessions (issue 11): listeners
on its engine or sessionmaker (AM270), a session dependency that does more per request (AM271),
and `dependency_overrides` of the sync dependency (a follow-up).

As in test_phase2_soundness: each application is migrated with `phase2 --apply` and RUN with
TestClient; the database is read back through a separate synchronous session. A blocked stack
writes nothing and the unchanged code still behaves.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, handler, read, run
from test_phase2_soundness import ENGINE, KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

CREATE = """
@router.post("/items")
def create_item(name: str, owner_id: int, db: session_dependency):
    db.add(Item(name=name, owner_id=owner_id))
    try:
        db.flush()
    except IntegrityError:
        raise HTTPException(status_code=409, detail="no such owner")
    db.commit()
    return {"ok": True}
"""
HEAD_EXTRA = "from fastapi import HTTPException\nfrom sqlalchemy.exc import IntegrityError\nfrom models import Item, User"
FOREIGN_KEYS = """

@event.listens_for(engine, "connect")
def _foreign_keys(dbapi_connection, connection_record):
    # SQLite leaves foreign keys unenforced unless each connection asks for them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
"""
HAND_WRITTEN_ENGINE = """

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
event.listen(async_engine.sync_engine, "connect", _foreign_keys)
"""
POST_ORPHAN = """
    orphan = client.post("/items", params={"name": "pen", "owner_id": 99}).status_code
    owned = client.post("/items", params={"name": "cup", "owner_id": 1}).status_code
    with Sync() as s:
        items = list(s.scalars(select(Item.name)).all())
    print(json.dumps({"orphan": orphan, "owned": owned, "items": items}))
"""


def engine_with(*parts: str, imports: str = "from sqlalchemy import create_engine, event") -> str:
    text = dedent(ENGINE).replace("from sqlalchemy import create_engine", imports)
    return "\n\n\n".join([text, *(dedent(p) for p in parts)]) + "\n"


def items_routes(*parts: str) -> str:
    return routes(*parts).replace("from models import Item, User", HEAD_EXTRA)


def test_an_engine_listener_blocks_the_stack_with_its_place_and_the_code_still_works(cli, service):
    engine = engine_with(FOREIGN_KEYS)
    root = service({"db/engine.py": engine, SUBSYSTEM: items_routes(CREATE)})
    document = apply(cli, root)
    line = read(root, "db/engine.py").splitlines().index('@event.listens_for(engine, "connect")') + 1
    assert handler(document, "create_item")["action"] == "blocked"
    blockers = document["subsystem"]["global_blockers"]
    assert len(blockers) == 1 and blockers[0].startswith(f"db/engine.py:{line}: "), blockers
    assert "event.listen(async_engine.sync_engine, \"connect\", _foreign_keys)" in blockers[0]
    assert document["files_changed"] == []
    result = serve(root, "sqlite", POST_ORPHAN)
    assert result == {"orphan": 409, "owned": 200, "items": ["cup"]}


def test_an_engine_listener_carried_to_a_hand_written_async_engine_migrates_and_still_runs(cli, service):
    engine = engine_with(
        FOREIGN_KEYS, HAND_WRITTEN_ENGINE,
        imports="from sqlalchemy import create_engine, event\nfrom sqlalchemy.ext.asyncio import create_async_engine",
    )
    root = service({"db/engine.py": engine, SUBSYSTEM: items_routes(CREATE)})
    document = apply(cli, root)
    assert document["subsystem"]["global_blockers"] == []
    assert handler(document, "create_item")["action"] == "migrate"
    assert "async_sessionmaker(async_engine" in read(root, "db/engine.py")
    result = serve(root, "sqlite", POST_ORPHAN)
    assert result == {"orphan": 409, "owned": 200, "items": ["cup"]}


NORMALISE = """

@event.listens_for({target}, "before_flush")
def _normalise(session, flush_context, instances):
    for obj in session.new:
        if isinstance(obj, Item):
            obj.name = obj.name.strip().lower()
"""
NORMALISED = """
    status = client.post("/items", params={"name": "  Pen ", "owner_id": 1}).status_code
    with Sync() as s:
        items = list(s.scalars(select(Item.name)).all())
    print(json.dumps({"status": status, "items": items}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_listener_on_the_session_class_runs_for_the_migrated_routes(cli, service, kind):
    engine = engine_with(NORMALISE.format(target="Session")) + "\n\nfrom models import Item  # noqa: E402\n"
    root = service({"db/engine.py": engine, SUBSYSTEM: items_routes(CREATE)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", document["subsystem"]["global_blockers"]
    assert serve(root, kind, NORMALISED) == {"status": 200, "items": ["pen"]}


@pytest.mark.parametrize("target", ["database_sessionmaker", "database_sessionmaker.class_"])
def test_a_listener_on_the_sessionmaker_runs_for_the_migrated_routes_through_its_class(cli, service, target):
    # A sessionmaker's listeners are on the Session subclass it makes (`.class_`): the generated
    # async_sessionmaker runs that class, so the migrated route still normalises.
    engine = engine_with(NORMALISE.format(target=target)) + "\n\nfrom models import Item  # noqa: E402\n"
    root = service({"db/engine.py": engine, SUBSYSTEM: items_routes(CREATE)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", document["subsystem"]["global_blockers"]
    assert serve(root, "sqlite", NORMALISED) == {"status": 200, "items": ["pen"]}
    assert "sync_session_class=database_sessionmaker.class_" in read(root, "db/engine.py")


HAND_WRITTEN_MAKER = """

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False{carried})
"""


def test_a_hand_written_async_sessionmaker_running_the_sessionmakers_class_is_reused_and_normalises(cli, service):
    engine = engine_with(
        NORMALISE.format(target="database_sessionmaker"),
        HAND_WRITTEN_MAKER.format(carried=", sync_session_class=database_sessionmaker.class_"),
        imports="from sqlalchemy import create_engine, event\n"
        "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine",
    ) + "\n\nfrom models import Item  # noqa: E402\n"
    root = service({"db/engine.py": engine, SUBSYSTEM: items_routes(CREATE)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", document["subsystem"]["global_blockers"]
    assert serve(root, "sqlite", NORMALISED) == {"status": 200, "items": ["pen"]}


def test_a_hand_written_async_sessionmaker_of_plain_sessions_blocks_and_the_code_still_normalises(cli, service):
    engine = engine_with(
        NORMALISE.format(target="database_sessionmaker.class_"),
        HAND_WRITTEN_MAKER.format(carried=""),
        imports="from sqlalchemy import create_engine, event\n"
        "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine",
    ) + "\n\nfrom models import Item  # noqa: E402\n"
    root = service({"db/engine.py": engine, SUBSYSTEM: items_routes(CREATE)})
    document = apply(cli, root)
    line = read(root, "db/engine.py").splitlines().index(
        '@event.listens_for(database_sessionmaker.class_, "before_flush")'
    ) + 1
    assert [b.split(": ", 1)[0] for b in document["subsystem"]["global_blockers"]] == [f"db/engine.py:{line}"]
    assert document["files_changed"] == []
    assert serve(root, "sqlite", NORMALISED) == {"status": 200, "items": ["pen"]}


def test_a_listener_on_an_expression_blocks_as_unverified_and_the_code_still_normalises(cli, service):
    # `event.listen(current_maker(), ...)`: what the call returns is not followed, and here it is
    # the sessionmaker, whose listener migrated routes would lose.
    engine = engine_with(
        "def current_maker() -> sessionmaker:\n    return database_sessionmaker\n",
        NORMALISE.format(target="current_maker()"),
    ) + "\n\nfrom models import Item  # noqa: E402\n"
    root = service({"db/engine.py": engine, SUBSYSTEM: items_routes(CREATE)})
    document = apply(cli, root)
    line = read(root, "db/engine.py").splitlines().index('@event.listens_for(current_maker(), "before_flush")') + 1
    blockers = document["subsystem"]["global_blockers"]
    assert [b.split(": ", 1)[0] for b in blockers] == [f"db/engine.py:{line}"], blockers
    assert "unverified" in blockers[0], blockers
    assert document["files_changed"] == []
    assert serve(root, "sqlite", NORMALISED) == {"status": 200, "items": ["pen"]}


SUBCLASS_STACK = """
import os
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from models import Item


class AppSession(Session):
    pass


engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False, class_=AppSession)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with AsyncSession(async_engine, expire_on_commit=False) as session:
        yield session
"""


@pytest.mark.parametrize("target", ["database_sessionmaker", "AppSession"])
def test_a_hand_written_dependency_opening_plain_async_sessions_blocks_and_the_code_still_normalises(
    cli, service, target
):
    # Nothing is generated beside the sessionmaker: the dependency's own AsyncSession runs a plain
    # Session, which runs neither the sessionmaker's listener nor its class_'s.
    engine = "\n\n\n".join([dedent(SUBCLASS_STACK), dedent(NORMALISE.format(target=target))]) + "\n"
    root = service({"db/engine.py": engine, SUBSYSTEM: items_routes(CREATE)})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
    assert serve(root, "sqlite", NORMALISED) == {"status": 200, "items": ["pen"]}


# ------------------------------------------------ a session dependency that does more

OWNER_STACK = """
import os
from collections.abc import AsyncIterator, Iterator

from fastapi import Header
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from models import Item

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


@event.listens_for(Session, "do_orm_execute")
def _only_the_owners_items(state: ORMExecuteState) -> None:
    owner = state.session.info.get("owner")
    if state.is_select and owner is not None:
        state.statement = state.statement.options(with_loader_criteria(Item, Item.owner_id == owner))


def get_db_session(x_owner: int = Header()) -> Iterator[Session]:
    with database_sessionmaker() as session:
        session.info["owner"] = x_owner
        yield session
"""
OWNER_ASYNC = """

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db_session(x_owner: int = Header()) -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as db:
        db.info["owner"] = x_owner
        yield db
"""
LIST = """
@router.get("/items")
def list_items(db: session_dependency):
    return sorted(db.scalars(select(Item.name)).all())
"""
LISTED = """
    with Sync() as s:
        s.add_all([Item(name="ann's", owner_id=1), Item(name="bob's", owner_id=2)])
        s.commit()
    print(json.dumps(client.get("/items", headers={"x-owner": "1"}).json()))
"""


def test_a_dependency_that_does_more_blocks_naming_each_line_and_the_code_still_filters(cli, service):
    root = service({"db/engine.py": OWNER_STACK, SUBSYSTEM: routes(LIST)})
    document = apply(cli, root)
    lines = read(root, "db/engine.py").splitlines()
    parameter = lines.index("def get_db_session(x_owner: int = Header()) -> Iterator[Session]:") + 1
    statement = lines.index('        session.info["owner"] = x_owner') + 1
    (blocker,) = document["subsystem"]["global_blockers"]
    assert blocker.startswith(f"db/engine.py:{parameter}: ")
    assert f"db/engine.py:{parameter} parameter `x_owner: int`" in blocker
    assert f"db/engine.py:{statement} `session.info[\"owner\"] = x_owner`" in blocker
    assert document["files_changed"] == []
    assert serve(root, "sqlite", LISTED) == ["ann's"]


def test_a_hand_written_async_dependency_doing_the_same_is_reused_and_filters(cli, service):
    root = service({"db/engine.py": dedent(OWNER_STACK) + "\n\n\n" + dedent(OWNER_ASYNC) + "\n", SUBSYSTEM: routes(LIST)})
    document = apply(cli, root)
    assert document["subsystem"]["global_blockers"] == []
    assert handler(document, "list_items")["action"] == "migrate"
    assert serve(root, "sqlite", LISTED) == ["ann's"]


# The owner set by a dependency receiving the Session another one opens, as multi-tenant code
# keeps the opening plain: the received Session and its `return` are the opening, not more work.
WRAPPED_OWNER = """
from fastapi import Depends


def open_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


def get_db_session(session: Session = Depends(open_db_session), x_owner: int = Header()) -> Session:
    session.info["owner"] = x_owner
    return session
"""


def wrapped_owner_stack(opener_extra: str = "") -> str:
    head, _, _ = dedent(OWNER_STACK).partition("\n\ndef get_db_session(")
    wrapped = dedent(WRAPPED_OWNER)
    if opener_extra:
        wrapped = wrapped.replace("        yield session\n", f"        {opener_extra}\n        yield session\n", 1)
    return head + "\n\n" + wrapped


def test_a_dependency_setting_up_the_session_it_receives_blocks_naming_only_that_work(cli, service):
    root = service({"db/engine.py": wrapped_owner_stack(), SUBSYSTEM: routes(LIST)})
    document = apply(cli, root)
    (blocker,) = document["subsystem"]["global_blockers"]
    assert "parameter `x_owner: int`" in blocker and '`session.info["owner"] = x_owner`' in blocker, blocker
    assert "parameter `session: Session`" not in blocker and "`return session`" not in blocker, blocker
    assert document["files_changed"] == []
    assert serve(root, "sqlite", LISTED) == ["ann's"]


def test_a_hand_written_async_dependency_doing_what_the_receiving_dependency_does_is_reused_and_filters(cli, service):
    root = service({"db/engine.py": wrapped_owner_stack() + "\n\n" + dedent(OWNER_ASYNC) + "\n", SUBSYSTEM: routes(LIST)})
    document = apply(cli, root)
    assert document["subsystem"]["global_blockers"] == []
    assert handler(document, "list_items")["action"] == "migrate"
    assert serve(root, "sqlite", LISTED) == ["ann's"]


def test_near_miss_work_of_the_dependency_that_opens_the_received_session_still_blocks(cli, service):
    # the opener's own statement is done for these routes too, and the async dependency lacks it
    engine = wrapped_owner_stack('session.info["channel"] = "api"')
    root = service({"db/engine.py": engine + "\n\n" + dedent(OWNER_ASYNC) + "\n", SUBSYSTEM: routes(LIST)})
    document = apply(cli, root)
    (blocker,) = document["subsystem"]["global_blockers"]
    assert '`session.info["channel"] = "api"`' in blocker, blocker
    assert handler(document, "list_items")["action"] == "blocked"


# ------------------------------------------------------------- dependency_overrides

CONFTEST = """
from db.engine import get_db_session
from main import app


def override_get_db():
    yield None


app.dependency_overrides[get_db_session] = override_get_db
"""


def test_an_override_of_the_sync_dependency_refuses_apply_unless_the_gap_is_allowed(cli, service):
    root = service({"tests/__init__.py": "", "tests/conftest.py": CONFTEST, SUBSYSTEM: routes(LIST)})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    assert "refusing to write: after this migration the migrated routes would escape the tests' database" in " ".join(
        refused.stderr.split()
    )
    assert "tests/conftest.py:9: " in refused.stderr
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "list_items")["action"] == "migrate"
    assert document["files_changed"]


def test_an_override_of_the_sync_dependency_is_a_follow_up_in_the_report_and_the_summary(cli, service):
    root = service({"tests/__init__.py": "", "tests/conftest.py": CONFTEST, SUBSYSTEM: routes(LIST)})
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "list_items")["action"] == "migrate"
    (note,) = document["subsystem"]["override_follow_ups"]
    assert note.startswith("tests/conftest.py:9: `app.dependency_overrides[get_db_session] = override_get_db`")
    assert "override `get_async_db_session` as well" in note
    assert note in document["subsystem"]["follow_ups"]
    shown = cli("phase2", root, "--subsystem", SUBSYSTEM)
    assert "follow-up: tests/conftest.py:9: " in shown.stderr


FACTORY = """
def make_routes():
    made = APIRouter()

    @made.get("/items")
    def list_items(db: session_dependency):
        return sorted(db.scalars(select(Item.name)).all())

    return made


router.include_router(make_routes())
"""


def test_near_miss_no_override_follow_up_when_nothing_migrates_and_no_async_stack_exists(cli, service):
    # Every route of the subsystem is blocked (a router factory's, AM225): the migrated routes the
    # note speaks of do not exist, nor does the async dependency it says to override.
    root = service({"tests/__init__.py": "", "tests/conftest.py": CONFTEST, SUBSYSTEM: routes(FACTORY)})
    document = cli.json("phase2", root, "--subsystem", SUBSYSTEM)
    assert handler(document, "make_routes.<locals>.list_items")["codes"] == ["AM225"]
    assert document["subsystem"]["override_follow_ups"] == []
    assert not any("dependency_overrides" in note for note in document["subsystem"]["follow_ups"])


# The dependency imported inside the fixture that overrides it, as many conftests do.
FIXTURE_IMPORT_CONFTEST = """
import pytest


def override_get_db():
    yield None


@pytest.fixture(autouse=True)
def _test_database():
    from db.engine import get_db_session
    from main import app

    app.dependency_overrides[get_db_session] = override_get_db
    yield
    app.dependency_overrides.clear()
"""


def test_an_override_keyed_by_a_name_the_fixture_imports_itself_refuses_apply_too(cli, service):
    root = service({"tests/__init__.py": "", "tests/conftest.py": FIXTURE_IMPORT_CONFTEST, SUBSYSTEM: routes(LIST)})
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    assert "tests/conftest.py:13: `app.dependency_overrides[get_db_session] = override_get_db` overrides the " \
        "synchronous `get_db_session`" in " ".join(refused.stderr.split())


def test_near_miss_no_follow_up_once_the_async_dependency_is_overridden_too(cli, service):
    conftest = dedent(CONFTEST) + "\nfrom db.engine import get_async_db_session  # noqa: E402\n" + (
        "app.dependency_overrides[get_async_db_session] = override_get_db\n"
    )
    root = service({"tests/__init__.py": "", "tests/conftest.py": conftest, SUBSYSTEM: routes(LIST)})
    document = apply(cli, root)
    assert document["subsystem"]["override_follow_ups"] == []


def test_tests_beside_path_in_a_src_layout_are_read_for_their_overrides(cli, service):
    # PATH is src/ (the import root); the tests sit beside it, under the project's pyproject.toml.
    root = service({SUBSYSTEM: routes(LIST)})
    top = root.parent
    (top / "pyproject.toml").write_text('[project]\nname = "svc"\n', encoding="utf-8")
    (top / "tests").mkdir()
    (top / "tests" / "conftest.py").write_text(dedent(CONFTEST) + "\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "../tests/conftest.py:9: `app.dependency_overrides[get_db_session] = override_get_db` overrides the " \
        "synchronous `get_db_session`" in said, said
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_near_miss_tests_beyond_the_project_holding_path_are_not_read(cli, service):
    # PATH holds its own pyproject.toml: a tests folder beside it belongs to something else.
    root = service({SUBSYSTEM: routes(LIST), "pyproject.toml": '[project]\nname = "svc"\n'})
    (root.parent / "tests").mkdir()
    (root.parent / "tests" / "conftest.py").write_text(dedent(CONFTEST) + "\n", encoding="utf-8")
    document = run(cli, root)
    assert document["subsystem"]["override_follow_ups"] == []


# However the tests put the override into the mapping: each shape is one the refusal must see.
OVERRIDE_SHAPES = {
    "assigned-whole": "    app.dependency_overrides = {KEY: override_get_db}",
    "merged": "    app.dependency_overrides |= {KEY: override_get_db}",
    "monkeypatch": "    monkeypatch.setitem(app.dependency_overrides, KEY, override_get_db)",
    "patch-dict": "    with mock.patch.dict(app.dependency_overrides, {KEY: override_get_db}):\n        yield",
    "named-dict": "    OVERRIDES = {KEY: override_get_db}\n    app.dependency_overrides.update(OVERRIDES)",
    "unpacked": "    app.dependency_overrides.update({**{KEY: override_get_db}})",
}
SHAPED_CONFTEST = """
from unittest import mock

import pytest

from db.engine import get_async_db_session, get_db_session
from main import app


def override_get_db():
    yield None


@pytest.fixture(autouse=True)
def _test_database(monkeypatch):
{shape}
    yield
"""


@pytest.mark.parametrize("shape", OVERRIDE_SHAPES)
def test_an_override_of_the_sync_dependency_refuses_apply_however_the_mapping_gets_it(cli, service, shape):
    written = OVERRIDE_SHAPES[shape].replace("KEY", "get_db_session")
    conftest = dedent(SHAPED_CONFTEST).replace("from db.engine import get_async_db_session, ", "from db.engine import ")
    conftest = conftest.replace("{shape}", written)
    root = service({"tests/__init__.py": "", "tests/conftest.py": conftest, SUBSYSTEM: routes(LIST)})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    line, shown = (16, "app.dependency_overrides.update(OVERRIDES)") if shape == "named-dict" else (
        15, written.strip().removeprefix("with ").removesuffix(":\n        yield").removesuffix(":"),
    )
    assert f"tests/conftest.py:{line}: `{shown}`" in said, said
    assert "overrides the synchronous `get_db_session`" in said
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


@pytest.mark.parametrize("shape", OVERRIDE_SHAPES)
def test_near_miss_the_same_shape_overriding_the_async_dependency_too_leaves_no_gap(cli, service, shape):
    written = OVERRIDE_SHAPES[shape].replace("KEY", "get_db_session").replace(
        "get_db_session: override_get_db", "get_db_session: override_get_db, get_async_db_session: override_get_db"
    )
    if shape == "monkeypatch":
        written += "\n" + written.replace("get_db_session", "get_async_db_session")
    conftest = dedent(SHAPED_CONFTEST).replace("{shape}", written)
    root = service({"tests/__init__.py": "", "tests/conftest.py": conftest, SUBSYSTEM: routes(LIST)})
    document = run(cli, root)
    assert document["subsystem"]["override_follow_ups"] == []


# Tests that point the synchronous stack at their database instead of overriding the dependency.
REDIRECT_SHAPES = {
    "monkeypatch-string": 'monkeypatch.setattr("db.engine.database_sessionmaker", Testing)',
    "monkeypatch-module": 'monkeypatch.setattr(db.engine, "database_sessionmaker", Testing)',
    "patch": 'mock.patch("db.engine.database_sessionmaker", Testing).start()',
    "patch-object": 'mock.patch.object(stack, "database_sessionmaker", Testing).start()',
    "assigned": "stack.database_sessionmaker = Testing",
    "configure": "database_sessionmaker.configure(bind=engine.connect())",
    "engine": 'monkeypatch.setattr(stack, "engine", engine)',
}
REDIRECT_CONFTEST = """
from unittest import mock

import db.engine
import db.engine as stack
import pytest
from db.engine import database_sessionmaker, engine
from sqlalchemy.orm import sessionmaker

Testing = sessionmaker(engine)


@pytest.fixture(autouse=True)
def _test_database(monkeypatch):
    {shape}
    yield
"""


@pytest.mark.parametrize("shape", REDIRECT_SHAPES)
def test_tests_pointing_the_sync_stack_at_their_database_refuse_apply(cli, service, shape):
    conftest = dedent(REDIRECT_CONFTEST).replace("{shape}", REDIRECT_SHAPES[shape])
    root = service({"tests/__init__.py": "", "tests/conftest.py": conftest, SUBSYSTEM: routes(LIST)})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    piece = "engine" if shape == "engine" else "database_sessionmaker"
    assert f"tests/conftest.py:14: `{REDIRECT_SHAPES[shape].removesuffix('.start()')}` points the synchronous `{piece}` at the tests' " \
        "database; the migrated routes open their AsyncSession through `get_async_db_session`" in said, said
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "list_items")["action"] == "migrate"
    assert any("points the synchronous" in note for note in document["subsystem"]["follow_ups"])


def test_near_miss_redirecting_the_async_stack_too_or_the_application_configuring_its_own_leaves_no_gap(cli, service):
    both = REDIRECT_SHAPES["monkeypatch-string"] + "\n    " + REDIRECT_SHAPES["monkeypatch-string"].replace(
        "db.engine.database_sessionmaker", "db.engine.async_database_sessionmaker"
    )
    conftest = dedent(REDIRECT_CONFTEST).replace("{shape}", both)
    root = service({"tests/__init__.py": "", "tests/conftest.py": conftest, SUBSYSTEM: routes(LIST)})
    assert run(cli, root)["subsystem"]["override_follow_ups"] == []
    # the application's own configure(bind=...) is what its stack is, not a redirect
    main = dedent(MAIN_CONFIGURING)
    root = service({"tests/__init__.py": "", "main.py": main, SUBSYSTEM: routes(LIST)})
    assert run(cli, root)["subsystem"]["override_follow_ups"] == []


MAIN_CONFIGURING = """
from fastapi import FastAPI

from api.items import router
from db.engine import database_sessionmaker, engine

database_sessionmaker.configure(bind=engine)
app = FastAPI()
app.include_router(router)
"""


SESSION_CLASS_ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

engine = create_engine(os.environ["DATABASE_URL"])


def get_db_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def database_sessionmaker():
    return Session(engine)
"""
HAND_WRITTEN_FROM_URL = """

async_engine = create_async_engine(engine.url.set(drivername="sqlite+aiosqlite"))
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db() -> AsyncIterator[AsyncSession]:
    async with AsyncSessionLocal() as session:
        yield session
"""
TEST_SESSIONMAKER = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from db.engine import get_db_session
from main import app

test_engine = create_engine("sqlite:///./test.db")
TestingSessionLocal = sessionmaker(bind=test_engine)


def override_get_db():
    with TestingSessionLocal() as session:
        yield session


app.dependency_overrides[get_db_session] = override_get_db
"""
IMPORTS_CONFTEST = """
    import tests.conftest  # noqa: F401  (the tests' module imports the application: no cycle)

    app.dependency_overrides.clear()
"""


def test_a_sessionmaker_of_the_tests_is_never_the_stack_the_routes_session_class_dependency_is(cli, service):
    root = service({
        "db/engine.py": SESSION_CLASS_ENGINE,
        "tests/__init__.py": "", "tests/conftest.py": TEST_SESSIONMAKER, SUBSYSTEM: routes(LIST),
    })
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "list_items")["action"] == "migrate"
    assert sorted(document["files_changed"]) == ["api/items.py", "core/dependencies.py", "db/engine.py"]
    assert "tests" not in read(root, "core/dependencies.py")
    engine = read(root, "db/engine.py")
    assert "async_engine = create_async_engine(_async_url(engine.url))" in engine
    assert engine.index("def get_db_session") < engine.index("async def get_async_db_session")
    assert serve(root, "sqlite", IMPORTS_CONFTEST + LISTED) == ["ann's", "bob's"]


def test_a_hand_written_stack_from_the_engines_url_is_compared_with_the_apps_engine_not_the_tests(cli, service):
    engine = dedent(SESSION_CLASS_ENGINE).replace(
        "from collections.abc import Iterator",
        "from collections.abc import AsyncIterator, Iterator",
    ).replace(
        "from sqlalchemy.orm import Session",
        "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine\n"
        "from sqlalchemy.orm import Session",
    ) + "\n\n\n" + dedent(HAND_WRITTEN_FROM_URL) + "\n"
    root = service({
        "db/engine.py": engine,
        "tests/__init__.py": "", "tests/conftest.py": TEST_SESSIONMAKER, SUBSYSTEM: routes(LIST),
    })
    document = apply(cli, root, "--allow-override-gap")
    assert document["subsystem"]["global_blockers"] == []
    assert handler(document, "list_items")["action"] == "migrate"
    assert "db/engine.py" not in document["files_changed"]
    assert "get_async_db" in read(root, "core/dependencies.py")
    assert serve(root, "sqlite", IMPORTS_CONFTEST + LISTED) == ["ann's", "bob's"]


# ------------------------------------------------------------- test clients

TEST_MODULE = """
from fastapi.testclient import TestClient

from main import app

client = TestClient(app)


def test_list():
    with TestClient(app) as entered:
        assert entered.get("/items").status_code == 200
"""


def test_a_test_client_not_entered_with_with_is_a_follow_up_and_an_entered_one_is_not(cli, service):
    root = service({"tests/__init__.py": "", "tests/test_items.py": TEST_MODULE, SUBSYSTEM: routes(LIST)})
    document = apply(cli, root)
    notes = [n for n in document["subsystem"]["follow_ups"] if "TestClient(...)" in n]
    assert [n.split(":", 2)[:2] for n in notes] == [["tests/test_items.py", "5"]], notes
    assert "use `with TestClient(app) as client:`" in notes[0]


# ------------------------------------------------------------- a sessionmaker per tenant

TENANT_STACK = """
import os
from collections.abc import AsyncIterator, Iterator

from fastapi import Header, HTTPException
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
TENANTS = ("acme", "globex")
SessionLocals: dict[str, sessionmaker] = {
    t: sessionmaker(bind=engine, expire_on_commit=False, info={"tenant": t}) for t in TENANTS
}
database_sessionmaker = SessionLocals["acme"]  # scripts work on the first tenant


def get_db_session(x_tenant: str = Header()) -> Iterator[Session]:
    maker = SessionLocals.get(x_tenant)
    if maker is None:
        raise HTTPException(status_code=404, detail="unknown tenant")
    db = maker()
    try:
        yield db
        db.commit()
    except Exception:
        db.rollback()
        raise
    finally:
        db.close()
"""
TENANT_ASYNC = """

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
AsyncSessionLocals = {
    "acme": async_sessionmaker(async_engine, expire_on_commit=False, info={"tenant": "acme"}),
    "globex": async_sessionmaker(async_engine, expire_on_commit=False, info={"tenant": "globex"}),
}


async def get_async_db_session(x_tenant: str = Header()) -> AsyncIterator[AsyncSession]:
    maker = AsyncSessionLocals.get(x_tenant)
    if maker is None:
        raise HTTPException(status_code=404, detail="unknown tenant")
    session = maker()
    try:
        yield session
        await session.commit()
    except Exception:
        await session.rollback()
        raise
    finally:
        await session.close()
"""
TENANT_CREATE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    db.add(Item(name=f"{db.info['tenant']}:{name}", owner_id=1))
    db.flush()
    return {"ok": True}
"""
TENANT_POSTS = """
    codes = [client.post("/items", params={"name": "pen"}, headers={"x-tenant": t}).status_code
             for t in ("acme", "globex", "nobody")]
    with Sync() as s:
        names = sorted(s.scalars(select(Item.name)).all())
    print(json.dumps({"codes": codes, "names": names}))
"""


def test_a_sessionmaker_per_tenant_blocks_naming_the_choice_not_the_session_it_opens(cli, service):
    root = service({"db/engine.py": TENANT_STACK, SUBSYSTEM: routes(TENANT_CREATE)})
    document = apply(cli, root)
    (blocker,) = document["subsystem"]["global_blockers"]
    assert "parameter `x_tenant: str`" in blocker and "`maker = SessionLocals.get(x_tenant)`" in blocker
    assert "`if maker is None:`" in blocker
    # opening the tenant's session, yielding, committing and closing it is what any dependency does
    for usual in ("db = maker()", "yield db", "db.commit()", "db.rollback()", "db.close()"):
        assert usual not in blocker, blocker
    assert document["files_changed"] == []


def test_a_hand_written_async_dependency_choosing_the_tenant_the_same_way_is_reused(cli, service):
    root = service({"db/engine.py": dedent(TENANT_STACK) + "\n\n\n" + dedent(TENANT_ASYNC) + "\n", SUBSYSTEM: routes(TENANT_CREATE)})
    document = apply(cli, root)
    assert document["subsystem"]["global_blockers"] == []
    assert handler(document, "create_item")["action"] == "migrate"
    assert "Depends(get_async_db_session)" in read(root, "core/dependencies.py")
    result = serve(root, "sqlite", TENANT_POSTS)
    assert result == {"codes": [200, 200, 404], "names": ["acme:pen", "globex:pen"]}


def test_near_miss_an_async_dependency_that_skips_the_unknown_tenant_check_still_blocks(cli, service):
    skipping = TENANT_ASYNC.replace(
        '    if maker is None:\n        raise HTTPException(status_code=404, detail="unknown tenant")\n', ""
    )
    root = service({"db/engine.py": dedent(TENANT_STACK) + "\n\n\n" + dedent(skipping) + "\n", SUBSYSTEM: routes(TENANT_CREATE)})
    document = apply(cli, root)
    (blocker,) = document["subsystem"]["global_blockers"]
    assert "`if maker is None:`" in blocker and "`maker = SessionLocals" not in blocker, blocker
    assert document["files_changed"] == []


# ------------------------------------------------------- a session opened with arguments

ARGUED_STACK = """
import os
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
current_tenant: ContextVar[str] = ContextVar("current_tenant", default="public")


def get_db_session() -> Iterator[Session]:
    db = database_sessionmaker(info={"tenant": current_tenant.get()})
    try:
        yield db
        db.commit()
    finally:
        db.close()
"""
ARGUED_ASYNC = """

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    session = async_database_sessionmaker(info={"tenant": current_tenant.get()})
    try:
        yield session
        await session.commit()
    finally:
        await session.close()
"""
ARGUED_POSTS = """
    code = client.post("/items", params={"name": "pen"}).status_code
    with Sync() as s:
        names = sorted(s.scalars(select(Item.name)).all())
    print(json.dumps({"code": code, "names": names}))
"""


def test_a_session_opened_with_arguments_by_the_dependency_blocks_naming_the_opening(cli, service):
    """`SessionLocal(info=...)`, `SessionLocal(bind=engine.execution_options(schema_translate_map=...))`:
    the generated dependency opens `async_database_sessionmaker()` with no arguments, so every
    migrated route would lose them (the tenant's schema, what a listener reads in `info`)."""
    root = service({"db/engine.py": ARGUED_STACK, SUBSYSTEM: routes(TENANT_CREATE)})
    document = apply(cli, root)
    (blocker,) = document["subsystem"]["global_blockers"]
    assert "`db = database_sessionmaker(info={\"tenant\": current_tenant.get()})`" in blocker, blocker
    assert "yield db" not in blocker and "db.close()" not in blocker, blocker
    assert document["files_changed"] == []
    assert serve(root, "sqlite", ARGUED_POSTS) == {"code": 200, "names": ["public:pen"]}


def test_a_hand_written_async_dependency_opening_with_the_same_arguments_is_reused(cli, service):
    root = service({"db/engine.py": dedent(ARGUED_STACK) + "\n\n\n" + dedent(ARGUED_ASYNC) + "\n",
                    SUBSYSTEM: routes(TENANT_CREATE)})
    document = apply(cli, root)
    assert document["subsystem"]["global_blockers"] == []
    assert handler(document, "create_item")["action"] == "migrate"
    assert serve(root, "sqlite", ARGUED_POSTS) == {"code": 200, "names": ["public:pen"]}


@pytest.mark.parametrize("opened", [
    'Session(engine, info={"tenant": current_tenant.get()})',
    'Session(bind=engine.execution_options(schema_translate_map={"tenant": None}), info={"tenant": "x"})',
])
def test_a_session_class_opened_with_more_than_its_engine_blocks_naming_the_opening(cli, service, opened):
    stack = ARGUED_STACK.replace(
        '    db = database_sessionmaker(info={"tenant": current_tenant.get()})\n',
        f"    db = {opened}\n",
    )
    root = service({"db/engine.py": stack, SUBSYSTEM: routes(TENANT_CREATE)})
    document = apply(cli, root)
    blockers = document["subsystem"]["global_blockers"]
    assert any(f"`db = {opened}`"[:60] in b for b in blockers), blockers
    assert document["files_changed"] == []


def test_near_miss_a_session_class_given_its_engine_alone_is_the_stack(cli, service):
    stack = ARGUED_STACK.replace(
        '    db = database_sessionmaker(info={"tenant": current_tenant.get()})\n',
        "    db = Session(engine, expire_on_commit=False)\n",
    )
    root = service({"db/engine.py": stack, SUBSYSTEM: routes(LIST)})
    document = apply(cli, root)
    assert document["subsystem"]["global_blockers"] == []
    assert handler(document, "list_items")["action"] == "migrate"


# ------------------------------------------ a test transaction the async override must share

ROLLED_BACK_CONFTEST = """
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from db.engine import get_db_session
from main import app


@pytest.fixture()
def session():
    engine = create_engine("sqlite:///./test.db")
    connection = engine.connect()
    outer = connection.begin()
    s = Session(bind=connection, join_transaction_mode="create_savepoint")
    app.dependency_overrides[get_db_session] = lambda: s
    yield s
    outer.rollback()
    connection.close()
"""
# What the follow-up tells the user to write for such tests, and the naive override it warns
# against; each posts through the migrated route, then reports what the test saw and what stayed.
SHARED_TRANSACTION = """
    import httpx
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    async def run(shared):
        aengine = create_async_engine(stack.async_engine.url)
        if aengine.dialect.name == "sqlite":
            # As for the synchronous test engine: pysqlite's own transaction handling would let
            # the route's commit end the outer transaction instead of its savepoint.
            @event.listens_for(aengine.sync_engine, "connect")
            def _no_driver_transactions(dbapi_connection, _record):
                dbapi_connection.isolation_level = None

            @event.listens_for(aengine.sync_engine, "begin")
            def _begin(connection):
                connection.exec_driver_sql("BEGIN")

        conn = await aengine.connect()
        if shared:
            await conn.begin()
            s = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
            app.dependency_overrides[stack.get_async_db_session] = lambda: s
        else:
            async def own():
                async with AsyncSession(aengine) as own_session:
                    yield own_session
            s = AsyncSession(bind=conn)
            app.dependency_overrides[stack.get_async_db_session] = own
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            status = (await c.post("/items", params={"name": "pen", "owner_id": 1})).status_code
        seen = list((await s.scalars(select(Item.name))).all())
        await s.close()
        await conn.rollback()
        await conn.close()
        await aengine.dispose()
        return status, seen

    shared = asyncio.run(run(True))
    with Sync() as check:
        after_shared = list(check.scalars(select(Item.name)).all())
    own = asyncio.run(run(False))
    with Sync() as check:
        after_own = list(check.scalars(select(Item.name)).all())
    print(json.dumps({"shared": [*shared, after_shared], "own": [*own, after_own]}))
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_an_override_inside_a_rolled_back_test_transaction_says_how_to_share_it_and_that_advice_works(
    cli, service, kind
):
    root = service({
        "tests/__init__.py": "", "tests/conftest.py": ROLLED_BACK_CONFTEST,
        SUBSYSTEM: items_routes(CREATE),
    })
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "create_item")["action"] == "migrate"
    (note,) = document["subsystem"]["override_follow_ups"]
    assert note.startswith("tests/conftest.py:15: `app.dependency_overrides[get_db_session] = lambda: s`")
    assert "not with an AsyncSession of its own: tests/conftest.py:14 runs each test in a transaction" in note
    assert 'AsyncSession(bind=conn, join_transaction_mode="create_savepoint")' in note
    assert note.endswith("go on `async_engine.sync_engine` as well")  # the conftest's engine is SQLite
    # The advised override: the test sees the route's row, and the rollback leaves nothing behind.
    # The naive one: the route commits on a connection of its own, so the row outlives the rollback.
    assert serve(root, kind, SHARED_TRANSACTION) == {
        "shared": [200, ["pen"], []],
        "own": [200, ["pen"], ["pen"]],
    }


def test_near_miss_an_override_without_a_test_transaction_keeps_the_short_advice(cli, service):
    root = service({"tests/__init__.py": "", "tests/conftest.py": TEST_SESSIONMAKER, SUBSYSTEM: routes(LIST)})
    document = apply(cli, root, "--allow-override-gap")
    (note,) = document["subsystem"]["override_follow_ups"]
    assert note.endswith("with an async generator that yields an AsyncSession of the same test database")


# ------------------------------------- a fixture overriding only the sync dependency

def two_fixtures(second_overrides_async: bool) -> str:
    extra = "    app.dependency_overrides[get_async_db_session] = override_async\n" if second_overrides_async else ""
    return dedent("""
        import pytest

        from db.engine import get_async_db_session, get_db_session
        from main import app


        def override_get_db():
            yield None


        async def override_async():
            yield None


        @pytest.fixture()
        def async_client():
            app.dependency_overrides[get_db_session] = override_get_db
            app.dependency_overrides[get_async_db_session] = override_async
            yield
            app.dependency_overrides.clear()


        @pytest.fixture()
        def client():
            app.dependency_overrides[get_db_session] = override_get_db
        """).rstrip("\n") + "\n" + extra + "    yield\n    app.dependency_overrides.clear()\n"


HAND_WRITTEN_STACK = """

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""


def stack_written_by_hand() -> str:
    return engine_with(HAND_WRITTEN_STACK).replace(
        "from collections.abc import Iterator", "from collections.abc import AsyncIterator, Iterator"
    ).replace(
        "from sqlalchemy.orm import",
        "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine\n"
        "from sqlalchemy.orm import",
    )


def test_a_fixture_overriding_only_the_sync_dependency_is_a_gap_though_another_overrides_the_async_one(
    cli, service
):
    root = service({
        "db/engine.py": stack_written_by_hand(),
        "tests/__init__.py": "", "tests/conftest.py": two_fixtures(False), SUBSYSTEM: routes(LIST),
    })
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    assert "tests/conftest.py:25: `app.dependency_overrides[get_db_session] = override_get_db`" in refused.stderr
    assert "tests/conftest.py:19: " not in refused.stderr  # the fixture overriding both is fine
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "list_items")["action"] == "migrate"
    (note,) = document["subsystem"]["override_follow_ups"]
    assert note.startswith("tests/conftest.py:25: ")
    assert serve(root, "sqlite", LISTED) == ["ann's", "bob's"]


def test_near_miss_each_fixture_overriding_both_dependencies_is_no_gap(cli, service):
    root = service({
        "db/engine.py": stack_written_by_hand(),
        "tests/__init__.py": "", "tests/conftest.py": two_fixtures(True), SUBSYSTEM: routes(LIST),
    })
    document = apply(cli, root)
    assert document["subsystem"]["override_follow_ups"] == []
    assert handler(document, "list_items")["action"] == "migrate"


# ------------------- the mapping reached through a name, or the attribute replaced whole

NAMED_MAPPING_SHAPES = {
    # a local name for the application's mapping
    "alias": "    overrides = app.dependency_overrides\n    overrides[KEY] = override_get_db",
    # a module-level dict installed as the mapping, filled afterwards
    "installed": "    app.dependency_overrides = OVERRIDES\n    OVERRIDES[KEY] = override_get_db",
    "setattr": '    monkeypatch.setattr(app, "dependency_overrides", {KEY: override_get_db})',
    "patch-object": '    with mock.patch.object(app, "dependency_overrides", {KEY: override_get_db}):\n        yield',
    # a fixture handing the mapping out, taken by name
    "fixture": "    pass\n\n\n@pytest.fixture()\ndef overrides_fixture():\n    yield app.dependency_overrides\n\n\n"
    "@pytest.fixture()\ndef _client(overrides_fixture):\n    overrides_fixture[KEY] = override_get_db",
}


@pytest.mark.parametrize("shape", NAMED_MAPPING_SHAPES)
def test_an_override_through_a_name_for_the_mapping_or_a_replaced_attribute_refuses_apply(cli, service, shape):
    written = NAMED_MAPPING_SHAPES[shape].replace("KEY", "get_db_session")
    conftest = dedent(SHAPED_CONFTEST).replace("from db.engine import get_async_db_session, ", "from db.engine import ")
    conftest = conftest.replace("{shape}", written).replace("\n\ndef override_get_db", "\nOVERRIDES = {}\n\n\ndef override_get_db")
    root = service({"tests/__init__.py": "", "tests/conftest.py": conftest, SUBSYSTEM: routes(LIST)})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    assert "overrides the synchronous `get_db_session`" in " ".join(refused.stderr.split())
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_near_miss_a_name_bound_to_another_dict_is_not_the_mapping(cli, service):
    written = "    overrides = {}\n    overrides[get_db_session] = override_get_db"
    conftest = dedent(SHAPED_CONFTEST).replace("from db.engine import get_async_db_session, ", "from db.engine import ")
    root = service({
        "tests/__init__.py": "", "tests/conftest.py": conftest.replace("{shape}", written), SUBSYSTEM: routes(LIST),
    })
    assert run(cli, root)["subsystem"]["override_follow_ups"] == []


# --------- an async override on a connection of its own, beside a rolled-back test transaction

def rolled_back_with_async_override(shared: bool) -> str:
    """ROLLED_BACK_CONFTEST overriding the async dependency too: in the same fixture, with an
    AsyncSession bound to a connection in a transaction (`shared`); or at module level, with one
    opening its own connection."""
    conftest = dedent(ROLLED_BACK_CONFTEST).replace(
        "from db.engine import get_db_session",
        "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine\n\n"
        "from db.engine import get_async_db_session, get_db_session",
    )
    if shared:
        return conftest.replace("def session():", "async def session():").replace("    yield s\n", (
            '    conn = await create_async_engine("sqlite+aiosqlite:///./test.db").connect()\n'
            "    await conn.begin()\n"
            '    a = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")\n'
            "    app.dependency_overrides[get_async_db_session] = lambda: a\n"
            "    yield s\n"
            "    await conn.rollback()\n"
        ))
    return conftest + "\n" + dedent("""
        async def own():
            async with AsyncSession(create_async_engine("sqlite+aiosqlite:///./test.db")) as s:
                yield s


        app.dependency_overrides[get_async_db_session] = own
        """)


def test_an_async_override_on_a_connection_of_its_own_beside_a_rolled_back_transaction_refuses_apply(
    cli, service
):
    # The naive override of SHARED_TRANSACTION: the route's commit outlives the test's rollback,
    # and the rows the test adds through its Session are not seen by the route.
    root = service({
        "db/engine.py": stack_written_by_hand(), "tests/__init__.py": "",
        "tests/conftest.py": rolled_back_with_async_override(False), SUBSYSTEM: routes(LIST),
    })
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert (
        "tests/conftest.py:26: `app.dependency_overrides[get_async_db_session] = own` overrides "
        "`get_async_db_session`, which the migrated routes use, with an AsyncSession that no test binds to a "
        "connection, so it opens one of its own: tests/conftest.py:16 runs each test in a transaction"
    ) in said, said
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "list_items")["action"] == "migrate"
    assert len(document["subsystem"]["override_follow_ups"]) == 1


def test_near_miss_an_async_override_bound_to_a_connection_in_a_transaction_is_no_gap(cli, service):
    root = service({
        "db/engine.py": stack_written_by_hand(), "tests/__init__.py": "",
        "tests/conftest.py": rolled_back_with_async_override(True), SUBSYSTEM: routes(LIST),
    })
    document = apply(cli, root)
    assert handler(document, "list_items")["action"] == "migrate"
    assert document["subsystem"]["override_follow_ups"] == []


# A `@contextmanager` opener whose twin opens the async sessionmaker itself, with no dependency
# between it and the routes: overriding the async dependency does not reach it.
OPENER_ENGINE = """

@contextmanager
def session_scope() -> Iterator[Session]:
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
    finally:
        session.close()
"""
SCOPED = """
@router.get("/scoped")
def count_scoped():
    with session_scope() as s:
        return {"count": s.scalar(select(func.count(Item.id)))}
"""
OVERRIDING_CONFTEST = """
import db.engine as stack
import pytest
from db.engine import engine, get_async_db_session, get_db_session
from main import app
from sqlalchemy.orm import sessionmaker

Testing = sessionmaker(engine)


def override_get_db():
    yield None


@pytest.fixture(autouse=True)
def _test_database(monkeypatch):
    monkeypatch.setattr(stack, "database_sessionmaker", Testing)
    app.dependency_overrides[get_db_session] = override_get_db
    app.dependency_overrides[get_async_db_session] = override_get_db
    yield
"""


def opener_service(service, conftest: str, *parts: str):  # type: ignore[no-untyped-def]
    engine = engine_with(OPENER_ENGINE).replace(
        "from collections.abc import Iterator", "from collections.abc import Iterator\nfrom contextlib import contextmanager"
    )
    written = routes(*parts).replace("from db.engine import get_db_session", "from db.engine import get_db_session, session_scope")
    return service({"db/engine.py": engine, "tests/__init__.py": "", "tests/conftest.py": dedent(conftest), SUBSYSTEM: written})


def test_migrated_opener_twin_escapes_tests_overriding_the_async_dependency_but_redirecting_only_the_sync_stack(
    cli, service
):
    root = opener_service(service, OVERRIDING_CONFTEST, LIST, SCOPED)
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "tests/conftest.py:16: `monkeypatch.setattr(stack, \"database_sessionmaker\", Testing)` points the " \
        "synchronous `database_sessionmaker` at the tests' database, and the tests override `get_async_db_session`, " \
        "but the migrated `session_scope_async` (the twin of db.engine.session_scope) opens its AsyncSession from " \
        "`async_database_sessionmaker` directly, which neither changes, so under the tests that code reaches the " \
        "application's own database" in said, said
    assert "redirect `async_database_sessionmaker` (or `async_engine`) the same way in the tests" in said, said
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "count_scoped")["action"] == "migrate"
    assert handler(document, "list_items")["action"] == "migrate"
    # the gap is real: under the tests' redirect, the migrated opener still reads the application's database
    checked = serve(root, "sqlite", """
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    with Sync() as s:
        s.add(Item(name="ann's", owner_id=1))
        s.commit()
    stack.database_sessionmaker = sessionmaker(create_engine("sqlite://"))
    print(json.dumps(client.get("/scoped").json()))
    """)
    assert checked == {"count": 1}


def test_near_miss_no_opener_migrated_or_the_async_sessionmaker_redirected_too_leaves_no_gap(cli, service):
    # the migrated routes reach their AsyncSession only through the overridden dependency
    root = opener_service(service, OVERRIDING_CONFTEST, LIST)
    document = run(cli, root)
    assert handler(document, "list_items")["action"] == "migrate"
    assert document["subsystem"]["override_follow_ups"] == []
    # the tests redirect the async sessionmaker the same way
    both = OVERRIDING_CONFTEST.replace(
        '    monkeypatch.setattr(stack, "database_sessionmaker", Testing)\n',
        '    monkeypatch.setattr(stack, "database_sessionmaker", Testing)\n'
        '    monkeypatch.setattr(stack, "async_database_sessionmaker", Testing)\n',
    )
    root = opener_service(service, both, LIST, SCOPED)
    document = run(cli, root)
    assert handler(document, "count_scoped")["action"] == "migrate"
    assert document["subsystem"]["override_follow_ups"] == []
    # the tests redirect nothing: the opener used the application's database before as well
    alone = OVERRIDING_CONFTEST.replace('    monkeypatch.setattr(stack, "database_sessionmaker", Testing)\n', "")
    document = run(cli, opener_service(service, alone, LIST, SCOPED))
    assert handler(document, "count_scoped")["action"] == "migrate"
    assert document["subsystem"]["override_follow_ups"] == []
