"""AM304 for a local bound to what the imported application's state keeps (`s = app.state.db`
then `s.execute(...)`), a value the analysis cannot type. `request.app.state.db` bound to a
local was followed already; the module-level path bound to one was not, and `check` passed
the route doing that Session work on the event loop."""

from __future__ import annotations

import pytest

MAIN = """
from contextlib import asynccontextmanager

from fastapi import FastAPI

from db.engine import database_sessionmaker


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.db = database_sessionmaker()
    yield
    app.state.db.close()


app = FastAPI(lifespan=lifespan)
"""


@pytest.mark.parametrize(
    "body",
    ["s = app.state.db\n            return s.execute(text('select 1')).scalar()",
     "return app.state.db.execute(text('select 1')).scalar()"],
    ids=["aliased", "direct"],
)
def test_work_on_what_the_imported_applications_state_keeps_is_unverified(app, findings, body):
    root = app(
        f"""
        from sqlalchemy import text

        from main import app


        @router.get("/count")
        async def count():
            {body}
        """,
        {"main.py": MAIN},
    )
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "which the analysis cannot type" in found[0]["message"]


def test_near_miss_a_local_bound_to_a_module_setting_is_no_session(app, findings):
    root = app(
        """
        from sqlalchemy import text

        from main import app


        @router.get("/title")
        async def title():
            s = app.title
            return s.strip()
        """,
        {"main.py": MAIN},
    )
    assert findings(root, "title") == []


@pytest.mark.parametrize(
    "body",
    ["return request.app.state.conn.execute(text('select 1')).scalar()",
     "s = request.app.state.conn\n            return s.execute(text('select 1')).scalar()"],
    ids=["direct", "aliased"],
)
def test_a_session_the_lifespan_keeps_under_any_name_is_unverified(app, findings, body):
    # before: silent, the attribute being named unlike a Session (`conn`, not `db`)
    root = app(
        f"""
        from fastapi import Request
        from sqlalchemy import text


        @router.get("/count")
        async def count(request: Request):
            {body}
        """,
        {"main.py": MAIN.replace("app.state.db", "app.state.conn")},
    )
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM304"], found


def test_near_miss_another_object_the_lifespan_keeps_is_no_session(app, findings):
    main = MAIN.replace("app.state.db = database_sessionmaker()", "app.state.conn = object()")
    main = main.replace("app.state.db.close()", "pass")
    root = app(
        """
        from fastapi import Request
        from sqlalchemy import text


        @router.get("/count")
        async def count(request: Request):
            return request.app.state.conn.execute(text('select 1'))
        """,
        {"main.py": main},
    )
    assert findings(root, "count") == []
