"""AM113 awaited-by-caller: a handler another function awaits stays `async def`."""

from __future__ import annotations

import pytest
from sample import run_python


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
    import textwrap

    root = project({"app.py": textwrap.dedent('''
        from fastapi import Depends, FastAPI
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session

        engine = create_engine("sqlite:///./app.db")
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
    run = run_python(script, cwd=root)
    assert run.returncode == 0 and run.stdout.strip() == "1", run.stdout + run.stderr


# A router factory's routes call each other by their bare name: phase one made `get_item` a
# plain def and `await get_item(...)` in its sibling raised TypeError (a 500 where it served 200).
FACTORY = '''
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})


def get_db():
    with Session(engine) as s:
        yield s


def make_router(table: str) -> APIRouter:
    router = APIRouter()

    @router.get("/item/{i}")
    async def get_item(i: int, db: Session = Depends(get_db)):
        return db.execute(text(f"select {i}")).scalar_one()

    @router.get("/first")
    async def first(db: Session = Depends(get_db)):
        return await CALLED(1, db)

    return router


app = FastAPI()
app.include_router(make_router("t"), prefix="/t")
'''


def test_a_factory_route_awaited_by_its_sibling_keeps_with_am113_and_still_serves(project, reported, cli):

    root = project({"app.py": FACTORY.replace("CALLED", "get_item")})
    entry = reported(root, "make_router.<locals>.get_item", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM113"), entry
    assert entry["reasons"][0].startswith("awaited by app.make_router.<locals>.first (app.py:")
    assert cli("phase1", root, "--apply").exit_code == 0
    script = "from fastapi.testclient import TestClient; import app; print(TestClient(app.app).get('/t/first').json())"
    run = run_python(script, cwd=root)
    assert run.returncode == 0 and run.stdout.strip() == "1", run.stdout + run.stderr


def test_near_miss_a_sibling_awaiting_its_own_local_of_that_name_converts_the_route(project, reported):
    # `get_item` in `first` is its own local, bound to a module-level coroutine: the factory's
    # route is not what it awaits
    source = FACTORY.replace("CALLED", "get_item").replace(
        "        return await get_item(1, db)", "        get_item = fetch\n        return await get_item(1, db)"
    ) + "\n\nasync def fetch(i, db):\n    return i\n"
    root = project({"app.py": source})
    assert reported(root, "make_router.<locals>.get_item", "phase1")["codes"] == ["AM101"]


# A dependency factory's function awaited by a caller through the factory's result, in place or
# by a local name: phase one made `inner` a plain def and the route's `await` raised TypeError
# (a 500 where it served 200).
DEPENDENCY_FACTORY = '''
from fastapi import Depends, FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
app = FastAPI()


def get_db():
    with Session(engine) as s:
        yield s


def requires(kind: str):
    async def inner(request: Request, db: Session = Depends(get_db)) -> None:
        db.execute(text("select 1"))

    return inner


@app.get("/guarded", dependencies=[Depends(requires("a"))])
def guarded():
    return {"ok": 1}


@app.get("/checked")
async def checked(request: Request, db: Session = Depends(get_db)):
    AWAIT
    return {"ok": 2}
'''


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ('await requires("b")(request, db)', ("keep", "AM113")),
        ('check = requires("b")\n    await check(request, db)', ("keep", "AM113")),
        # near miss: the factory's result only ever handed to Depends()
        ("pass", ("convert", "AM101")),
    ],
    ids=["in place", "local name", "only Depends"],
)
def test_a_factory_dependency_awaited_through_the_factory_keeps_with_am113_and_still_serves(
    project, reported, cli, caller, expected
):

    root = project({"app.py": DEPENDENCY_FACTORY.replace("AWAIT", caller)})
    entry = reported(root, "requires.<locals>.inner", "phase1")
    assert (entry["action"], entry["codes"][0]) == expected, entry
    assert cli("phase1", root, "--apply").exit_code == 0
    script = (
        "from fastapi.testclient import TestClient; import app; c = TestClient(app.app); "
        "print(c.get('/guarded').status_code, c.get('/checked').status_code)"
    )
    run = run_python(script, cwd=root)
    assert run.stdout.strip() == "200 200", run.stdout + run.stderr


def test_a_callable_instance_awaited_once_gets_one_reason_for_that_call(app, reported):
    """`await checker(s)` is seen by the object edges and by the calls of a value alike: one call,
    one reason."""
    root = app(
        """
        from fastapi import Depends, Request
        from sqlalchemy.orm import Session

        from db.engine import database_sessionmaker, get_db_session


        class RoleChecker:
            async def __call__(self, db: Session = Depends(get_db_session)):
                return db.execute("select 1").all()


        checker = RoleChecker()


        @router.get("/x", dependencies=[Depends(checker)])
        def x():
            return 1


        async def audit(request: Request):
            with database_sessionmaker() as s:
                await checker(s)
        """
    )
    entry = reported(root, "RoleChecker.__call__", "phase1")
    assert entry["action"] == "keep", entry
    assert entry["codes"].count("AM113") == 1, entry
