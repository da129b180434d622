"""AM130 used-as-coroutine: a handler another function calls without await (asyncio.run,
create_task) stays `async def`, and `check` names that caller in its fix."""

from __future__ import annotations

import subprocess
import sys


def test_a_route_run_by_asyncio_run_keeps_with_am130(app, reported, cli):
    files = {
        "tests/__init__.py": "",
        "tests/test_direct.py": """
            import asyncio

            from api.items import direct
            from db.engine import database_sessionmaker


            def test_direct():
                with database_sessionmaker() as session:
                    assert asyncio.run(direct(session)) == [1]
            """,
    }
    root = app(
        """
        from sqlalchemy import text


        @router.get("/direct")
        async def direct(session: session_dependency):
            return [row[0] for row in session.execute(text("select 1")).all()]
        """,
        files,
    )
    entry = reported(root, "direct", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM130"), entry
    assert entry["reasons"][0].startswith("called by tests.test_direct.test_direct (tests/test_direct.py:")
    assert cli("phase1", root, "--apply").exit_code == 0
    # Phase one left the route a coroutine function, so the caller still runs.
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_direct.py"],
                         cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_near_miss_a_route_only_referenced_converts(app, reported):
    root = app(
        """
        @router.get("/direct")
        async def direct(session: session_dependency):
            return session.execute("select 1").all()


        HANDLERS = {"direct": direct}
        """
    )
    assert reported(root, "direct", "phase1")["codes"] == ["AM101"]
