"""AM304 unverified-session: `check` reports a handler whose Session work it cannot see, never all-clear."""

from __future__ import annotations

DEPS = """
from fastapi import Depends
from sqlalchemy.orm import Session
from vendor_sdk import make_repository

from db.engine import get_db_session


def get_repo(db: Session = Depends(get_db_session)):
    return make_repository(db)
"""


def test_check_reports_an_unverified_handler_with_am304(app, findings, cli):
    root = app(
        """
        from fastapi import Depends

        from deps import get_repo


        @router.get("/items")
        async def list_items(repo=Depends(get_repo)):
            return repo.list()
        """,
        {"deps.py": DEPS},
    )
    found = findings(root, "list_items")
    assert [f["code"] for f in found] == ["AM304"]
    assert "may do synchronous Session work the analysis cannot see" in found[0]["message"]
    assert cli("check", root).exit_code == 1


def test_near_miss_an_acknowledged_handler_is_silenced(app, findings, cli):
    root = app(
        """
        from fastapi import Depends

        from deps import get_repo


        # async-migrate: ignore[unverified-session] the vendor repository is offloaded by its own client
        @router.get("/items")
        async def list_items(repo=Depends(get_repo)):
            return repo.list()
        """,
        {"deps.py": DEPS},
    )
    assert findings(root, "list_items") == []
    assert cli("check", root).exit_code == 0


def test_a_depends_built_by_unseen_code_is_unverified_not_clean(app, findings, reported):
    root = app(
        """
        from fastapi import Depends

        from deps import make_dependency


        @router.get("/items")
        async def list_items(db=Depends(make_dependency())):
            return db.execute("select 1").all()
        """,
        {"deps.py": "def make_dependency():\n    return vendor.session_dependency\n"},
    )
    found = findings(root, "list_items")
    assert [f["code"] for f in found] == ["AM304"]
    assert "comes from `Depends(make_dependency())`, which the analysis cannot follow" in found[0]["message"]
    assert reported(root, "list_items", "phase1")["codes"] == ["AM125"]


def test_near_miss_a_lambda_dependency_giving_settings_is_no_finding(app, findings, cli):
    root = app(
        """
        from fastapi import Depends


        @router.get("/items")
        async def list_items(settings=Depends(lambda: {"page": 10})):
            return {"page": settings.get("page")}
        """
    )
    assert findings(root, "list_items") == []
    assert cli("check", root).exit_code == 0


def test_a_depends_built_by_unseen_code_handed_to_a_helper_is_unverified(app, findings):
    root = app(
        """
        from fastapi import Depends

        from deps import make_dependency


        def titles(db):
            return db.execute("select title from book").all()


        @router.get("/items")
        async def list_items(db=Depends(make_dependency())):
            return titles(db)
        """,
        {"deps.py": "def make_dependency():\n    return vendor.session_dependency\n"},
    )
    found = findings(root, "list_items")
    assert [f["code"] for f in found] == ["AM304"]
    assert "it is handed to `titles`" in found[0]["message"]


HOOKS = """
from vendor_sdk import make_hooks

from db.engine import database_sessionmaker


def article_count():
    with database_sessionmaker() as s:
        return s.execute("select 1").scalar()


def user_count():
    return 0


BUILT = make_hooks()
KNOWN = [user_count]
"""


def test_check_reports_a_call_through_a_container_it_cannot_read_with_am304(app, findings, cli):
    root = app(
        """
        from hooks import BUILT


        @router.get("/built")
        async def built():
            for hook in BUILT:
                hook()
        """,
        {"hooks.py": HOOKS},
    )
    found = findings(root, "built")
    assert [f["code"] for f in found] == ["AM304"]
    assert "`hook()` runs a value taken from `BUILT`, which is no dict, list or tuple display" in found[0]["message"]
    assert cli("check", root).exit_code == 1


def test_near_miss_a_container_it_reads_whole_without_session_work_is_no_finding(app, findings):
    root = app(
        """
        from hooks import KNOWN


        @router.get("/known")
        async def known():
            return [hook() for hook in KNOWN]
        """,
        {"hooks.py": HOOKS},
    )
    assert findings(root, "known") == []


ROUTE = """
@router.get("/health")
def health():
    return {}
"""

MAIN_HEAD = """
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware

from api.items import router
"""

UNVERIFIED_MIDDLEWARE = MAIN_HEAD + """
class DBMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        try:
            return await call_next(request)
        finally:
            request.app.state.db.close()


app = FastAPI()
app.include_router(router)
app.add_middleware(DBMiddleware)
"""

UNVERIFIED_EXCEPTION_HANDLER = MAIN_HEAD + """
app = FastAPI()
app.include_router(router)


@app.exception_handler(ValueError)
async def on_value_error(request: Request, exc: ValueError):
    request.app.state.session.rollback()
    return JSONResponse({"detail": str(exc)}, status_code=400)
"""

MISLABELLED_AND_UNVERIFIED = """
from fastapi import Request


@router.get("/items")
async def list_items(session: session_dependency, request: Request):
    await session.execute("select 1")
    return request.app.state.db.scalar("select 1")
"""


import pytest  # noqa: E402


@pytest.mark.parametrize(
    ("router", "main", "function"),
    [
        (ROUTE, UNVERIFIED_MIDDLEWARE, "DBMiddleware.dispatch"),
        (ROUTE, UNVERIFIED_EXCEPTION_HANDLER, "on_value_error"),
        (MISLABELLED_AND_UNVERIFIED, None, "list_items"),
    ],
    ids=["middleware", "exception-handler", "mislabelled-parameter"],
)
def test_no_command_calls_a_handler_check_finds_unverified_free_of_session_work(
    app, findings, reported, router, main, function
):
    root = app(router, {"main.py": main} if main else None)
    assert [f["code"] for f in findings(root, function)] == ["AM304"]
    for command in ("scan", "phase1"):
        text = " ".join(reported(root, function, command)["reasons"])
        assert "no synchronous Session work" not in text, (command, text)
        assert "unverified" in text, (command, text)


def test_near_miss_a_middleware_without_session_carriers_does_no_session_work(app, findings, reported):
    root = app(ROUTE, {"main.py": MAIN_HEAD + """
class Timing(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        return await call_next(request)


app = FastAPI()
app.include_router(router)
app.add_middleware(Timing)
"""})
    assert findings(root, "Timing.dispatch") == []
    assert "does no synchronous Session work" in " ".join(reported(root, "Timing.dispatch")["reasons"])

def test_model_query_through_a_query_property_out_of_sight_is_unverified(app, findings, reported):
    # `query_property()` of a registry the analysis cannot follow: maybe a Session, never all-clear.
    models = """
from sqlalchemy.orm import DeclarativeBase
from vendor_sdk import registry


class Base(DeclarativeBase):
    query = registry.query_property()


class User(Base):
    __tablename__ = "users"
"""
    root = app(
        """
        from models import User


        @router.get("/users/{email}")
        async def read_user(email: str):
            return User.query.filter_by(email=email).first().id
        """,
        {"models.py": models},
    )
    [finding] = findings(root, "read_user")
    assert finding["code"] == "AM304" and "`User.query`, a `query_property()`" in finding["message"], finding
    entry = reported(root, "read_user", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry
