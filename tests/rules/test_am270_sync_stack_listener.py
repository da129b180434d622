"""AM270 sync-stack-listener: a listener on the synchronous engine blocks the stack (the async one
would never run it), and so does one on the sessionmaker an async_sessionmaker written by hand does
not run the class of; listeners on the Session class itself, on the Session subclass the generated
async_sessionmaker keeps as sync_session_class=, on the sessionmaker (whose class it keeps as
`sync_session_class=database_sessionmaker.class_`) and on mapped classes reach the async stack and
do not."""

from __future__ import annotations

from textwrap import dedent

import pytest

ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    session.flush()
"""
ENGINE_HEAD = """
from collections.abc import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from models import Book


class AppSession(Session):
    pass


engine = create_engine("sqlite://")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False{class_})


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session

"""
BLOCKING = {
    "engine": '@event.listens_for(engine, "connect")\ndef _on(dbapi_connection, record):\n    pass\n',
    "engine_pool": 'def _on(*args):\n    pass\n\n\nevent.listen(engine.pool, "checkout", _on)\n',
}
HARMLESS = {
    # the generated async_sessionmaker runs the class the sessionmaker makes
    "sessionmaker": '@event.listens_for(database_sessionmaker, "before_flush")\ndef _on(session, context, instances):\n    pass\n',
    "sessionmaker_class": 'def _on(*args):\n    pass\n\n\nevent.listen(database_sessionmaker.class_, "after_commit", _on)\n',
    # the generated async_sessionmaker keeps the sessionmaker's class_= as sync_session_class=
    "session_subclass": 'def _on(session, context, instances):\n    pass\n\n\nevent.listen(AppSession, "before_flush", _on)\n',
    "session_class": '@event.listens_for(Session, "before_flush")\ndef _on(session, context, instances):\n    pass\n',
    "mapper": '@event.listens_for(Book, "before_insert")\ndef _on(mapper, connection, target):\n    pass\n',
}


def engine_module(listener: str, class_: str = "") -> str:
    return dedent(ENGINE_HEAD).format(class_=class_).lstrip("\n") + "\n" + listener


@pytest.mark.parametrize("kind", sorted(BLOCKING))
def test_a_listener_on_the_sync_stack_blocks_with_am270_naming_where(phase2, entry, kind):
    text = engine_module(BLOCKING[kind])
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "listen" in t and "import" not in t)
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
    assert any(b.startswith(f"db/engine.py:{line}: ") for b in document["subsystem"]["global_blockers"]), document
    assert "sync_engine" in " ".join(found["reasons"]) if kind.startswith("engine") else "sync_session_class=" in " ".join(found["reasons"])


@pytest.mark.parametrize("kind", sorted(HARMLESS))
def test_near_miss_listeners_on_the_session_class_or_a_model_do_not_block(phase2, entry, kind):
    text = engine_module(HARMLESS[kind], ", class_=AppSession" if kind == "session_subclass" else "")
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "migrate" and "AM270" not in found["codes"], found
    if kind == "session_subclass":
        assert "sync_session_class=AppSession" in document["diff"], document["diff"]
    elif kind.startswith("sessionmaker"):
        assert "sync_session_class=database_sessionmaker.class_" in document["diff"], document["diff"]
    else:
        assert "sync_session_class" not in document["diff"], document["diff"]


def test_a_sessionmaker_listener_beside_a_session_subclass_keeps_the_sessionmakers_class(phase2, entry):
    # `database_sessionmaker.class_` derives from AppSession: its overrides and listeners stay too.
    text = engine_module(HARMLESS["sessionmaker"], ", class_=AppSession")
    document = phase2(ROUTE, {"db/engine.py": text})
    assert entry(document, "create_book")["action"] == "migrate", entry(document, "create_book")
    assert "sync_session_class=database_sessionmaker.class_" in document["diff"], document["diff"]
    assert "sync_session_class=AppSession" not in document["diff"], document["diff"]


HAND_WRITTEN = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: E402

async_engine = create_async_engine("sqlite+aiosqlite://")
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False{carried})
"""


@pytest.mark.parametrize("target", ["database_sessionmaker", "database_sessionmaker.class_"])
def test_a_sessionmaker_listener_an_async_sessionmaker_written_by_hand_does_not_run_blocks(phase2, entry, target):
    listener = f'def _on(*args):\n    pass\n\n\nevent.listen({target}, "after_commit", _on)\n'
    text = engine_module(listener + HAND_WRITTEN.format(carried=""))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("event.listen("))
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
    assert any(b.startswith(f"db/engine.py:{line}: ") for b in document["subsystem"]["global_blockers"]), document


