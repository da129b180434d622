"""Blockers found in a helper's code name the helper's file and line, once per cause and place.

A helper module validating a schema from an object the tool cannot trace (`NameOut.model_validate(
thing)`) reads the schema's fields where the helper runs: a field named after a model property
reading a relationship blocks the route. The blocker named the route's file with the helper's line
(a line past the end of the route's file), and a schema nesting itself reported the same property
once per field path, hundreds of times on a real service.
"""

from __future__ import annotations

from test_phase2_rules import MODELS

HEAD = """\
from fastapi import APIRouter
from sqlalchemy import func, select

from core.dependencies import session_dependency
from models import Book

router = APIRouter()
"""

PROPERTY_MODELS = MODELS + """
    @property
    def author_name(self) -> str:
        return self.author.name
"""

# padding: the helper's line lies past the end of the router module
HELPERS = "# padding\n" * 60 + """
from pydantic import BaseModel, ConfigDict


class Inner(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    author_name: str


class NameOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    author_name: str
    first: Inner
    second: Inner


def describe(thing):
    return NameOut.model_validate(thing).model_dump()
"""

ROUTER = """
from helpers import describe

PINNED: dict[int, Book] = {}


@router.get("/name")
def name(session: session_dependency):
    count = session.scalar(select(func.count()).select_from(Book))
    return {"value": describe(PINNED[1]), "count": count}
"""


def _phase2(cli, project, app_files, files: dict[str, str]) -> dict:
    root = project({**app_files, "api/__init__.py": "", "api/items.py": HEAD + ROUTER, **files})
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    assert document["errors"] == [], document["errors"]
    return document


def _blockers(document: dict) -> list[dict]:
    return [b for b in document["subsystem"]["blockers"] if "author_name" in b["message"]]


def test_a_schema_validated_in_a_helper_blocks_at_the_helpers_line_once(cli, project, app_files):
    document = _phase2(cli, project, app_files, {"models.py": PROPERTY_MODELS, "helpers.py": HELPERS})
    [route] = [h for h in document["handlers"] if h["function"] == "name"]
    assert route["action"] == "blocked", route
    found = _blockers(document)
    assert found, document["subsystem"]["blockers"]
    line = HELPERS.splitlines().index("    return NameOut.model_validate(thing).model_dump()") + 1
    assert {(b["file"], b["line"]) for b in found} == {("helpers.py", line)}, found
    # NameOut.author_name, NameOut.first.author_name, NameOut.second.author_name: one cause, one place
    assert len(found) == 1, [b["message"] for b in found]
    assert "(the same at 2 more paths: NameOut.first.author_name, NameOut.second.author_name)" in found[0]["message"], found[0]["message"]
