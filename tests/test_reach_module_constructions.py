"""What module-level code hands a project class's `__init__` where no name keeps the instance.

A class-based router is often built right where it is included:
`app.include_router(ItemRoutes(SessionLocal).router)`, or inside a list or dict display of
routers. What the call hands `__init__` is what `self.maker` holds in every method, as for
`routes = ItemRoutes(SessionLocal)`: a route method opening a Session from it does synchronous
Session work (phase one converts it, check's AM301), never "no Session work".
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROUTES = '''
from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from db.engine import database_sessionmaker


class {name}:
    def __init__(self, maker, label="x"):
        self.maker = maker
        self.label = label
        self.router = APIRouter()
        self.router.add_api_route("/{path}", self.count, methods=["GET"])

    async def count(self):
        with self.maker() as session:
            return session.execute(text("select 1")).scalar()
'''

PLAIN = '''
from fastapi import APIRouter


class Counter:
    def __init__(self, start):
        self.start = start
        self.router = APIRouter()
        self.router.add_api_route("/counter", self.count, methods=["GET"])

    async def count(self):
        return {"n": self.start()}
'''

MAIN = '''
from fastapi import FastAPI

from api.argument import Argument
from api.listed import Listed
from api.keyword import Keyword
from api.plain import Counter
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(Argument(database_sessionmaker).router)
for router in [Listed(database_sessionmaker).router]:
    app.include_router(router)
ROUTERS = {"k": Keyword(maker=database_sessionmaker, label="k")}
app.include_router(ROUTERS["k"].router)
app.include_router(Counter(lambda: 3).router)
'''

BUILT = {"Argument": "argument", "Listed": "listed", "Keyword": "keyword"}


@pytest.fixture
def root(project, app_files) -> Path:  # type: ignore[no-untyped-def]
    files = {**app_files, "api/__init__.py": "", "api/plain.py": textwrap.dedent(PLAIN), "main.py": MAIN}
    for name, module in BUILT.items():
        files[f"api/{module}.py"] = ROUTES.format(name=name, path=module)
    return project(files)


def _handlers(document: dict) -> dict[str, dict]:
    return {h["function"]: h for h in document["handlers"]}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_a_sessionmaker_handed_to_a_construction_inside_an_expression_is_held(cli, root, name):
    found = _handlers(cli.json("phase1", root))[f"{name}.count"]
    assert found["action"] == "convert", found
    assert "with self.maker() as session -> session.execute()" in found["reasons"][0], found["reasons"]


def test_check_reports_them_and_not_a_class_handed_no_session(cli, root):
    result = cli("check", root)
    assert result.exit_code == 1, result.output
    for name, module in BUILT.items():
        assert f"api/{module}.py:14: AM301 blocking-session {name}.count:" in result.output, result.output
    assert "Counter" not in result.output
    assert _handlers(cli.json("phase1", root))["Counter.count"]["action"] == "keep"
