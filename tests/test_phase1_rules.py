"""The phase-one rule, one shape per test: what is converted, what is kept, and why.

Every test builds a tiny application (the shared engine and session dependency
from `app_files`, plus the modules under test), runs the CLI with
`--format json` and checks the action *and* a fragment of the reason.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from async_migrate.codemods.config import Config
from async_migrate.codemods.run import Options
from async_migrate.codemods.run import scan as run_scan

# A router module's usual head: the session alias comes from another module.
HEAD = """\
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()
"""


def source(*parts: str) -> str:
    """Dedented source fragments, two blank lines apart (HEAD's 5 lines: the next part starts at line 8)."""
    return "\n\n\n".join(textwrap.dedent(part).strip("\n") for part in parts) + "\n"


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    """app({"api/items.py": "..."}) -> root, with the engine and dependency modules included."""

    def build(files: dict[str, str | bytes]) -> Path:
        return project({**app_files, "api/__init__.py": "", **files})

    return build


def handler(document: dict, function: str, file: str | None = None) -> dict:
    found = [
        h
        for h in document["handlers"]
        if h["function"] == function and (file is None or h["file"] == file)
    ]
    assert len(found) == 1, f"{function}: {document['handlers']}"
    return found[0]


def outcome(document: dict, function: str, action: str, fragment: str, file: str | None = None) -> dict:
    """Assert the handler's action and that one of its reasons contains fragment."""
    found = handler(document, function, file)
    assert found["action"] == action, found
    assert any(fragment in reason for reason in found["reasons"]), found["reasons"]
    return found


def function_names(document: dict) -> set[str]:
    return {h["function"] for h in document["handlers"]}


# --------------------------------------------------------------- session parameters


def test_alias_imported_from_another_module_converts(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    found = outcome(
        document, "list_items", "convert",
        "takes a synchronous Session `session: session_dependency` and never awaits",
    )
    assert (found["kind"], found["before"], found["after"]) == ("route", "async", "def")
    assert "+def list_items(session: session_dependency):" in document["diff"]


def test_alias_imported_from_another_module_with_an_await_keeps(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            rows = session.execute("select 1").all()
            await notify(rows)
            return rows
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "mixed: awaits at line 11 (`await notify(rows)`)")
    assert document["diff"] == ""


def test_alias_used_as_attribute_of_an_imported_module_converts(cli, app):
    root = app({"api/items.py": """
        from fastapi import APIRouter

        from core import dependencies as deps

        router = APIRouter()


        @router.get("/items")
        async def list_items(session: deps.session_dependency):
            return session.execute("select 1").all()
        """})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "`session: deps.session_dependency`")


def test_alias_through_a_dotted_import_as_converts(cli, app):
    root = app({"api/items.py": """
        import core.dependencies as cd
        from fastapi import APIRouter

        router = APIRouter()


        @router.get("/items")
        async def list_items(session: cd.session_dependency):
            return session.execute("select 1").all()
        """})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "`session: cd.session_dependency`")


def test_non_session_alias_through_a_module_attribute_keeps(cli, app):
    files = {
        "core/settings.py": """
            from typing import Annotated

            from fastapi import Depends


            class Settings:
                debug = False


            def get_settings() -> Settings:
                return Settings()


            settings_dependency = Annotated[Settings, Depends(get_settings)]
            """,
        "api/items.py": """
            from fastapi import APIRouter

            from core import settings as conf

            router = APIRouter()


            @router.get("/debug")
            async def debug(settings: conf.settings_dependency):
                return {"debug": settings.debug}
            """,
    }
    document = cli.json("phase1", app(files))
    outcome(document, "debug", "keep", "does no synchronous Session work")


def test_session_with_depends_default_converts(cli, app):
    root = app({"api/items.py": """
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session

        from db.engine import get_db_session

        router = APIRouter()


        @router.get("/items")
        async def list_items(session: Session = Depends(get_db_session)):
            return session.execute("select 1").all()
        """})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "Depends(get_db_session)`")


def test_depends_on_a_non_session_dependency_keeps(cli, app):
    root = app({"api/items.py": """
        from fastapi import APIRouter, Depends

        router = APIRouter()


        def get_token() -> str:
            return "token"


        @router.get("/items")
        async def list_items(token: str = Depends(get_token)):
            return {"token": token}
        """})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "does no synchronous Session work")


def test_inline_annotated_session_converts(cli, app):
    root = app({"api/items.py": """
        from typing import Annotated

        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session

        from db.engine import get_db_session

        router = APIRouter()


        @router.get("/items")
        async def list_items(session: Annotated[Session, Depends(get_db_session)]):
            return session.execute("select 1").all()
        """})
    document = cli.json("phase1", root)
    outcome(
        document, "list_items", "convert",
        "`session: Annotated[Session, Depends(get_db_session)]`",
    )


