"""The `Depends(f)` / `Security(f)` markers a route's body hands to a call are looked for in the
trees of the modules whose routes' facts call a marker, under whatever name it is imported: a route
module with markers in its signatures alone is not parsed again for them."""

from __future__ import annotations

import ast
import textwrap

from async_migrate.codemods import astcollect
from async_migrate.codemods.config import Config
from async_migrate.codemods.phase2 import depends_values
from async_migrate.codemods.project import Project

HANDING = """
from fastapi import APIRouter, Depends
from fastapi import Security as Need

router = APIRouter()


def verify(scopes=None, db=Depends(get_db)):
    return db


@router.get("/items")
async def read_items(db=Depends(get_db)):
    return verify(scopes=Need(verify, scopes=["items:read"]), db=db)
"""
SIGNATURES_ONLY = """
from fastapi import APIRouter, Depends

router = APIRouter()


def verify(db=Depends(get_db)):
    return db


@router.get("/users")
async def read_users(user=Depends(verify), db=Depends(get_db)):
    return [user, db.scalars(1)]
"""


class Trees:
    """The trees of the modules, counting those asked for."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.asked: list[str] = []

    def may_name(self, path: str, word: str) -> bool:
        return word in self.texts[path]

    def __call__(self, path: str) -> ast.Module | None:
        self.asked.append(path)
        return ast.parse(self.texts[path])


def test_only_modules_whose_routes_call_a_marker_are_parsed_for_the_markers_they_hand() -> None:
    texts = {"api/items.py": textwrap.dedent(HANDING), "api/users.py": textwrap.dedent(SIGNATURES_ONLY)}
    modules = [astcollect.collect(path, text, path[:-3].replace("/", ".")) for path, text in texts.items()]
    project = Project(modules, Config())
    trees = Trees(texts)
    depends_values.record(project, trees)
    found = {module.path: depends_values.handed_in_routes(project, module) for module in modules}
    assert [(ref, route, line) for ref, route, line, _ in found["api/items.py"] or []] == [
        ("api.items.verify", ("api.items", "read_items"), 14),
    ]
    assert found["api/users.py"] == []
    assert trees.asked == ["api/items.py"]