@pytest.mark.parametrize("carried", ["database_sessionmaker.class_", "AppSession"])
def test_an_async_sessionmaker_written_by_hand_running_the_sessionmakers_class_is_reused(phase2, entry, carried):
    # Only the sessionmaker's own class carries the listener; a listener on AppSession would need
    # AppSession itself, and one on the sessionmaker is on a subclass of AppSession.
    listener = 'def _on(*args):\n    pass\n\n\nevent.listen(database_sessionmaker, "after_commit", _on)\n'
    text = engine_module(listener + HAND_WRITTEN.format(carried=f", sync_session_class={carried}"), ", class_=AppSession")
    found = entry(phase2(ROUTE, {"db/engine.py": text}), "create_book")
    if carried == "AppSession":
        assert found["action"] == "blocked" and "AM270" in found["codes"], found
    else:
        assert found["action"] == "migrate" and "AM270" not in found["codes"], found


def test_near_miss_a_listener_on_another_engine_does_not_block(phase2, entry):
    other = 'other = create_engine("sqlite://")\n\n\n@event.listens_for(other, "connect")\ndef _on(c, r):\n    pass\n'
    found = entry(phase2(ROUTE, {"db/engine.py": engine_module(other)}), "create_book")
    assert found["action"] == "migrate" and "AM270" not in found["codes"], found


def test_near_miss_a_listener_in_test_code_is_a_follow_up_not_a_blocker(phase2, entry):
    conftest = 'from sqlalchemy import event\n\nfrom db.engine import engine\n\n\n' + BLOCKING["engine"]
    document = phase2(ROUTE, {"db/engine.py": engine_module(""), "tests/__init__.py": "", "tests/conftest.py": conftest})
    found = entry(document, "create_book")
    assert found["action"] == "migrate" and "AM270" not in found["codes"], found
    assert any(
        f.startswith('tests/conftest.py:6: `@event.listens_for(engine, "connect")` in test code')
        and "async_engine.sync_engine" in f
        for f in document["subsystem"]["follow_ups"]
    ), document["subsystem"]["follow_ups"]


def test_a_listener_in_a_module_of_its_own_blocks_too(phase2, entry):
    # No Session, route or dependency in this module: it is read for its listener all the same.
    events = 'from sqlalchemy import event\n\nfrom db.engine import engine\n\n\ndef _on(c, r):\n    pass\n\n\nevent.listen(engine, "connect", _on)\n'
    document = phase2(ROUTE, {"db/engine.py": engine_module(""), "db/events.py": events})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
    assert document["subsystem"]["global_blockers"][0].startswith("db/events.py:10: "), document["subsystem"]


THROUGH_HELPER = {
    # the helper's parameter names the sessionmaker at the call, or by default
    "argument": ("def install(target):\n    event.listen(target, \"after_commit\", _on)\n\n\n", "install(database_sessionmaker)"),
    "keyword": ("def install(*, target):\n    event.listen(target, \"after_commit\", _on)\n\n\n", "install(target=database_sessionmaker)"),
    "default": ("def install(target=database_sessionmaker):\n    event.listen(target, \"after_commit\", _on)\n\n\n", "install()"),
    "engine": ("def install(target):\n    event.listen(target, \"connect\", _on)\n\n\n", "install(engine)"),
}


@pytest.mark.parametrize("kind", sorted(THROUGH_HELPER))
def test_a_listener_registered_through_a_helpers_parameter_blocks_naming_the_call(phase2, entry, kind):
    # on the sessionmaker: blocked where the async sessions (written by hand) run plain Sessions
    helper, call = THROUGH_HELPER[kind]
    text = engine_module(f"def _on(*args):\n    pass\n\n\n{helper}{call}\n" + HAND_WRITTEN.format(carried=""))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == call)
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
    assert any(b.startswith(f"db/engine.py:{line}: `{call}` registers") for b in document["subsystem"]["global_blockers"])


@pytest.mark.parametrize("kind", sorted(set(THROUGH_HELPER) - {"engine"}))
def test_near_miss_a_helper_registering_on_the_sessionmaker_keeps_its_class_in_a_generated_stack(phase2, entry, kind):
    helper, call = THROUGH_HELPER[kind]
    document = phase2(ROUTE, {"db/engine.py": engine_module(f"def _on(*args):\n    pass\n\n\n{helper}{call}\n")})
    assert entry(document, "create_book")["action"] == "migrate", entry(document, "create_book")
    assert "sync_session_class=database_sessionmaker.class_" in document["diff"], document["diff"]


