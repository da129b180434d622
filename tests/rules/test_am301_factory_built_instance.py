"""A dependency given as the call of a project function returning an instance of a project class
with `__call__` (`Depends(require("admin"))` for `def require(perm) -> Check: return Check(perm)`)
is that `__call__`, as `Depends(Check("admin"))` is: an `async def __call__` doing synchronous
Session work was listed by no command (scan, phase one, check: "No findings") while phase two
knew it could not resolve it. What such a factory returns that the analysis cannot read is
unverified (AM304), for a `def` route too: FastAPI runs a coroutine function on the loop."""

from __future__ import annotations

import pytest

CHECK = """
from fastapi import Depends
from sqlalchemy import text


class Check:
    def __init__(self, perm: str) -> None:
        self.perm = perm

    async def __call__(self, db: session_dependency) -> int:
        return db.scalar(text("select 1"))


CHECKS = {"admin": Check("admin")}


def require(perm: str) -> Check:
    return Check(perm)


def require_unannotated(perm: str):
    return Check(perm)


def require_looked_up(perm: str):
    return CHECKS[perm]


def require_closure(perm: str):
    def dep(db: session_dependency) -> int:
        return db.scalar(text("select 1"))
    return dep


@router.get("/dep")
def factory_route(n: int = Depends({factory}("admin"))):
    return {"n": n}
"""


@pytest.mark.parametrize("factory", ["require", "require_unannotated"])
def test_a_factory_built_instance_dependency_is_its_call_in_scan_and_check(app, reported, findings, factory):
    root = app(CHECK.replace("{factory}", factory))
    entry = reported(root, "Check.__call__")
    assert entry["action"] == "convert" and "takes a synchronous Session" in entry["reasons"][0], entry
    (finding,) = findings(root, "Check.__call__")
    assert finding["code"] == "AM301" and "async def dependency does synchronous Session work" in finding["message"]
    assert findings(root, "factory_route") == []


def test_a_factory_result_the_analysis_cannot_read_is_unverified_for_a_def_route(app, findings):
    root = app(CHECK.replace("{factory}", "require_looked_up"))
    (finding,) = findings(root, "factory_route")
    assert finding["code"] == "AM304" and '`Depends(require_looked_up("admin"))`' in finding["message"], finding


def test_near_miss_a_closure_factory_is_followed_as_before(app, cli, findings):
    # the class built only into a table nothing injects is no dependency
    root = app(CHECK.replace("{factory}", "require_closure"))
    listed = {h["function"]: h["action"] for h in cli.json("scan", root)["handlers"]}
    assert listed["require_closure.<locals>.dep"] == "unchanged" and "Check.__call__" not in listed, listed
    assert findings(root, "factory_route") == []
