"""A session dependency entering a `@contextmanager` opener that takes parameters, called with
constants (Airflow's `with create_session(scoped=False) as session: yield session`).

The opener picks its sessionmaker by the parameter (`if scoped:` the `scoped_session`
registry, else the plain sessionmaker) and then only opens, yields, commits, rolls back and
closes. Called with constants, the branch taken is known: the dependency opens a new Session
from the plain sessionmaker on each request, which is what the async dependency does. Phase
two migrates its routes (it blocked the whole stack, AM271), and the migrated code is RUN on
the three databases: the row is saved, and each request began transactions on one Session.
The branch reaching the registry, a parameter read elsewhere, and an argument that is no
constant keep the block, naming the opener and why.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness as soundness
from phase2_kit import KINDS
from test_phase2_rules import apply, dedent, handler, line_in, read
from test_phase2_soundness import SUBSYSTEM, routes, serve


@pytest.fixture(name="service")
def service_fixture(project):  # type: ignore[no-untyped-def]
    def build(files: dict[str, str]):  # type: ignore[no-untyped-def]
        return project({
            "db/__init__.py": "", "core/__init__.py": "", "api/__init__.py": "",
            "db/settings.py": dedent(SETTINGS) + "\n", "core/dependencies.py": soundness.DEPENDENCIES,
            "models.py": soundness.MODELS, "main.py": soundness.MAIN, **files,
        })

    return build


SETTINGS = """
import os

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import scoped_session, sessionmaker

URL = os.environ["DATABASE_URL"]
ASYNC_URL = URL.replace("sqlite://", "sqlite+aiosqlite://").replace("mysql+pymysql://", "mysql+aiomysql://")

engine = create_engine(URL)
NonScopedSession = sessionmaker(engine, expire_on_commit=False)
Session = scoped_session(NonScopedSession)
async_engine = create_async_engine(ASYNC_URL)
AsyncSession = async_sessionmaker(async_engine, expire_on_commit=False)
"""
# Airflow's airflow/utils/session.py and airflow/api_fastapi/common/db/common.py, reduced.
ENGINE = """
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.orm import Session as SASession

from db import settings
from db.settings import NonScopedSession as database_sessionmaker, async_engine, engine


@contextmanager
def create_session(scoped: bool = True) -> Iterator[SASession]:
    \"\"\"Contextmanager that will create and teardown a session.\"\"\"
    if scoped:
        Session = getattr(settings, "Session", None)
    else:
        Session = getattr(settings, "NonScopedSession", None)
    if Session is None:
        raise RuntimeError("Session must be set before!")
    session = Session()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


@asynccontextmanager
async def create_session_async():
    async with settings.AsyncSession() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise


def get_db_session() -> Iterator[SASession]:
    with create_session(scoped=False) as session:
        yield session


async def get_async_db_session() -> AsyncIterator[SAAsyncSession]:
    async with create_session_async() as session:
        yield session
