"""AM113 awaited-by-caller: a handler another function awaits stays `async def`."""

from __future__ import annotations

import pytest


def test_a_route_awaited_by_another_keeps_with_am113(app, reported):
    root = app(
        """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()


        @router.get("/items/first")
        async def first_item(session: session_dependency):
            items = await list_items(session)
            return items[0]
        """
    )
    entry = reported(root, "list_items", "phase1")
    assert entry["action"] == "keep"
    assert entry["codes"][0] == "AM113"
    assert entry["reasons"][0].startswith("awaited by api.items.first_item (api/items.py:")


def test_near_miss_a_route_called_without_await_converts(app, reported):
    root = app(
        """
        @router.get("/items")
        async def list_items(session: session_dependency):
            return session.execute("select 1").all()


        @router.get("/items/names")
        async def names(session: session_dependency):
            return [repr(list_items)]
        """
    )
    assert reported(root, "list_items", "phase1")["codes"] == ["AM101"]


# "built in place": `await Permission("x")(db=s)`, the instance built and called at once; phase
# one made `__call__` a plain def and the await failed on the int it returned
@pytest.mark.parametrize("instance", ["require_admin", 'Permission("x")', "built in place"])
def test_a_callable_instance_dependency_awaited_keeps_with_am113_and_still_runs(project, reported, cli, instance):
    import subprocess
    import sys
    import textwrap

    root = project({"app.py": textwrap.dedent('''
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session

        engine = create_engine("sqlite://")
        app = FastAPI()


        def get_session():
            with Session(engine) as s:
                yield s


        class Permission:
            def __init__(self, role: str):
                self.role = role

            async def __call__(self, db: Session = Depends(get_session)) -> int:
                return db.execute(text("select 1")).scalar_one()


        require_admin = Permission("admin")


        async def job():
            with Session(engine) as s:
                check = INSTANCE
                return await check(db=s)


        @app.get("/x", dependencies=[Depends(require_admin)])
        def x():
            return 1
        ''').replace(
        "check = INSTANCE\n        return await check(db=s)" if instance == "built in place" else "INSTANCE",
        'return await Permission("x")(db=s)' if instance == "built in place" else instance,
    )})
    entry = reported(root, "Permission.__call__", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM113"), entry
    assert entry["reasons"][0].startswith("awaited by app.job (app.py:")
    assert cli("phase1", root, "--apply").exit_code == 0
    script = "import asyncio, app; print(asyncio.run(app.job()))"
    run = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "1", run.stdout + run.stderr