def test_near_miss_a_helper_registering_on_a_model_does_not_block(phase2, entry):
    helper = 'def _on(*args):\n    pass\n\n\ndef install(target):\n    event.listen(target, "before_insert", _on)\n\n\ninstall(Book)\n'
    found = entry(phase2(ROUTE, {"db/engine.py": engine_module(helper)}), "create_book")
    assert found["action"] == "migrate" and "AM270" not in found["codes"], found


def test_another_function_on_the_session_class_for_the_same_event_does_not_excuse_the_sessionmakers(phase2, entry):
    # Only the same function registered on the Session class as well keeps what it does.
    both = (
        '@event.listens_for(database_sessionmaker, "after_commit")\ndef _clear_cache(session):\n    pass\n\n\n'
        '@event.listens_for(Session, "after_commit")\ndef _outbox(session):\n    pass\n'
    )
    document = phase2(ROUTE, {"db/engine.py": engine_module(both + HAND_WRITTEN.format(carried=""))})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
    assert any("`database_sessionmaker`" in b for b in document["subsystem"]["global_blockers"]), document["subsystem"]


def test_near_miss_the_same_function_also_on_the_session_class_does_not_block(phase2, entry):
    both = (
        'def _clear_cache(session):\n    pass\n\n\n'
        'event.listen(database_sessionmaker, "after_commit", _clear_cache)\n'
        'event.listen(Session, "after_commit", _clear_cache)\n'
    )
    found = entry(phase2(ROUTE, {"db/engine.py": engine_module(both)}), "create_book")
    assert found["action"] == "migrate" and "AM270" not in found["codes"], found


SCOPED_IMPORT = '''
from sqlalchemy import event


def _fk_pragma(dbapi_connection, record):
    dbapi_connection.execute("pragma foreign_keys=on")


def init_db():
    from db.engine import database_sessionmaker, engine as bind

    event.listen(bind, "connect", _fk_pragma)
    event.listen(database_sessionmaker, "after_commit", _fk_pragma)
'''


def test_a_listener_a_function_registers_on_what_it_imports_itself_blocks(phase2, entry):
    document = phase2(ROUTE, {"db/engine.py": engine_module(HAND_WRITTEN.format(carried="")), "db/setup.py": SCOPED_IMPORT})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
    blockers = document["subsystem"]["global_blockers"]
    assert any(b.startswith("db/setup.py:11: ") and "synchronous engine `bind`" in b for b in blockers), blockers
    assert any(b.startswith("db/setup.py:12: ") and "sessionmaker `database_sessionmaker`" in b for b in blockers)


def test_near_miss_a_function_importing_another_engine_does_not_block(phase2, entry):
    other = SCOPED_IMPORT.replace("from db.engine import database_sessionmaker, engine as bind", "from db.other import bind")
    other = other.replace('    event.listen(database_sessionmaker, "after_commit", _fk_pragma)\n', "")
    files = {"db/engine.py": engine_module(""), "db/setup.py": other,
             "db/other.py": 'from sqlalchemy import create_engine\n\nbind = create_engine("sqlite://")\n'}
    found = entry(phase2(ROUTE, files), "create_book")
    assert found["action"] == "migrate" and "AM270" not in found["codes"], found


UNSEEN = {
    # nothing calls it where the tool looks (an entry point, a plugin list)
    "uncalled": "",
    # called with what the tool cannot name
    "computed": "install(make_target())\n",
    "starred": "install(*TARGETS)\n",
}


@pytest.mark.parametrize("kind", sorted(UNSEEN))
def test_a_listener_on_a_parameter_whose_calls_are_not_all_seen_blocks_as_unverified(phase2, entry, kind):
    helper = 'def _on(*args):\n    pass\n\n\ndef install(target):\n    event.listen(target, "after_commit", _on)\n\n\n'
    text = engine_module(helper + UNSEEN[kind])
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "event.listen(target" in t)
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
    assert any(b.startswith(f"db/engine.py:{line}: ") and "unverified" in b for b in document["subsystem"]["global_blockers"]), document["subsystem"]["global_blockers"]


def test_near_miss_an_uncalled_helper_registering_a_model_event_does_not_block(phase2, entry):
    helper = 'def _on(*args):\n    pass\n\n\ndef install(target):\n    event.listen(target, "before_insert", _on)\n'
    found = entry(phase2(ROUTE, {"db/engine.py": engine_module(helper)}), "create_book")
    assert found["action"] == "migrate" and "AM270" not in found["codes"], found