def test_inline_annotated_async_session_keeps(cli, app):
    root = app({"api/items.py": """
        from typing import Annotated

        from fastapi import APIRouter, Depends
        from sqlalchemy.ext.asyncio import AsyncSession

        router = APIRouter()


        async def get_async_session():
            yield AsyncSession()


        @router.get("/items")
        async def list_items(session: Annotated[AsyncSession, Depends(get_async_session)]):
            return (await session.execute("select 1")).all()
        """})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "already uses an AsyncSession")


# Configured names ([tool.async-migrate] session-aliases and friends) are not
# covered here: the brief says that case cannot be written yet.


# --------------------------------------------------------------- routers and registration


def test_route_on_a_fastapi_app_converts(cli, app):
    root = app({"main.py": """
        from fastapi import FastAPI

        from core.dependencies import session_dependency

        app = FastAPI()


        @app.get("/health/db")
        async def db_health(session: session_dependency):
            return session.execute("select 1").scalar()
        """})
    document = cli.json("phase1", root)
    found = outcome(document, "db_health", "convert", "takes a synchronous Session")
    assert (found["file"], found["methods"], found["path"]) == ("main.py", ["GET"], "/health/db")


def test_route_on_a_router_with_any_variable_name_converts(cli, app):
    root = app({"api/items.py": """
        from fastapi import APIRouter

        from core.dependencies import session_dependency

        r = APIRouter(prefix="/items")


        @r.post("")
        async def create_item(session: session_dependency):
            session.commit()
        """})
    document = cli.json("phase1", root)
    found = outcome(document, "create_item", "convert", "takes a synchronous Session")
    assert found["methods"] == ["POST"]


def test_route_on_a_router_imported_from_another_module_converts(cli, app):
    root = app({
        "api/routers.py": """
            from fastapi import APIRouter

            items_router = APIRouter()
            """,
        "api/items.py": """
            from api.routers import items_router
            from core.dependencies import session_dependency


            @items_router.delete("/items/{item_id}")
            async def delete_item(item_id: int, session: session_dependency):
                session.execute("delete from items")
            """,
    })
    document = cli.json("phase1", root)
    found = outcome(document, "delete_item", "convert", "takes a synchronous Session")
    assert found["methods"] == ["DELETE"]


def test_get_on_an_object_that_is_not_a_router_is_not_a_route(cli, app):
    root = app({"api/items.py": """
        from cachetools import Cache

        from core.dependencies import session_dependency

        cache = Cache(maxsize=10)


        @cache.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()
        """})
    document = cli.json("phase1", root)
    assert "list_items" not in function_names(document)
    assert document["diff"] == ""


def test_route_decorator_above_another_decorator_converts(cli, app):
    root = app({
        "core/markers.py": """
            def audited(func):
                func.__audited__ = True
                return func
            """,
        "api/items.py": source(HEAD, """
            from core.markers import audited


            @router.get("/items")
            @audited
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """),
    })
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session")
    assert "+def list_items(" in document["diff"]


def test_route_decorator_below_another_decorator_converts(cli, app):
    root = app({
        "core/markers.py": """
            def audited(func):
                func.__audited__ = True
                return func
            """,
        "api/items.py": source(HEAD, """
            from core.markers import audited


            @audited
            @router.get("/items")
            async def list_items(session: session_dependency):
                return session.execute("select 1").all()
            """),
    })
    document = cli.json("phase1", root)
    found = outcome(document, "list_items", "convert", "takes a synchronous Session")
    assert found["path"] == "/items"


def test_add_api_route_endpoint_converts_with_its_methods(cli, app):
    root = app({"api/items.py": """
        from fastapi import APIRouter

        from core.dependencies import session_dependency


        async def create_item(session: session_dependency):
            session.commit()


        router = APIRouter()
        router.add_api_route("/items", create_item, methods=["POST", "put"])
        """})
    document = cli.json("phase1", root)
    found = outcome(document, "create_item", "convert", "takes a synchronous Session")
    assert (found["kind"], found["path"], found["methods"]) == ("route", "/items", ["POST", "PUT"])


def test_add_api_route_without_session_work_keeps(cli, app):
    root = app({"api/items.py": """
        from fastapi import APIRouter


        async def ping():
            return "pong"


        router = APIRouter()
        router.add_api_route("/ping", ping)
        """})
    document = cli.json("phase1", root)
    found = outcome(document, "ping", "keep", "does no synchronous Session work")
    assert found["methods"] == ["GET"]


