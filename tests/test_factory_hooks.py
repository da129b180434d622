"""Hooks an application factory defines in its own body and registers by name
(`app.add_exception_handler(E, on_error)`, `add_middleware(BaseHTTPMiddleware, dispatch=f)`,
`FastAPI(exception_handlers={...}, lifespan=lifespan)`, `app.router.on_startup.append(f)`): `scan`
lists each, phase one leaves them as they are, and `check` reports their Session work as it does a
module-level hook's."""

from __future__ import annotations

import textwrap

FACTORY = textwrap.dedent('''
    import asyncio
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from starlette.middleware import Middleware
    from starlette.middleware.base import BaseHTTPMiddleware

    from db.engine import database_sessionmaker


    async def refresh_cache():
        while True:
            with database_sessionmaker() as session:
                session.execute("select 1")
            await asyncio.sleep(60)


    def create_app() -> FastAPI:
        async def log_error(request, exc):
            with database_sessionmaker() as session:
                session.execute("insert into errors default values")
                session.commit()
            return JSONResponse({"detail": "bad"}, status_code=400)

        async def log_lookup(request, exc):
            with database_sessionmaker() as session:
                session.commit()
            return JSONResponse({"detail": "missing"}, status_code=404)

        async def count_visit(request, call_next):
            with database_sessionmaker() as session:
                session.execute("insert into visits default values")
                session.commit()
            return await call_next(request)

        async def stamp(request, call_next):
            with database_sessionmaker() as session:
                session.commit()
            return await call_next(request)

        @asynccontextmanager
        async def lifespan(app):
            task = asyncio.create_task(refresh_cache())
            yield
            task.cancel()

        async def start_polling():
            asyncio.create_task(refresh_cache())

        async def warm_up():
            with database_sessionmaker() as session:
                session.execute("select 1")

        async def plain_error(request, exc):
            return JSONResponse({"detail": str(exc)}, status_code=409)

        app = FastAPI(
            lifespan=lifespan,
            exception_handlers={ValueError: log_error},
            middleware=[Middleware(BaseHTTPMiddleware, dispatch=count_visit)],
        )
        app.add_exception_handler(KeyError, log_lookup)
        app.add_exception_handler(RuntimeError, plain_error)
        app.add_middleware(BaseHTTPMiddleware, dispatch=stamp)
        app.router.on_startup.append(start_polling)
        app.add_event_handler("startup", warm_up)

        @app.get("/health")
        def health():
            return {"ok": True}

        return app


    app = create_app()
''')


def _handlers(document: dict) -> dict[str, dict]:
    return {h["function"]: h for h in document["handlers"]}


def test_scan_lists_the_hooks_a_factory_registers_by_name(cli, project, app_files):
    root = project({**app_files, "main.py": FACTORY})
    found = _handlers(cli.json("scan", root))
    kinds = {name.rpartition(".")[2]: found[name]["kind"] for name in found if name.startswith("create_app.")}
    assert kinds == {
        "log_error": "exception-handler", "log_lookup": "exception-handler", "plain_error": "exception-handler",
        "count_visit": "middleware", "stamp": "middleware", "lifespan": "lifecycle",
        "start_polling": "lifecycle", "warm_up": "lifecycle", "health": "route",
    }
    for name in ("count_visit", "stamp", "lifespan"):
        assert found[f"create_app.<locals>.{name}"]["action"] == "keep", name
    for name in ("log_error", "log_lookup"):  # Starlette runs a plain def one in the threadpool
        assert found[f"create_app.<locals>.{name}"]["action"] == "convert", name


def test_phase1_converts_the_exception_handlers_and_leaves_the_other_hooks_async(cli, project, app_files):
    root = project({**app_files, "main.py": FACTORY})
    document = cli.json("phase1", root)
    removed = sorted(line.strip() for line in document["diff"].splitlines() if line.startswith("-    "))
    assert removed == ["-    async def log_error(request, exc):", "-    async def log_lookup(request, exc):"]


def test_check_reports_the_session_work_of_the_factory_hooks(cli, project, app_files):
    root = project({**app_files, "main.py": FACTORY})
    document = cli.json("check", root)
    codes = {(f["function"].rpartition(".")[2], f["code"]) for f in document["findings"]}
    assert codes == {
        ("log_error", "AM309"), ("log_lookup", "AM309"), ("count_visit", "AM308"), ("stamp", "AM308"),
        ("lifespan", "AM306"), ("start_polling", "AM306"),
    }
    assert cli("check", root).exit_code == 1


def test_near_miss_a_nested_function_the_factory_calls_is_not_taken_for_a_hook(cli, project, app_files):
    """A nested function the factory only calls (`configure()`), or hands to something that is no
    hook registration, is no hook: nothing is reported of it."""
    root = project({**app_files, "main.py": textwrap.dedent('''
        from fastapi import FastAPI

        from db.engine import database_sessionmaker


        def create_app() -> FastAPI:
            def configure():
                with database_sessionmaker() as session:
                    session.execute("select 1")

            async def log_error(request, exc):
                return None

            app = FastAPI()
            configure()
            handlers = {ValueError: log_error}
            print(handlers)

            @app.get("/health")
            def health():
                return {"ok": True}

            return app


        app = create_app()
    ''')})
    names = {name for name in _handlers(cli.json("scan", root)) if name.startswith("create_app.")}
    assert names == {"create_app.<locals>.health"}
    assert cli("check", root).exit_code == 0