def test_near_miss_a_listener_a_route_registers_on_its_own_session_blocks_only_that_route(phase2, entry):
    # `db: session_dependency` is a Session, never the engine or sessionmaker: no AM270 for the
    # subsystem; the route registering it is blocked as an AsyncSession takes no listener (AM215).
    routes = ROUTE + dedent(
        """

        @router.post("/books/audited")
        def audited(session: session_dependency, title: str):
            event.listen(session, "before_flush", lambda s, c, i: None)
            session.add(Book(title=title, author_id=1))
            session.commit()
        """
    )
    document = phase2("from sqlalchemy import event\n\n" + routes)
    assert entry(document, "create_book")["action"] == "migrate", entry(document, "create_book")
    found = entry(document, "audited")
    assert found["action"] == "blocked" and "AM270" not in found["codes"] and "AM215" in found["codes"], found
    assert not document["subsystem"]["global_blockers"], document["subsystem"]["global_blockers"]


def test_a_listener_on_an_unannotated_parameter_of_a_function_nobody_calls_still_blocks(phase2, entry):
    text = engine_module('def _on(*args):\n    pass\n\n\ndef install(target):\n    event.listen(target, "after_commit", _on)\n')
    found = entry(phase2(ROUTE, {"db/engine.py": text}), "create_book")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found


def test_near_miss_a_listener_on_a_scoped_session_around_the_sessionmaker_keeps_its_class(phase2, entry):
    # A scoped_session's listeners go on its factory's class, the one the generated stack keeps.
    scoped = (
        "from sqlalchemy.orm import scoped_session  # noqa: E402\n\nScoped = scoped_session(database_sessionmaker)\n\n\n"
        'def _on(*args):\n    pass\n\n\nevent.listen(Scoped, "after_commit", _on)\n'
    )
    document = phase2(ROUTE, {"db/engine.py": engine_module(scoped)})
    assert entry(document, "create_book")["action"] == "migrate", entry(document, "create_book")
    assert "sync_session_class=database_sessionmaker.class_" in document["diff"], document["diff"]


EXPRESSIONS = {
    # what a call or an item returns is not followed: it may be the engine or the sessionmaker
    "call": ("def current_maker():\n    return database_sessionmaker\n\n\n", "current_maker()", "after_commit", True),
    "item": ("ENGINES = {\"main\": engine}\n\n\n", 'ENGINES["main"]', "connect", True),
    # a table's or a mapper's events never are the stack's
    "table": ("", 'Book.metadata.tables["books"]', "after_create", False),
    "mapper": ("from sqlalchemy import inspect  # noqa: E402\n\n\n", "inspect(Book)", "load", False),
}


@pytest.mark.parametrize("kind", sorted(EXPRESSIONS))
def test_a_listener_on_an_expression_blocks_as_unverified_unless_a_model_or_table_event(phase2, entry, kind):
    head, target, identifier, blocks = EXPRESSIONS[kind]
    text = engine_module(f'{head}def _on(*args):\n    pass\n\n\nevent.listen({target}, "{identifier}", _on)\n')
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("event.listen("))
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    if blocks:
        assert found["action"] == "blocked" and "AM270" in found["codes"], found
        assert any(
            b.startswith(f"db/engine.py:{line}: ") and "unverified" in b for b in document["subsystem"]["global_blockers"]
        ), document["subsystem"]["global_blockers"]
    else:
        assert found["action"] == "migrate" and "AM270" not in found["codes"], found


def test_near_miss_a_sessionmaker_listener_in_test_code_keeps_its_class_for_the_tests(phase2, entry):
    # The tests' listener runs for the migrated routes' sessions as for the synchronous ones.
    conftest = (
        "from sqlalchemy import event\n\nfrom db.engine import database_sessionmaker\n\n\n"
        + HARMLESS["sessionmaker"]
    )
    document = phase2(ROUTE, {"db/engine.py": engine_module(""), "tests/__init__.py": "", "tests/conftest.py": conftest})
    assert entry(document, "create_book")["action"] == "migrate", entry(document, "create_book")
    assert "sync_session_class=database_sessionmaker.class_" in document["diff"], document["diff"]
    assert not any("in test code" in f for f in document["subsystem"]["follow_ups"]), document["subsystem"]["follow_ups"]


@pytest.mark.parametrize("newer", [
    "type Rows = list[Book]\n",
    'LABEL = f"{ {"a": "b"}["a"]}"\n',
    "def first[T](items: list[T]) -> T:\n    return items[0]\n",
])
def test_a_listener_in_a_module_of_newer_syntax_still_blocks(phase2, entry, newer):
    # Python 3.11's `ast` refuses the module; the stack's analysis reads it as the pre-pass does.
    text = engine_module(BLOCKING["engine"]) + "\n\n" + newer
    document = phase2(ROUTE, {"db/engine.py": text})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and "AM270" in found["codes"], found
