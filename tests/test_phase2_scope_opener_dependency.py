"""A session dependency that enters a `@contextmanager` opener (`with session_scope() as db:
yield db`), the SQLAlchemy documentation's pattern (Airflow's `create_session`).

When the opener's body is only the Session's lifecycle (the openers phase two twins), the
dependency does nothing more per request than open, yield and commit: phase two migrates
its routes instead of blocking the subsystem (AM271), and the generated async dependency
commits when the opener does, or the rows a route only added or flushed are dropped while it
answers 200. Each case is migrated and then RUN.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness as soundness
from test_phase2_commit_on_exit import COUNT, EXISTING_ASYNC, FLUSH_ONLY
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve


@pytest.fixture(name="service")
def service_fixture(project):  # type: ignore[no-untyped-def]
    def build(files: dict[str, str]):  # type: ignore[no-untyped-def]
        return project({
            "db/engine.py": soundness.ENGINE, "db/__init__.py": "", "core/__init__.py": "",
            "core/dependencies.py": soundness.DEPENDENCIES, "api/__init__.py": "",
            "models.py": soundness.MODELS, "main.py": soundness.MAIN, **files,
        })

    return build


SCOPED_ENGINE = """
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def get_db_session() -> Iterator[Session]:
    with session_scope() as db:
        yield db
"""
# The opener does not commit: a flushed row was never saved, and must not start being saved.
NO_COMMIT_ENGINE = SCOPED_ENGINE.replace("        session.commit()\n", "")
# An opener doing more than the lifecycle stays the dependency's extra work.
TAGGING_ENGINE = SCOPED_ENGINE.replace(
    "    session = database_sessionmaker()\n", "    session = database_sessionmaker()\n    session.info['tenant'] = 'a'\n"
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_dependency_entering_a_committing_opener_migrates_and_still_saves(cli, service, kind):
    root = service({"db/engine.py": dedent(SCOPED_ENGINE) + "\n", SUBSYSTEM: routes(FLUSH_ONLY)})
    assert serve(root, kind, COUNT) == {"status": 200, "saved": 1}  # before: the opener commits
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "migrate", found
    assert "await session.commit()" in read(root, "db/engine.py").split("async def get_async_db_session")[1]
    assert serve(root, kind, COUNT) == {"status": 200, "saved": 1}  # after: still saved


def test_a_dependency_entering_an_opener_that_does_not_commit_gets_no_commit(cli, service):
    root = service({"db/engine.py": dedent(NO_COMMIT_ENGINE) + "\n", SUBSYSTEM: routes(FLUSH_ONLY)})
    assert serve(root, "sqlite", COUNT) == {"status": 200, "saved": 0}
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "session.commit()" not in read(root, "db/engine.py").split("async def get_async_db_session")[1]
    assert serve(root, "sqlite", COUNT) == {"status": 200, "saved": 0}


def test_an_opener_doing_more_than_the_lifecycle_still_blocks(cli, service):
    root = service({"db/engine.py": dedent(TAGGING_ENGINE) + "\n", SUBSYSTEM: routes(FLUSH_ONLY)})
    before = read(root, SUBSYSTEM)
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked"
    assert "AM271" in found["codes"]
    assert "session_scope()" in " ".join(found["reasons"])
    assert read(root, SUBSYSTEM) == before


# An opener taking a parameter its body never reads, entered with a constant: the call is the
# opening (test_phase2_parameter_opener.py reads Airflow's `create_session(scoped=False)`), and
# the reused async dependency, which does not commit, is what still blocks.
PARAMETER_ENGINE = SCOPED_ENGINE.replace("def session_scope() ->", "def session_scope(scoped: bool = True) ->").replace(
    "with session_scope() as db:", "with session_scope(scoped=False) as db:"
)


def test_an_opener_taking_a_parameter_is_the_opening_and_the_reused_dependency_must_commit(cli, service):
    root = service({
        "db/engine.py": dedent(PARAMETER_ENGINE) + "\n" + EXISTING_ASYNC, SUBSYSTEM: routes(FLUSH_ONLY),
    })
    before = read(root, SUBSYSTEM)
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked"
    assert found["codes"] == ["AM240"]
    reasons = " ".join(found["reasons"])
    assert "the synchronous session dependency commits" in reasons
    assert "`get_async_db_session`" in reasons
    assert read(root, SUBSYSTEM) == before
