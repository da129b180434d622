"""AM317 session-closed-before-stream: a generator a StreamingResponse runs after the handler
returned uses a Session whose dependency has `scope="function"` (closed before the response)."""

from __future__ import annotations

from conftest import DEPENDENCIES

SCOPED = DEPENDENCIES.replace("Depends(get_db_session)", 'Depends(get_db_session, scope="function")')
ROUTES = """
from fastapi import Depends
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import get_db_session


def lines(session):
    for row in session.execute(text("select 1")):
        yield f"{row[0]}\\n"


@router.get("/nested")
def nested(session: session_dependency):
    def rows():
        for row in session.execute(text("select 1")):
            yield f"{row[0]}\\n"

    return StreamingResponse(rows())


@router.get("/live")
async def live(session: session_dependency):
    async def rows():
        for row in session.execute(text("select 1")):
            yield f"{row[0]}\\n"

    return StreamingResponse(rows())


@router.get("/helper")
def helper(session: session_dependency):
    return StreamingResponse(lines(session))


@router.get("/inline")
def inline(session: Session = Depends(get_db_session, scope="function")):
    return StreamingResponse(lines(session))


@router.get("/events", response_class=EventSourceResponse)
def events(session: session_dependency):
    for row in session.execute(text("select 1")):
        yield {"n": row[0]}


@router.get("/before")
def before(session: session_dependency):
    body = "".join(lines(session))
    return StreamingResponse(iter([body]))
"""


def test_a_streamed_generator_on_a_function_scoped_session_is_am317(app, findings):
    root = app(ROUTES, {"core/dependencies.py": SCOPED})
    for function in ("nested", "live", "helper", "inline", "events"):
        found = [f for f in findings(root, function) if f["code"] == "AM317"]
        assert len(found) == 1, (function, findings(root, function))
        message = found[0]["message"]
        assert 'scope="function"' in message and "until the pool is exhausted" in message, message
    assert "`session_dependency` has" in [f for f in findings(root, "helper") if f["code"] == "AM317"][0]["message"]
    # A generator route: FastAPI runs its whole body after the function-scoped dependency ended.
    message = [f for f in findings(root, "events") if f["code"] == "AM317"][0]["message"]
    assert "is a generator, whose body FastAPI runs while it streams the response" in message, message
    assert "what the body writes is never committed" in message, message


def test_near_miss_the_default_scope_or_a_generator_run_before_returning_is_clean(app, findings):
    root = app(ROUTES, {"core/dependencies.py": SCOPED})
    assert [f for f in findings(root, "before") if f["code"] == "AM317"] == []
    plain = app(ROUTES.replace(', scope="function"', ""))
    for function in ("nested", "live", "helper", "inline", "events"):
        assert [f for f in findings(plain, function) if f["code"] == "AM317"] == [], function


def test_a_pragma_silences_am317(app, findings):
    source = ROUTES.replace(
        "def nested(session: session_dependency):",
        "def nested(session: session_dependency):  # async-migrate: ignore[AM317] tiny table, measured",
    )
    root = app(source, {"core/dependencies.py": SCOPED})
    assert findings(root, "nested") == []


# The handler opens the Session itself as a `with` item and hands it to the streamed generator:
# leaving the block closes it before the response is sent, and each request keeps a connection
# checked out (a pool of one times out on the second request).
OPENED = """
from fastapi.responses import StreamingResponse
from sqlalchemy import text

from db.engine import database_sessionmaker


def lines(session):
    for row in session.execute(text("select 1")):
        yield f"{row[0]}\\n"


def own_lines():
    with database_sessionmaker() as session:
        yield from lines(session)


@router.get("/helper")
def helper():
    with database_sessionmaker() as session:
        return StreamingResponse(lines(session))


@router.get("/nested")
async def nested():
    with database_sessionmaker() as session:
        def rows():
            for row in session.execute(text("select 1")):
                yield f"{row[0]}\\n"

        return StreamingResponse(rows())


@router.get("/own")
def own():
    return StreamingResponse(own_lines())


@router.get("/read")
def read():
    with database_sessionmaker() as session:
        body = "".join(lines(session))
    return StreamingResponse(iter([body]))


@router.get("/generator")
def generator():
    with database_sessionmaker() as session:
        yield from lines(session)
"""


def test_a_session_the_handler_opens_in_a_with_block_handed_to_the_stream_is_am317(app, findings):
    root = app(OPENED)
    for function, line in (("helper", 26), ("nested", 32)):
        found = [f for f in findings(root, function) if f["code"] == "AM317"]
        assert len(found) == 1, (function, findings(root, function))
        message = found[0]["message"]
        assert f"opens in a `with` block (line {line})" in message, message
        assert "until the pool is exhausted" in message and "scope=" not in message, message


def test_near_miss_a_generator_opening_its_own_session_or_one_run_inside_the_block(app, findings):
    root = app(OPENED)
    for function in ("own", "read", "generator"):
        assert [f for f in findings(root, function) if f["code"] == "AM317"] == [], function


def test_near_miss_a_with_block_inside_the_streamed_generator(app, findings):
    source = """
    from fastapi.responses import StreamingResponse
    from sqlalchemy import text

    from db.engine import database_sessionmaker


    @router.get("/inside")
    async def inside():
        async def rows():
            with database_sessionmaker() as session:
                for row in session.execute(text("select 1")):
                    yield f"{row[0]}\\\\n"

        return StreamingResponse(rows())
    """
    assert [f for f in findings(app(source), "inside") if f["code"] == "AM317"] == []


# A background task runs after the response too: the function-scoped dependency, or the `with`
# block, has closed the Session it is handed, and what the task changes on the objects loaded
# there is never saved.
TASKS = """
from typing import Annotated

from fastapi import BackgroundTasks, Depends
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse

from db.engine import database_sessionmaker, get_db_session


def mark_sent(session, label):
    session.execute(text("select 1"))
    session.commit()


@router.post("/scoped")
def scoped(tasks: BackgroundTasks, session: Annotated[Session, Depends(get_db_session, scope="function")]):
    tasks.add_task(mark_sent, session, "x")
    return {"ok": True}


@router.post("/opened")
def opened():
    with database_sessionmaker() as session:
        session.execute(text("select 1"))
        return JSONResponse({"ok": True}, background=BackgroundTask(mark_sent, session, "x"))


@router.post("/default")
def default(tasks: BackgroundTasks, session: session_dependency):
    tasks.add_task(mark_sent, session, "x")
    return {"ok": True}


@router.post("/label")
def label(tasks: BackgroundTasks, session: Annotated[Session, Depends(get_db_session, scope="function")]):
    tasks.add_task(print, "x")
    return {"ok": True}
"""


def test_a_closed_session_handed_to_a_background_task_is_am317(app, findings):
    root = app(TASKS)
    for function, line, closer in (("scoped", 26, 'closes (`scope="function"`)'), ("opened", 34, "`with` block (line 32)")):
        found = [f for f in findings(root, function) if f["code"] == "AM317"]
        assert len(found) == 1, (function, findings(root, function))
        assert [(b["line"], b["call"]) for b in found[0]["blocking"]] == [(line, "api.items.mark_sent(...)")]
        message = found[0]["message"]
        assert "to a background task Starlette runs after the response" in message, message
        assert "a change the task makes to them is never saved" in message and closer in message, message


def test_near_miss_the_default_scope_or_a_task_given_no_session(app, findings):
    root = app(TASKS)
    for function in ("default", "label"):
        assert [f for f in findings(root, function) if f["code"] == "AM317"] == [], function
