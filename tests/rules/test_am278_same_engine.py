"""AM278 other-database, AM231 several-sessionmakers and AM216 generator-helper reasons that said what
is not so. A second sessionmaker bound to the stack's own engine (`ReadLocal = sessionmaker(bind=
engine)` beside `database_sessionmaker = sessionmaker(engine)`) was "another database's": it is the
same database, only that sessionmaker's options are not carried over. A `@contextmanager` opener
doing nothing but `with Session(engine) as s: yield s` (or `s = Session(engine)` ... `s.close()`)
"does more than open, yield, commit, roll back and close its Session": it does only that, opening
with arguments. Near misses: a second engine's sessionmaker is still another database's, and an
opener that logs still does more."""

from __future__ import annotations

from conftest import ENGINE

from rules.test_am278_other_database import ANALYTICS, FILES, ROUTER

SAME_ENGINE = ENGINE + """

ReadLocal = sessionmaker(bind=engine)
"""


def test_a_sessionmaker_on_the_stacks_engine_is_not_called_another_database(phase2, entry):
    router = "from db.engine import ReadLocal\n\n" + ROUTER.format(maker="ReadLocal")
    found = entry(phase2(router, {"db/engine.py": SAME_ENGINE}), "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM278"], found
    assert "another database" not in found["reasons"][0], found
    assert "the same database (both are bound to the engine `engine`)" in found["reasons"][0], found


def test_near_miss_another_engines_sessionmaker_is_another_database(phase2, entry):
    router = "from db.analytics import AnalyticsSession\n\n" + ROUTER.format(maker="AnalyticsSession")
    found = entry(phase2(router, FILES), "count")
    assert "another database's" in found["reasons"][0], found
    assert "same database" not in found["reasons"][0], found


TWO_DEPENDENCIES = SAME_ENGINE + """

def get_read_db():
    with ReadLocal() as session:
        yield session
"""
READS = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_read_db


@router.get("/read")
def read(db: Session = Depends(get_read_db)):
    return {"n": db.scalar(select(func.count(Book.id)))}


@router.get("/count")
def count(db: session_dependency):
    return {"n": db.scalar(select(func.count(Book.id)))}
"""


def test_two_dependencies_sessionmakers_on_one_engine_are_one_database(phase2, entry):
    document = phase2(READS, {"db/engine.py": TWO_DEPENDENCIES})
    found = entry(document, "count")
    assert found["codes"] == ["AM231"], found
    assert "another database" not in found["reasons"][0], found
    assert "on the same engine `engine` (one database)" in found["reasons"][0], found


def test_near_miss_two_dependencies_on_two_engines_are_two_databases(phase2, entry):
    document = phase2(READS.replace("from db.engine import get_read_db", "from db.analytics import get_read_db"), {
        "db/analytics.py": ANALYTICS.replace("get_analytics_db", "get_read_db"),
    })
    found = entry(document, "count")
    assert "another database than" in found["reasons"][0], found


OPENERS = ENGINE.replace("from sqlalchemy.orm import", "from contextlib import contextmanager\n\nfrom sqlalchemy.orm import") + """

@contextmanager
def session_scope():
    with Session(engine) as s:
        yield s


@contextmanager
def closing_scope():
    s = Session(engine)
    try:
        yield s
    finally:
        s.close()


@contextmanager
def logged_scope():
    with Session(engine) as s:
        print("opened")
        yield s
"""
SCOPED = """
from db.engine import closing_scope, logged_scope, session_scope


@router.get("/scoped")
def scoped(db: session_dependency):
    with session_scope() as s:
        n = s.scalar(select(func.count(Book.id)))
    with closing_scope() as s:
        m = s.scalar(select(func.count(Book.id)))
    with logged_scope() as s:
        k = s.scalar(select(func.count(Book.id)))
    return {"n": n + m + k}
"""


def test_an_opener_only_opening_with_arguments_is_not_said_to_do_more(phase2):
    document = phase2(SCOPED, {"db/engine.py": OPENERS})
    found = [b["message"] for b in sorted(document["subsystem"]["blockers"], key=lambda b: b["line"])
             if b["code"] == "AM216" and b["file"] == "db/engine.py"]
    session_scope, closing_scope, logged_scope = found
    for message, opening in ((session_scope, "with Session(engine) as s:"), (closing_scope, "s = Session(engine)")):
        assert "does more than open" not in message, message
        assert "its body opens its Session with arguments (line " in message, message
        assert f": `{opening}`) rather than calling a sessionmaker with none" in message, message
    # near miss: the log line is more than the lifecycle
    assert "does more than open, yield, commit, roll back and close its Session (line " in logged_scope