"""
FLUSH_ONLY = """
@router.post("/items")
async def create_item(name: str, db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.flush()
    return {"id": item.id}
"""
# The row a route only flushed is saved by the opener's commit; every Session that began a
# transaction during the request is counted (an AsyncSession's runs on a synchronous one).
COUNT = """
from sqlalchemy import event
from sqlalchemy.orm import Session as AnySession

began = set()
event.listen(AnySession, "after_begin", lambda session, *_: began.add(id(session)))
response = client.post("/items", params={"name": "kept"})
sessions = len(began)
with Sync() as s:
    saved = s.scalar(select(func.count()).select_from(Item).where(Item.name == "kept"))
print(json.dumps({"status": response.status_code, "saved": saved, "sessions": sessions}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_opener_called_with_constants_migrates_and_still_saves(cli, service, kind):
    root = service({"db/engine.py": dedent(ENGINE) + "\n", SUBSYSTEM: routes(FLUSH_ONLY)})
    assert serve(root, kind, COUNT) == {"status": 200, "saved": 1, "sessions": 1}  # before
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "migrate", found
    assert not document["subsystem"]["global_blockers"]
    migrated = read(root, SUBSYSTEM)
    assert "await db.flush()" in migrated
    assert "get_async_db_session" in migrated
    assert serve(root, kind, COUNT) == {"status": 200, "saved": 1, "sessions": 1}  # after


ATTRIBUTE = ENGINE.replace('getattr(settings, "NonScopedSession", None)', "settings.NonScopedSession").replace(
    '    if Session is None:\n        raise RuntimeError("Session must be set before!")\n', ""
)


def test_an_opener_naming_the_sessionmaker_as_an_attribute_migrates(cli, service):
    root = service({"db/engine.py": dedent(ATTRIBUTE) + "\n", SUBSYSTEM: routes(FLUSH_ONLY)})
    assert handler(apply(cli, root), "create_item")["action"] == "migrate"
    assert serve(root, "sqlite", COUNT) == {"status": 200, "saved": 1, "sessions": 1}


# The scoped_session registry hands out the thread's one Session, which other code entering
# `create_session()` shares: a new AsyncSession per request would split it.
SCOPED = ENGINE.replace("with create_session(scoped=False) as session:", "with create_session(scoped=True) as session:")
# The parameter read by the lifecycle itself, not only to pick the sessionmaker.
READ_LATER = ENGINE.replace("        session.commit()\n", "        if scoped:\n            session.commit()\n")
# An argument whose value the call does not spell.
COMPUTED = ENGINE.replace("with create_session(scoped=False) as session:", "with create_session(scoped=SCOPED) as session:")
COMPUTED = COMPUTED.replace("@contextmanager\n", "SCOPED = False\n\n\n@contextmanager\n", 1)
# The parameter rebound before the branch: the constant is no longer what the branch tests.
REBOUND = ENGINE.replace("    if scoped:\n", "    scoped = settings.SCOPED\n    if scoped:\n", 1)


@pytest.mark.parametrize(
    ("engine_source", "why"),
    [
        (SCOPED, "`getattr(settings, \"Session\", None)` is a `scoped_session` registry"),
        (READ_LATER, "reads `scoped` at line"),
        (COMPUTED, "`scoped=SCOPED` is no constant"),
        (REBOUND, "reads `scoped` at line"),
    ],
    ids=["scoped-registry", "parameter-read-later", "computed-argument", "parameter-rebound"],
)
def test_an_opener_call_phase_two_cannot_specialise_still_blocks(cli, service, engine_source, why):
    root = service({"db/engine.py": dedent(engine_source) + "\n", SUBSYSTEM: routes(FLUSH_ONLY)})
    before = read(root, SUBSYSTEM)
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked"
    assert "AM271" in found["codes"]
    reasons = " ".join(found["reasons"])
    assert "`create_session` is a `@contextmanager` opener" in reasons
    assert why in reasons, reasons
    assert read(root, SUBSYSTEM) == before


# Airflow's settings: the sessionmakers start as None and a function sets them under `global`.
CONFIGURED = SETTINGS.replace(
    "NonScopedSession = sessionmaker(engine, expire_on_commit=False)\nSession = scoped_session(NonScopedSession)\n",
    "NonScopedSession: sessionmaker | None = None\nSession: scoped_session | None = None\n\n\n"
    "def configure() -> None:\n    global NonScopedSession, Session\n"
    "    NonScopedSession = sessionmaker(engine, expire_on_commit=False)\n"
    "    Session = scoped_session(NonScopedSession)\n\n\nconfigure()\n",
)


def test_a_sessionmaker_set_under_global_is_named_with_the_setting_that_reads_it(cli, service):
    root = service({
        "db/settings.py": dedent(CONFIGURED) + "\n", "db/engine.py": dedent(ENGINE) + "\n", SUBSYSTEM: routes(FLUSH_ONLY),
    })
    before = read(root, SUBSYSTEM)
    found = handler(apply(cli, root), "create_item")
    assert found["codes"] == ["AM271"]
    reasons = " ".join(found["reasons"])
    assert "`getattr(settings, \"NonScopedSession\", None)` (`db.settings.NonScopedSession`) is no sessionmaker" in reasons
    assert "name `db.settings.NonScopedSession` in [tool.async-migrate] sessionmakers" in reasons
    # the reason names the module-level `None` and the assignment under `global`, with their lines
    text = read(root, "db/settings.py")
    declared, assigned = line_in(text, "NonScopedSession: sessionmaker | None = None"), line_in(
        text, "    NonScopedSession = sessionmaker("
    )
    assert (
        f"db/settings.py:{declared} binds it to `None`, and it is set only inside functions, under `global "
        f"NonScopedSession`: `NonScopedSession = sessionmaker(...)` in `configure()` (db/settings.py:{assigned})"
    ) in reasons, reasons
    # Named so, the setting is not ignored (AM276) and the opener is the opening: what is left
    # is whether the reused async dependency reaches the same database (AM243).
    (root / "pyproject.toml").write_text(
        '[tool.async-migrate]\nsessionmakers = ["db.settings.NonScopedSession"]\n', encoding="utf-8"
    )
    found = handler(apply(cli, root), "create_item")
    assert found["codes"] == ["AM243"], found["reasons"]
    assert read(root, SUBSYSTEM) == before