def test_add_api_websocket_route_endpoint_keeps(cli, app):
    root = app({"api/live.py": """
        from fastapi import APIRouter, WebSocket

        from core.dependencies import session_dependency


        async def feed(websocket: WebSocket, session: session_dependency):
            session.execute("select 1")


        router = APIRouter()
        router.add_api_websocket_route("/feed", feed)
        """})
    document = cli.json("phase1", root)
    found = outcome(document, "feed", "keep", "websocket handler: stays async def")
    assert found["kind"] == "websocket"
    assert document["diff"] == ""


def test_api_route_methods_are_reported_and_the_route_converts(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.api_route("/items", methods=["GET", "post"])
        async def items(session: session_dependency):
            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    found = outcome(document, "items", "convert", "takes a synchronous Session")
    assert found["methods"] == ["GET", "POST"]


def test_api_route_without_session_work_keeps(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.api_route("/echo", methods=["PUT"])
        async def echo():
            return {}
        """)})
    document = cli.json("phase1", root)
    found = outcome(document, "echo", "keep", "does no synchronous Session work")
    assert found["methods"] == ["PUT"]


# --------------------------------------------------------------- dependency functions

USERS = """
from fastapi import Request

from core.dependencies import session_dependency


async def get_current_user(request: Request, session: session_dependency):
    return session.execute("select 1").scalar()
"""


def test_dependency_found_through_depends_in_a_parameter_converts(cli, app):
    root = app({
        "core/users.py": USERS,
        "api/items.py": """
            from fastapi import APIRouter, Depends

            from core.users import get_current_user

            router = APIRouter()


            @router.get("/me")
            def me(user=Depends(get_current_user)):
                return user
            """,
    })
    document = cli.json("phase1", root)
    found = outcome(document, "get_current_user", "convert", "takes a synchronous Session")
    assert found["kind"] == "dependency"
    assert "+def get_current_user(" in document["diff"]


def test_dependency_found_through_an_annotated_alias_converts(cli, app):
    root = app({
        "core/users.py": source(USERS, """
            from typing import Annotated

            from fastapi import Depends

            current_user = Annotated[dict, Depends(get_current_user)]
            """),
    })
    document = cli.json("phase1", root)
    found = outcome(document, "get_current_user", "convert", "takes a synchronous Session")
    assert found["kind"] == "dependency"


def test_dependency_found_in_decorator_dependencies_converts(cli, app):
    root = app({"api/items.py": source(HEAD, """
        from fastapi import Depends


        async def audit(session: session_dependency):
            session.execute("insert into audit values (1)")


        @router.get("/items", dependencies=[Depends(audit)])
        def list_items():
            return []
        """)})
    document = cli.json("phase1", root)
    found = outcome(document, "audit", "convert", "takes a synchronous Session")
    assert found["kind"] == "dependency"
    handler(document, "list_items")  # the route itself is listed too (already def)


def test_dependency_found_in_router_dependencies_converts(cli, app):
    root = app({"api/items.py": """
        from fastapi import APIRouter, Depends

        from core.dependencies import session_dependency


        async def audit(session: session_dependency):
            session.execute("insert into audit values (1)")


        router = APIRouter(dependencies=[Depends(audit)])
        """})
    document = cli.json("phase1", root)
    found = outcome(document, "audit", "convert", "takes a synchronous Session")
    assert found["kind"] == "dependency"


def test_dependency_that_awaits_and_uses_the_session_keeps(cli, app):
    root = app({"api/items.py": source(HEAD, """
        from fastapi import Depends, Request


        async def audit(request: Request, session: session_dependency):
            body = await request.body()
            session.execute("insert into audit values (1)")


        @router.get("/items", dependencies=[Depends(audit)])
        def list_items():
            return []
        """)})
    document = cli.json("phase1", root)
    found = outcome(document, "audit", "keep", "mixed: awaits at line 12 (`await request.body()`)")
    assert found["kind"] == "dependency"


def test_dependency_without_session_work_keeps(cli, app):
    root = app({"api/items.py": """
        from fastapi import APIRouter, Depends, Header

        router = APIRouter()


        async def api_key(x_key: str = Header()):
            return x_key


        @router.get("/items")
        def list_items(key=Depends(api_key)):
            return []
        """})
    document = cli.json("phase1", root)
    found = outcome(document, "api_key", "keep", "does no synchronous Session work")
    assert found["kind"] == "dependency"


# --------------------------------------------------------------- sessions opened by helpers


def test_helper_two_levels_down_in_another_module_opening_a_session_converts(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/store.py": """
            from db.engine import database_sessionmaker


            def load_rows():
                with database_sessionmaker() as s:
                    return s.execute("select 1").all()
            """,
        "services/summary.py": """
            from services.store import load_rows


            def summarize():
                return len(load_rows())
            """,
        "api/items.py": """
            from fastapi import APIRouter

            from services.summary import summarize

            router = APIRouter()


            @router.get("/summary")
            async def summary():
                return {"rows": summarize()}
            """,
    })
    document = cli.json("phase1", root)
    outcome(
        document, "summary", "convert",
        "calls services.summary.summarize (line 10), which opens its own synchronous Session",
    )


def test_helper_opening_something_that_is_not_a_session_keeps(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/files.py": """
            def read_config(path):
                with open(path) as handle:
                    return handle.read()
            """,
        "api/items.py": """
            from fastapi import APIRouter

            from services.files import read_config

            router = APIRouter()


            @router.get("/config")
            async def config():
                return {"config": read_config("app.toml")}
            """,
    })
    document = cli.json("phase1", root)
    outcome(document, "config", "keep", "does no synchronous Session work")


def test_route_opening_a_session_itself_converts(cli, app):
    root = app({"api/items.py": """
        from fastapi import APIRouter

        from db.engine import database_sessionmaker

        router = APIRouter()


        @router.get("/count")
        async def count():
            with database_sessionmaker() as s:
                return s.execute("select count(*)").scalar()
        """})
    document = cli.json("phase1", root)
    outcome(document, "count", "convert", "opens a synchronous Session itself (line 10) and never awaits")


# --------------------------------------------------------------- awaiting in the own body


def test_await_with_session_work_keeps_as_mixed(cli, app):
    root = app({"api/items.py": source(HEAD, """
        import asyncio


        @router.get("/items")
        async def list_items(session: session_dependency):
            await asyncio.sleep(0)
            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "mixed: awaits at line 13 (`await asyncio.sleep(0)`)")


def test_await_without_session_keeps_with_no_session_work(cli, app):
    root = app({"api/items.py": source(HEAD, """
        import asyncio


        @router.get("/wait")
        async def wait():
            await asyncio.sleep(0)
        """)})
    document = cli.json("phase1", root)
    found = outcome(document, "wait", "keep", "does no synchronous Session work")
    assert not any("mixed" in reason for reason in found["reasons"])


def test_async_for_with_session_work_keeps_as_mixed(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            async for event in events():
                session.execute("insert into log values (1)")
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "(`async for`)")


def test_async_with_and_session_work_keeps_as_mixed(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            async with lock():
                return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "(`async with`)")


def test_async_comprehension_with_session_work_keeps_as_mixed(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            ids = [event async for event in events()]
            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "(`async comprehension`)")


def test_await_inside_a_nested_function_does_not_count(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            async def later():
                await notify()

            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session")


def test_async_comprehension_inside_a_lambda_does_not_count(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            stream = lambda: (event async for event in events())
            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session")


def test_await_inside_a_nested_class_does_not_count(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            class Later:
                async def run(self):
                    async with lock():
                        await notify()

            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session")


# --------------------------------------------------------------- websockets


def test_websocket_using_the_session_keeps(cli, app):
    root = app({"api/live.py": source(HEAD, """
        from fastapi import WebSocket


        @router.websocket("/live")
        async def live(websocket: WebSocket, session: session_dependency):
            session.execute("select 1")
        """)})
    document = cli.json("phase1", root)
    found = outcome(document, "live", "keep", "websocket handler: stays async def")
    assert found["kind"] == "websocket"
    assert any(
        "still blocks the event loop at line 13 (session.execute())" in reason for reason in found["reasons"]
    ), found["reasons"]
    assert document["diff"] == ""


# --------------------------------------------------------------- decorators

DECORATORS = """
import functools


def marker(func):
    func.__marked__ = True
    return func


def tagged(label):
    def decorate(func):
        func.__label__ = label
        return func

    return decorate


def timed(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return await func(*args, **kwargs)

    return wrapper


def logged(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper
"""


def decorated(decorator_line: str) -> dict[str, str]:
    return {
        "core/decorators.py": DECORATORS,
        "api/items.py": source(
            HEAD,
            "from core.decorators import logged, marker, tagged, timed",
            '@router.get("/items")\n'
            f"{decorator_line}\n"
            "async def list_items(session: session_dependency):\n"
            '    return session.execute("select 1").all()\n',
        ),
    }


def test_pass_through_marker_decorator_converts(cli, app):
    document = cli.json("phase1", app(decorated("@marker")))
    outcome(document, "list_items", "convert", "takes a synchronous Session")


def test_decorator_factory_returning_a_pass_through_converts(cli, app):
    document = cli.json("phase1", app(decorated('@tagged("catalogue")')))
    outcome(document, "list_items", "convert", "takes a synchronous Session")


def test_wraps_decorator_awaiting_the_function_keeps(cli, app):
    document = cli.json("phase1", app(decorated("@timed")))
    outcome(
        document, "list_items", "keep",
        "decorator @timed (core/decorators.py:17) awaits the function it wraps",
    )


def test_sync_wrapper_decorator_converts(cli, app):
    document = cli.json("phase1", app(decorated("@logged")))
    outcome(document, "list_items", "convert", "takes a synchronous Session")


def test_third_party_decorator_keeps_and_names_it(cli, app):
    root = app({"api/items.py": source(HEAD, """
        from fastapi import Request
        from slowapi import limiter


        @router.get("/items")
        @limiter.limit("5/minute")
        async def list_items(request: Request, session: session_dependency):
            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(
        document, "list_items", "keep",
        'decorator @limiter.limit("5/minute") is not defined in the project',
    )


# --------------------------------------------------------------- event-loop-only APIs


def test_get_running_loop_keeps(cli, app):
    root = app({"api/items.py": source(HEAD, """
        import asyncio


        @router.get("/items")
        async def list_items(session: session_dependency):
            loop = asyncio.get_running_loop()
            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(
        document, "list_items", "keep",
        "uses asyncio.get_running_loop at line 13, which needs the event loop",
    )


def test_create_task_keeps(cli, app):
    root = app({"api/items.py": source(HEAD, """
        from asyncio import create_task


        @router.post("/items")
        async def create_item(session: session_dependency):
            session.commit()
            create_task(notify())
        """)})
    document = cli.json("phase1", root)
    outcome(document, "create_item", "keep", "uses asyncio.create_task at line 14")


def test_asyncio_timeout_keeps(cli, app):
    root = app({"api/items.py": source(HEAD, """
        import asyncio


        @router.get("/items")
        async def list_items(session: session_dependency):
            async with asyncio.timeout(1):
                return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "uses asyncio.timeout at line 13")


def test_event_loop_api_inside_a_nested_function_does_not_count(cli, app):
    root = app({"api/items.py": source(HEAD, """
        import asyncio


        @router.get("/items")
        async def list_items(session: session_dependency):
            def schedule():
                return asyncio.get_running_loop()

            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "convert", "takes a synchronous Session")


# --------------------------------------------------------------- nothing to move off the loop


def test_unused_session_parameter_keeps(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return []
        """)})
    document = cli.json("phase1", root)
    outcome(document, "list_items", "keep", "its Session parameter `session` is never used")


def test_route_without_any_session_keeps(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/ping")
        async def ping():
            return "pong"
        """)})
    document = cli.json("phase1", root)
    outcome(document, "ping", "keep", "does no synchronous Session work")


def test_route_awaited_by_another_function_keeps(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()


        @router.get("/items/first")
        async def first_item(session: session_dependency):
            items = await list_items(session)
            return items[0]
        """)})
    document = cli.json("phase1", root)
    outcome(
        document, "list_items", "keep",
        "awaited by api.items.first_item (api/items.py:15): that call would break as `def`",
    )
    assert "+def list_items(" not in document["diff"]


def test_already_def_route_is_unchanged(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        def list_items(session: session_dependency):
            return session.execute("select 1").all()
        """)})
    document = cli.json("phase1", root)
    found = outcome(document, "list_items", "unchanged", "already def: runs in the threadpool")
    assert (found["before"], found["after"]) == ("def", "def")
    assert document["diff"] == ""
    assert document["files_changed"] == []


# --------------------------------------------------------------- same names, helpers, data flow


def test_same_named_functions_are_two_handlers_and_only_the_right_one_converts(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/a")
        async def read(session: session_dependency):
            return session.execute("select 1").all()


        @router.get("/b")
        async def read(session: session_dependency):
            await notify()
            return session.execute("select 2").all()
        """)})
    document = cli.json("phase1", root)
    entries = sorted(
        (h for h in document["handlers"] if h["function"] == "read"), key=lambda h: h["line"]
    )
    assert [(h["path"], h["action"]) for h in entries] == [("/a", "convert"), ("/b", "keep")]
    assert entries[1]["key"] == "read#2"
    diff = document["diff"]
    assert diff.count("-async def read(") == 1 and diff.count("+def read(") == 1
    removed = diff.index("-async def read(")
    assert '@router.get("/a")' in diff[:removed]
    assert '@router.get("/b")' not in diff[:removed]


def test_session_passed_to_a_helper_under_another_name_flows_into_its_parameter(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/items.py": """
            def fetch_items(db, limit=10):
                return db.execute("select 1").all()
            """,
        "api/items.py": source(HEAD, """
            from services.items import fetch_items


            @router.get("/items")
            async def list_items(session: session_dependency):
                return fetch_items(session)
            """),
    })
    project = run_scan(root, Config(), Options(jobs=1)).project
    assert project.session_params[("services.items", "fetch_items")] == {
        "db": "receives the Session `session` from api.items.list_items"
    }
    assert project.session_params[("api.items", "list_items")] == {
        "session": "`session: session_dependency`"
    }
    document = cli.json("scan", root)
    outcome(document, "list_items", "convert", "`session: session_dependency`")


def test_session_flows_through_two_helpers_whatever_the_module_order(cli, app):
    # helpers/ sorts before routes/: the index must iterate to a fixpoint to see it.
    root = app({
        "helpers/__init__.py": "",
        "helpers/inner.py": """
            def count(conn):
                return conn.execute("select count(*)").scalar()
            """,
        "helpers/middle.py": """
            from helpers.inner import count


            def summary(db):
                return {"count": count(db)}
            """,
        "routes/__init__.py": "",
        "routes/items.py": source(HEAD, """
            from helpers.middle import summary


            @router.get("/summary")
            async def get_summary(session: session_dependency):
                return summary(session)
            """),
    })
    project = run_scan(root, Config(), Options(jobs=1)).project
    assert project.session_params[("helpers.middle", "summary")] == {
        "db": "receives the Session `session` from routes.items.get_summary"
    }
    assert project.session_params[("helpers.inner", "count")] == {
        "conn": "receives the Session `db` from helpers.middle.summary"
    }


def test_a_helper_not_passed_the_session_does_not_receive_it(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/items.py": """
            def fetch_items(db, limit=10):
                return db.execute("select 1").all()
            """,
        "api/items.py": source(HEAD, """
            from services.items import fetch_items


            @router.get("/items")
            async def list_items(session: session_dependency):
                session.commit()
                return fetch_items(None, limit=5)
            """),
    })
    project = run_scan(root, Config(), Options(jobs=1)).project
    assert project.session_params[("services.items", "fetch_items")] == {}


# --------------------------------------------------------------- --offload-mixed

MIXED = """
@router.post("/orders")
async def place(request: Request, session: session_dependency):
    payload = await request.json()
    order = place_order(session, payload)
    session.commit()
    return order
"""
ORDER_HELPER = """
def place_order(session, payload):
    return session.execute("insert into orders values (1)")
"""


def test_offload_mixed_wraps_the_helper_call_and_adds_the_import(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/orders.py": ORDER_HELPER,
        "api/orders.py": source(HEAD, """
            from fastapi import Request

            from services.orders import place_order
            """, MIXED),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    found = outcome(document, "place", "keep", "offloaded the blocking helper calls at line 16 to run_in_threadpool")
    assert any(
        "still blocks the event loop at line 17 (session.commit())" in reason for reason in found["reasons"]
    ), found["reasons"]
    diff = document["diff"]
    assert "+    order = await run_in_threadpool(place_order, session, payload)\n" in diff
    assert "+from fastapi.concurrency import run_in_threadpool\n" in diff
    assert "session.commit()" not in "".join(text_line for text_line in diff.splitlines(True) if text_line.startswith("+"))
    assert "+async def" not in diff and "-async def" not in diff


def test_without_offload_mixed_the_mixed_route_is_left_alone(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/orders.py": ORDER_HELPER,
        "api/orders.py": source(HEAD, """
            from fastapi import Request

            from services.orders import place_order
            """, MIXED),
    })
    document = cli.json("phase1", root)
    found = outcome(document, "place", "keep", "mixed: awaits at line 15")
    assert not any("offloaded" in reason for reason in found["reasons"])
    assert document["diff"] == ""


def test_a_pragma_on_a_mixed_route_is_noted_and_offload_mixed_still_applies(cli, app):
    pragma = "# async-migrate: ignore[blocking-session] the commit moves to AsyncSession next\n"
    root = app({
        "services/__init__.py": "",
        "services/orders.py": ORDER_HELPER,
        "api/orders.py": source(HEAD, """
            from fastapi import Request

            from services.orders import place_order
            """, pragma + MIXED.lstrip("\n")),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    found = outcome(document, "place", "keep", "mixed: awaits at line 16")
    assert "acknowledged by pragma: the commit moves to AsyncSession next" in found["reasons"]
    assert [(b["call"], b["offloaded"]) for b in found["blocking"]] == [
        ("services.orders.place_order(...)", True),
        ("session.commit()", False),
    ]
    assert "+    order = await run_in_threadpool(place_order, session, payload)\n" in document["diff"]


def test_a_pragma_keeps_a_route_phase1_would_convert_exactly_as_it_is(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def read_items(session: session_dependency):  # async-migrate: ignore[blocking-session] tiny table
            return session.execute("select 1").all()
        """)})
    for flags in ((), ("--offload-mixed",)):
        document = cli.json("phase1", root, *flags)
        found = outcome(document, "read_items", "keep", "kept by pragma: tiny table")
        assert found["blocking"] == [{"line": 10, "call": "session.execute()", "offloaded": False}]
        assert document["diff"] == ""


def test_a_pragma_for_the_other_code_does_not_keep_the_route(cli, app):
    root = app({"api/items.py": source(HEAD, """
        @router.get("/items")
        async def read_items(session: session_dependency):  # async-migrate: ignore[mixed-session] not this one
            return session.execute("select 1").all()
        """)})
    outcome(cli.json("phase1", root), "read_items", "convert", "takes a synchronous Session")


def test_offload_mixed_reuses_an_existing_starlette_import(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/orders.py": ORDER_HELPER,
        "api/orders.py": source(HEAD, """
            from fastapi import Request
            from starlette.concurrency import run_in_threadpool

            from services.orders import place_order
            """, MIXED),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    diff = document["diff"]
    assert "+    order = await run_in_threadpool(place_order, session, payload)\n" in diff
    assert "fastapi.concurrency" not in diff
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == ["+    order = await run_in_threadpool(place_order, session, payload)"]


def test_offload_mixed_uses_the_local_name_of_an_aliased_import(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/orders.py": ORDER_HELPER,
        "api/orders.py": source(HEAD, """
            from fastapi import Request
            from starlette.concurrency import run_in_threadpool as in_thread

            from services.orders import place_order
            """, MIXED),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    assert "+    order = await in_thread(place_order, session, payload)\n" in document["diff"]


def test_offload_mixed_wraps_a_helper_call_inside_an_expression_where_it_stands(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/orders.py": ORDER_HELPER,
        "api/orders.py": source(HEAD, """
            from fastapi import Request
            from fastapi.responses import JSONResponse

            from services.orders import place_order
            """, """
            @router.post("/orders")
            async def place(request: Request, session: session_dependency):
                payload = await request.json()
                return JSONResponse({"id": place_order(session, payload)})
            """),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    outcome(document, "place", "keep", "offloaded the blocking helper calls at line 17 to run_in_threadpool")
    assert '+    return JSONResponse({"id": await run_in_threadpool(place_order, session, payload)})\n' in document["diff"]


def test_offload_mixed_leaves_a_helper_call_whose_result_is_a_receiver_blocking(cli, app):
    root = app({
        "services/__init__.py": "",
        "services/orders.py": ORDER_HELPER,
        "api/orders.py": source(HEAD, """
            from fastapi import Request

            from services.orders import place_order
            """, """
            @router.post("/orders")
            async def place(request: Request, session: session_dependency):
                payload = await request.json()
                return {"id": place_order(session, payload).rowcount}
            """),
    })
    document = cli.json("phase1", root, "--offload-mixed")
    found = outcome(
        document, "place", "keep",
        "still blocks the event loop at line 16 (services.orders.place_order(...))",
    )
    assert not any("offloaded" in reason for reason in found["reasons"])
    assert document["diff"] == ""


# --------------------------------------------------------------- imports and discovery


def test_relative_import_of_a_session_opening_helper_converts(cli, app):
    root = app({
        "api/helpers.py": """
            from db.engine import database_sessionmaker


            def count_rows():
                with database_sessionmaker() as s:
                    return s.execute("select count(*)").scalar()
            """,
        "api/items.py": """
            from fastapi import APIRouter

            from .helpers import count_rows

            router = APIRouter()


            @router.get("/count")
            async def count():
                return count_rows()
            """,
    })
    document = cli.json("phase1", root)
    outcome(document, "count", "convert", "calls api.helpers.count_rows (line 10)")


def test_relative_import_two_levels_up_converts(cli, app):
    root = app({
        "api/helpers.py": """
            from db.engine import database_sessionmaker


            def count_rows():
                with database_sessionmaker() as s:
                    return s.execute("select count(*)").scalar()
            """,
        "api/v1/__init__.py": "",
        "api/v1/items.py": """
            from fastapi import APIRouter

            from ..helpers import count_rows

            router = APIRouter()


            @router.get("/count")
            async def count():
                return count_rows()
            """,
    })
    document = cli.json("phase1", root)
    outcome(document, "count", "convert", "calls api.helpers.count_rows (line 10)")


def test_helper_re_exported_through_a_package_init_converts(cli, app):
    root = app({
        "services/__init__.py": "from .store import count_rows\n",
        "services/store.py": """
            from db.engine import database_sessionmaker


            def count_rows():
                with database_sessionmaker() as s:
                    return s.execute("select count(*)").scalar()
            """,
        "api/items.py": """
            from fastapi import APIRouter

            from services import count_rows

            router = APIRouter()


            @router.get("/count")
            async def count():
                return count_rows()
            """,
    })
    document = cli.json("phase1", root)
    outcome(document, "count", "convert", "calls services.store.count_rows (line 10), which opens its own")


# The helper modules below contain none of run.MARKERS: the pre-pass skips them
# unread and must fetch them once the route's call leads into them.
QUIET_ENGINE = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite:///./app.db")
make_db = sessionmaker(engine)
"""
QUIET_HELPER = """
from db.quiet import make_db


def fetch_rows():
    with make_db() as db:
        return db.execute("select 1").all()
"""
QUIET_ROUTE = """
from fastapi import APIRouter

from services import rows

router = APIRouter()


@router.get("/rows")
async def list_rows():
    return rows.fetch_rows()
"""


def _no_markers(text: str) -> None:
    from async_migrate.codemods.run import MARKERS

    assert not any(marker in textwrap.dedent(text).encode() for marker in MARKERS)


def test_helper_module_without_marker_words_is_still_found(cli, app):
    _no_markers(QUIET_HELPER)
    root = app({
        "db/quiet.py": QUIET_ENGINE,
        "services/__init__.py": "",
        "services/rows.py": QUIET_HELPER,
        "api/rows.py": QUIET_ROUTE,
    })
    document = cli.json("phase1", root)
    outcome(document, "list_rows", "convert", "calls services.rows.fetch_rows (line 10), which opens its own")


def test_chain_of_modules_without_marker_words_is_followed(cli, app):
    middle = """
        from services import rows


        def fetch_all():
            return rows.fetch_rows()
        """
    _no_markers(QUIET_HELPER)
    _no_markers(middle)
    root = app({
        "db/quiet.py": QUIET_ENGINE,
        "services/__init__.py": "",
        "services/rows.py": QUIET_HELPER,
        "services/middle.py": middle,
        "api/rows.py": QUIET_ROUTE.replace("from services import rows", "from services import middle")
        .replace("rows.fetch_rows()", "middle.fetch_all()"),
    })
    document = cli.json("phase1", root)
    outcome(document, "list_rows", "convert", "calls services.middle.fetch_all (line 10), which opens its own")


def test_quiet_helper_that_opens_no_session_keeps_the_route_async(cli, app):
    helper = """
        def fetch_rows():
            with open("rows.txt") as db:
                return db.read()
        """
    _no_markers(helper)
    root = app({
        "services/__init__.py": "",
        "services/rows.py": helper,
        "api/rows.py": QUIET_ROUTE,
    })
    document = cli.json("phase1", root)
    outcome(document, "list_rows", "keep", "does no synchronous Session work")


def test_helper_re_exported_through_a_quiet_package_init_is_found(cli, app):
    _no_markers(QUIET_HELPER)
    root = app({
        "db/quiet.py": QUIET_ENGINE,
        "services/__init__.py": "from .rows import fetch_rows\n",
        "services/rows.py": QUIET_HELPER,
        "api/rows.py": QUIET_ROUTE.replace("from services import rows", "from services import fetch_rows")
        .replace("rows.fetch_rows()", "fetch_rows()"),
    })
    document = cli.json("phase1", root)
    outcome(document, "list_rows", "convert", "calls services.rows.fetch_rows (line 10), which opens its own")


# The route reaches the helper through a module-level alias instead of a call of
# the imported name. With a marker word in the helper module it converts...
ALIAS_ROUTE = """
from fastapi import APIRouter

from services import rows

router = APIRouter()
fetch = rows.fetch_rows


@router.get("/rows")
async def list_rows():
    return fetch()
"""


def test_helper_reached_through_a_module_level_alias_converts(cli, app):
    root = app({
        "db/quiet.py": QUIET_ENGINE,
        "services/__init__.py": "",
        "services/rows.py": QUIET_HELPER + "# opens a Session\n",
        "api/rows.py": ALIAS_ROUTE,
    })
    document = cli.json("phase1", root)
    outcome(document, "list_rows", "convert", "calls services.rows.fetch_rows (line 11), which opens its own")


# ... and without one the pre-pass never reads it.
def test_quiet_helper_reached_through_a_module_level_alias_is_found(cli, app):
    _no_markers(QUIET_HELPER)
    root = app({
        "db/quiet.py": QUIET_ENGINE,
        "services/__init__.py": "",
        "services/rows.py": QUIET_HELPER,
        "api/rows.py": ALIAS_ROUTE,
    })
    document = cli.json("phase1", root)
    outcome(document, "list_rows", "convert", "calls services.rows.fetch_rows (line 11), which opens its own")


def test_quiet_helper_re_exported_through_a_plain_module_is_found(cli, app):
    facade = "from services.rows import fetch_rows\n"
    _no_markers(QUIET_HELPER)
    _no_markers(facade)
    root = app({
        "db/quiet.py": QUIET_ENGINE,
        "services/__init__.py": "",
        "services/rows.py": QUIET_HELPER,
        "services/facade.py": facade,
        "api/rows.py": QUIET_ROUTE.replace("from services import rows", "from services.facade import fetch_rows")
        .replace("rows.fetch_rows()", "fetch_rows()"),
    })
    document = cli.json("phase1", root)
    outcome(document, "list_rows", "convert", "calls services.rows.fetch_rows (line 10), which opens its own")
