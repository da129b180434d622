"""A sessionmaker handed to a plain `def` background task (`tasks.add_task(record_audit,
SessionLocal, ...)`, `BackgroundTask(record_audit, request.app.state.sessionmaker, ...)`):
Starlette runs a `def` task in its threadpool, so the Session the task opens from it never blocks
the event loop. `check` reported every such `async def` route as unverified (AM304), phase one
kept it async for it, and a route phase two had just moved failed `check` for its audit task.
A coroutine task, or one behind a decorator that may make it one, still counts."""

from __future__ import annotations

import textwrap

import pytest

TASKS = textwrap.dedent(
    """\
    from sqlalchemy.orm import sessionmaker

    from models import AuditEntry


    def record_audit(maker: sessionmaker, action: str) -> None:
        with maker() as session:
            session.add(AuditEntry(action=action))
            session.commit()


    def record_untyped(maker, action):
        with maker() as session:
            session.add(AuditEntry(action=action))
            session.commit()
    """
)
MODELS = textwrap.dedent(
    """\
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class AuditEntry(Base):
        __tablename__ = "audit"
        id: Mapped[int] = mapped_column(primary_key=True)
        action: Mapped[str]
    """
)
ROUTES = textwrap.dedent(
    """\
    import asyncio

    from fastapi import APIRouter, BackgroundTasks, Request
    from starlette.background import BackgroundTask
    from starlette.responses import JSONResponse

    from db.engine import database_sessionmaker
    from tasks import record_audit, record_untyped

    router = APIRouter()


    @router.post("/signup")
    async def signup(tasks: BackgroundTasks):
        await asyncio.sleep(0)
        tasks.add_task(record_audit, database_sessionmaker, "signup")
        return {"ok": True}


    @router.post("/login")
    async def login(request: Request):
        await asyncio.sleep(0)
        return JSONResponse({"ok": True}, background=BackgroundTask(record_untyped, database_sessionmaker, "login"))


    @router.post("/logout")
    async def logout(request: Request, tasks: BackgroundTasks):
        await asyncio.sleep(0)
        tasks.add_task(record_untyped, request.app.state.sessionmaker, "logout")
        return {"ok": True}
    """
)
MAIN = textwrap.dedent(
    """\
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from sqlalchemy.orm import sessionmaker

    from api.users import router
    from db.engine import engine


    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
        yield


    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    """
)


def tree(project, app_files, tasks: str = TASKS):  # type: ignore[no-untyped-def]
    return project({
        **app_files, "models.py": MODELS, "tasks.py": tasks, "api/__init__.py": "", "api/users.py": ROUTES,
        "main.py": MAIN,
    })


def test_a_sessionmaker_handed_to_a_def_background_task_is_no_finding(cli, project, app_files):
    root = tree(project, app_files)
    document = cli.json("check", root)
    assert document["findings"] == [], document["findings"]
    found = {h["function"]: h for h in cli.json("phase1", root)["handlers"]}
    for route in ("signup", "login", "logout"):
        assert found[route]["action"] == "keep", found[route]
        assert found[route]["codes"] == ["AM105"], found[route]


@pytest.mark.parametrize("task", ["coroutine", "decorated"])
def test_near_miss_a_coroutine_task_or_a_decorated_one_still_counts(cli, project, app_files, task):
    if task == "coroutine":
        tasks = TASKS.replace("def record_audit(", "async def record_audit(")
    else:
        tasks = "from outside import on_loop\n" + TASKS.replace("def record_audit(", "@on_loop\ndef record_audit(")
    root = tree(project, app_files, tasks)
    findings = {f["function"]: f for f in cli.json("check", root)["findings"]}
    assert "signup" in findings, findings
    assert "login" not in findings and "logout" not in findings, findings
