"""Routes on the router a factory builds (`def make_router(prefix, model): router =
APIRouter(prefix=prefix); @router.get("") ...; return router`): served at the prefix each
`app.include_router(make_router("/users", User))` hands the factory, a path for each call; `…`
where a call's prefix is no literal. Phase two's reason for a query on the factory's `model`
says it is a parameter of the factory, not a model outside PATH."""

from __future__ import annotations

import pytest
from test_phase2_rules import handler, run

ENGINE = """
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)


def get_db():
    with SessionLocal() as db:
        yield db
"""
FACTORY = """
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import get_db


def make_router(prefix: str, model) -> APIRouter:
    router = APIRouter(prefix=prefix)

    @router.get("/all")
    def list_all(db: Annotated[Session, Depends(get_db)]):
        return [o.id for o in db.scalars(select(model))]

    return router
"""
# The same route added by a call on the router the factory builds, not decorated.
ADDED = FACTORY.replace('    @router.get("/all")\n    def list_all', '    def list_all').replace(
    "    return router", '    router.add_api_route("/all", list_all, methods=["GET"])\n    return router'
)
MAIN = """
import os

from fastapi import FastAPI

from db import Order, User
from routers.factory import make_router

app = FastAPI()
{includes}
"""


def scanned(cli, project, includes: str, factory: str = FACTORY) -> dict:  # type: ignore[no-untyped-def]
    root = project({"db.py": ENGINE, "routers/__init__.py": "", "routers/factory.py": factory,
                    "main.py": MAIN.format(includes=includes)})
    return handler(cli.json("scan", root), "make_router.<locals>.list_all")


@pytest.mark.parametrize("factory", [FACTORY, ADDED], ids=["decorated", "add_api_route"])
def test_a_factory_route_is_served_at_the_literal_prefix_the_include_hands_it(cli, project, factory):
    # added by `router.add_api_route(...)`, the route was shown at `[unknown prefix]`
    found = scanned(cli, project, 'app.include_router(make_router("/users", User), prefix="/api")', factory)
    assert found["path"] == "/api/users/all" and "path_incomplete" not in found, found


@pytest.mark.parametrize("factory", [FACTORY, ADDED], ids=["decorated", "add_api_route"])
def test_a_factory_called_twice_serves_the_route_at_both_paths(cli, project, factory):
    found = scanned(cli, project, 'app.include_router(make_router("/users", User))\n'
                                  'app.include_router(make_router(prefix="/orders", model=Order))', factory)
    # as a function registered twice: `path` the first, `paths` each, none unknown
    assert found["path"] == "/orders/all" and "path_incomplete" not in found, found
    assert found["paths"] == ["/orders/all", "/users/all"], found


def test_near_miss_a_prefix_no_literal_gives_keeps_the_path_incomplete(cli, project):
    found = scanned(cli, project, 'app.include_router(make_router(os.environ["P"], User))')
    assert found["path_incomplete"] is True and "paths" not in found, found


def test_the_reason_names_the_model_a_parameter_of_the_factory(cli, project):
    root = project({"db.py": ENGINE, "routers/__init__.py": "", "routers/factory.py": FACTORY,
                    "main.py": MAIN.format(includes='app.include_router(make_router("/users", User))')})
    found = handler(run(cli, root, subsystem="routers/factory.py"), "make_router.<locals>.list_all")
    assert found["action"] == "blocked", found
    reason = found["reasons"][found["codes"].index("AM247")]
    assert "`model`, a parameter of the factory `make_router`, whose argument the tool cannot resolve" in reason
    assert "not defined under PATH" not in reason and "under PATH" not in reason, reason


def test_a_prefix_the_call_leaves_to_its_string_default_is_served_there(cli, project):
    root = project({
        "db.py": ENGINE, "routers/__init__.py": "",
        "routers/factory.py": FACTORY.replace("make_router(prefix: str, model)", 'make_router(model, prefix: str = "/things")'),
        "main.py": MAIN.format(includes='app.include_router(make_router(User), prefix="/api")'),
    })
    found = handler(cli.json("scan", root), "make_router.<locals>.list_all")
    assert found["path"] == "/api/things/all" and "path_incomplete" not in found, found


APP_FACTORY = """
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session

from db import User, get_db
from routers.factory import make_router


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    def health(db: Annotated[Session, Depends(get_db)]):
        return {"users": db.query(User).count()}

    app.include_router(make_router("/users", User), prefix="/api")
    return app


{served}
"""


def factory_app(project, served: str):  # type: ignore[no-untyped-def]
    return project({"db.py": ENGINE, "routers/__init__.py": "", "routers/factory.py": FACTORY,
                    "main.py": APP_FACTORY.replace("{served}", served)})


def test_routes_of_an_application_factory_and_a_router_factory_it_includes_show_their_full_paths(cli, project):
    root = factory_app(project, "app = create_app()")
    for command in ("scan", "phase1"):
        document = cli.json(command, root)
        health, listed = (handler(document, f) for f in ("create_app.<locals>.health", "make_router.<locals>.list_all"))
        assert health["path"] == "/health" and "path_incomplete" not in health, (command, health)
        assert listed["path"] == "/api/users/all" and "path_incomplete" not in listed, (command, listed)
        shown = cli(command, root).output
        assert "(route GET /health)" in shown and "(route GET /api/users/all)" in shown and "[unknown prefix]" not in shown, shown


def test_near_miss_an_application_factory_mounted_where_the_analysis_cannot_read_keeps_the_path_incomplete(
    cli, project
):
    root = factory_app(project, 'outer = FastAPI()\nouter.mount("/v2", create_app())')
    health = handler(cli.json("scan", root), "create_app.<locals>.health")
    assert health["path"] == "[unknown prefix]/health" and health["path_incomplete"] is True, health
    assert "(route GET [unknown prefix]/health)" in cli("scan", root).output


def test_a_factory_result_kept_in_a_name_is_served_where_that_name_is_included(cli, project):
    # `router = make_router("/users", User)` then `include_router(router, prefix="/api")`: the
    # literal is at the call site, so the path is known (it showed "/all", incomplete)
    found = scanned(cli, project, 'users = make_router("/users", User)\napp.include_router(users, prefix="/api")\n'
                                  'app.include_router(make_router(prefix="/orders", model=Order))')
    assert found["path"] == "/api/users/all" and "path_incomplete" not in found, found
    assert found["paths"] == ["/api/users/all", "/orders/all"], found


def test_a_factory_route_whose_prefix_cannot_be_known_says_so_in_the_json_and_the_markdown(cli, project, tmp_path):
    # `@router.get("")` under a prefix from the environment showed path "" in the JSON and
    # "GET …" in the report: now both name the unknown prefix
    root = project({"db.py": ENGINE, "routers/__init__.py": "", "main.py": MAIN.format(
                    includes='app.include_router(make_router(os.environ["P"], User))'),
                    "routers/factory.py": FACTORY.replace('@router.get("/all")', '@router.get("")')})
    found = handler(cli.json("scan", root), "make_router.<locals>.list_all")
    assert found["path"] == "[unknown prefix]" and found["path_incomplete"] is True, found
    report = tmp_path / "plan.md"
    assert cli("scan", root, "--report", report).exit_code == 0
    rows = [line for line in report.read_text(encoding="utf-8").splitlines() if "list_all" in line and line.startswith("|")]
    assert rows and all("| GET [unknown prefix] |" in row for row in rows), rows
    assert "(route GET [unknown prefix])" in cli("scan", root).output
