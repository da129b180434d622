"""Properties read on a receiver other than a bare local name run their code as well.

`stats.count` on a module-level instance, `self.count` inside another method,
`svc.repo.count` through an attribute, `Repo(db).count` on a call's value: reading a property
there runs it, so Session work it does is the route's (phase one converts, check's AM301). A
plain attribute of the same name on a class without the property is no call.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

REPOS = """
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker, get_db_session


class Repo:
    def __init__(self, db: Session):
        self.db = db

    @property
    def count(self) -> int:
        return self.db.scalar(text("select 1"))


class Service:
    def __init__(self, db: Session = Depends(get_db_session)):
        self.repo = Repo(db)
        self.db = db

    @property
    def total(self) -> int:
        return self.repo.count

    def twice(self) -> int:
        return self.total * 2


class Stats:
    @property
    def items(self) -> int:
        with database_sessionmaker() as s:
            return s.scalar(text("select 1"))


class Plain:
    count = 3

    def __init__(self, db: Session):
        self.db = db


stats = Stats()
"""

ROUTES = """
from fastapi import APIRouter, Depends

from models.repos import Plain, Repo, Service, stats

router = APIRouter()


@router.get("/module-instance")
async def module_instance():
    return {"n": stats.items}


@router.get("/chain")
async def chain(svc: Service = Depends()):
    return {"n": svc.repo.count}


@router.get("/call-value")
async def call_value(svc: Service = Depends()):
    return {"n": Repo(svc.db).count}


@router.get("/property-on-self")
async def property_on_self(svc: Service = Depends()):
    return {"n": svc.total}


@router.get("/method-reading-property-on-self")
async def method_reading_property_on_self(svc: Service = Depends()):
    return {"n": svc.twice()}


@router.get("/plain-attribute")
async def plain_attribute(svc: Service = Depends()):
    return {"n": Plain(svc.db).count}
"""

BLOCKING = {
    "module_instance": ("Stats.items", 10),
    "chain": ("Repo.count", 15),
    "call_value": ("Repo.count", 20),
    "property_on_self": ("Service.total", 25),
    "method_reading_property_on_self": ("Service.twice", 30),
}


@pytest.fixture
def root(project, app_files) -> Path:  # type: ignore[no-untyped-def]
    return project({
        **app_files,
        "api/__init__.py": "",
        "models/__init__.py": "",
        "models/repos.py": textwrap.dedent(REPOS),
        "api/items.py": textwrap.dedent(ROUTES),
    })


def _handlers(document: dict) -> dict[str, dict]:
    return {h["function"]: h for h in document["handlers"]}


@pytest.mark.parametrize("function", sorted(BLOCKING))
def test_phase1_converts_a_route_reading_a_property_that_does_session_work(cli, root, function):
    found = _handlers(cli.json("phase1", root))[function]
    method, line = BLOCKING[function]
    assert found["action"] == "convert", found
    assert any(method in reason and f"(line {line})" in reason for reason in found["reasons"]), found["reasons"]


def test_a_plain_attribute_of_the_same_name_is_no_call(cli, root):
    found = _handlers(cli.json("phase1", root))["plain_attribute"]
    assert found["action"] == "keep", found
    assert "does no synchronous Session work" in found["reasons"][0], found["reasons"]


def test_check_reports_each_property_read(cli, root):
    result = cli("check", root)
    assert result.exit_code == 1, result.output
    for function, (_method, line) in BLOCKING.items():
        assert f"items.py:{line - 1}: AM301 blocking-session {function}:" in result.output, result.output
    assert "plain_attribute" not in result.output
