"""AM283 listener-opens-sync-session: a listener on the Session class that opens a synchronous
Session of its own (here through a helper) blocks the stack: under an AsyncSession it runs on
the event loop. One working on the Session it receives does not."""

from __future__ import annotations

from textwrap import dedent

import pytest

ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    session.commit()
"""
ENGINE = """
from collections.abc import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from models import Book


engine = create_engine("sqlite://")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


{listener}
"""
OPENS = '''
def _write_audit(title):
    with database_sessionmaker.begin() as audit:
        audit.add(Book(title=title, author_id=1))


@event.listens_for(Session, "after_commit")
def _audit(session):
    _write_audit("audit")
'''
RECEIVED = '''
@event.listens_for(Session, "before_flush")
def _audit(session, context, instances):
    session.add(Book(title="audit", author_id=1))
'''


def engine_module(listener: str) -> str:
    return dedent(ENGINE).lstrip("\n").replace("{listener}", dedent(listener).strip() + "\n")


def test_a_session_listener_opening_a_sync_session_blocks_the_stack(phase2, entry):
    text = engine_module(OPENS)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("@event.listens_for"))
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM283" in found["codes"], found
    blockers = document["subsystem"]["global_blockers"]
    assert any(b.startswith(f"db/engine.py:{line}: ") and "db.engine._write_audit" in b for b in blockers), blockers


def test_near_miss_a_listener_working_on_the_session_it_receives_does_not_block(phase2, entry):
    found = entry(phase2(ROUTE, {"db/engine.py": engine_module(RECEIVED)}), "create_book")
    assert found["action"] == "migrate" and "AM283" not in found["codes"], found


MAPPER_OPENS = {
    # the flush of every AsyncSession writing a Book runs it, on the event loop
    "mapper": '''
@event.listens_for(Book, "before_insert")
def _check(mapper, connection, target):
    with database_sessionmaker() as lookup:
        lookup.get(Book, 1)
''',
    # the route's own attribute write runs it
    "attribute": '''
def _check(target, value, old, initiator):
    with database_sessionmaker() as lookup:
        lookup.get(Book, 1)


event.listen(Book.title, "set", _check)
''',
}
MAPPER_RECEIVED = '''
@event.listens_for(Book, "before_insert")
def _check(mapper, connection, target):
    connection.execute(select(Book.id).where(Book.title == target.title))
'''


def test_a_mapper_or_attribute_listener_opening_a_sync_session_blocks_the_stack(phase2, entry):
    for kind, listener in MAPPER_OPENS.items():
        text = engine_module(listener).replace("from sqlalchemy import create_engine, event", "from sqlalchemy import create_engine, event, select")
        line = next(n for n, t in enumerate(text.splitlines(), 1) if "listen" in t and "import" not in t)
        document = phase2(ROUTE, {"db/engine.py": text})
        found = entry(document, "create_book")
        assert found["action"] == "blocked" and "AM283" in found["codes"], (kind, found)
        blockers = document["subsystem"]["global_blockers"]
        assert any(b.startswith(f"db/engine.py:{line}: ") and "connection.scalar" in b for b in blockers), (kind, blockers)


def test_near_miss_a_mapper_listener_working_on_the_connection_it_receives_does_not_block(phase2, entry):
    text = engine_module(MAPPER_RECEIVED).replace("from sqlalchemy import create_engine, event", "from sqlalchemy import create_engine, event, select")
    found = entry(phase2(ROUTE, {"db/engine.py": text}), "create_book")
    assert found["action"] == "migrate" and "AM283" not in found["codes"], found


SCOPED = {
    # a nested def an application factory's setup function registers
    "nested": '''
def setup_events():
    @event.listens_for(Session, "after_commit")
    def _audit(session):
        with database_sessionmaker.begin() as audit:
            audit.add(Book(title="audit", author_id=1))
''',
    # a handler the registering function imports
    "imported": '''
def init_db(bind):
    from hooks import publish

    event.listen(Session, "after_commit", publish)
''',
    # a nested def handed to event.listen
    "nested-listen": '''
def init_db(bind):
    def _audit(session):
        with database_sessionmaker.begin() as audit:
            audit.add(Book(title="audit", author_id=1))

    event.listen(Session, "after_commit", _audit)
''',
}
HOOKS = '''
from db.engine import database_sessionmaker
from models import Book


def publish(session):
    with database_sessionmaker.begin() as outbox:
        outbox.add(Book(title="sent", author_id=1))
'''


@pytest.mark.parametrize("shape", sorted(SCOPED))
def test_a_session_listener_a_function_registers_opening_a_sync_session_blocks_the_stack(phase2, entry, shape):
    text = engine_module(SCOPED[shape])
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "listen" in t and "import" not in t)
    document = phase2(ROUTE, {"db/engine.py": text, "hooks.py": HOOKS})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM283" in found["codes"], found
    blockers = document["subsystem"]["global_blockers"]
    assert any(b.startswith(f"db/engine.py:{line}: ") and " of its own " in b for b in blockers), blockers


def test_near_miss_a_nested_session_listener_working_on_the_session_it_receives_does_not_block(phase2, entry):
    nested = '''
def setup_events():
    @event.listens_for(Session, "before_flush")
    def _audit(session, context, instances):
        session.add(Book(title="audit", author_id=1))
'''
    found = entry(phase2(ROUTE, {"db/engine.py": engine_module(nested)}), "create_book")
    assert found["action"] == "migrate" and "AM283" not in found["codes"], found


UNREAD = {
    # a bound method of a module-level instance: what it runs is not read
    "method": '''
class Relay:
    def on_commit(self, session):
        with database_sessionmaker.begin() as outbox:
            outbox.add(Book(title="sent", author_id=1))


relay = Relay()


def init_db():
    event.listen(Session, "after_commit", relay.on_commit)
''',
    "lambda": '''
def _send(title):
    with database_sessionmaker.begin() as outbox:
        outbox.add(Book(title=title, author_id=1))


event.listen(Session, "after_commit", lambda session: _send("sent"))
''',
}


@pytest.mark.parametrize("shape", sorted(UNREAD))
def test_a_session_listener_whose_function_is_not_read_blocks_as_unverified(phase2, entry, shape):
    text = engine_module(UNREAD[shape])
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "event.listen(" in t)
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM283" in found["codes"], found
    blockers = document["subsystem"]["global_blockers"]
    assert any(b.startswith(f"db/engine.py:{line}: ") and "unverified" in b for b in blockers), blockers


def test_near_miss_a_session_listener_from_a_library_does_not_block(phase2, entry):
    library = 'from sqlalchemy.orm import close_all_sessions\n\nevent.listen(Session, "after_commit", close_all_sessions)\n'
    found = entry(phase2(ROUTE, {"db/engine.py": engine_module(library)}), "create_book")
    assert found["action"] == "migrate" and "AM283" not in found["codes"], found
