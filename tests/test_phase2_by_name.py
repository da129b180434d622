"""Phase two beside code that looks a helper up by name on a module object or a module's globals
(`vars(crud)[name]`, `crud.__dict__.get(name)`, `import_module("crud")`, `globals()[name]`,
`attrgetter(name)(crud)`): every function the module holds keeps its synchronous definition
beside an async twin, so the by-name caller still gets a result. The migrated code is RUN."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve
from test_phase2_worker_callers import CRUD

service = test_phase2_soundness.service

ROUTES = """
import crud


@router.get("/find/{name}")
async def find(name: str, db: session_dependency):
    user = crud.find_user(db, name)
    return {"id": user.id if user else None}


@router.post("/rename/{user_id}/{name}")
async def rename(user_id: int, name: str, db: session_dependency):
    return {"name": crud.rename_user(db, user_id, name)}
"""

TASKS = """
{imports}
from db.engine import database_sessionmaker

MODULE = "crud"


def run_named(helper: str, *args):
    with database_sessionmaker() as db:
        return {lookup}(db, *args)
"""

SHAPES = {
    "vars": ("import crud", "vars(crud)[helper]"),
    "dict": ("import crud", "crud.__dict__[helper]"),
    "dict_get": ("import crud", "crud.__dict__.get(helper)"),
    "import_module": ("import importlib", 'getattr(importlib.import_module("crud"), helper)'),
    "import_module_local": ("from importlib import import_module", "LOCAL"),
    "import_module_unnamed": ("from importlib import import_module", "getattr(import_module(MODULE), helper)"),
    "globals_star": ("from crud import *", "globals()[helper]"),
    "globals_get": ("from crud import find_user, rename_user", "globals().get(helper)"),
    "attrgetter": ("import operator\nimport crud", "operator.attrgetter(helper)(crud)"),
}


def tasks(shape: str) -> str:
    imports, lookup = SHAPES[shape]
    text = TASKS.replace("{imports}", imports).replace("{lookup}", lookup)
    if shape == "import_module_local":  # bound to a local name first, then looked up on it
        text = text.replace(
            "        return LOCAL(db, *args)",
            '        mod = import_module("crud")\n        return getattr(mod, helper)(db, *args)',
        )
    return dedent(text)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_helper_looked_up_by_name_keeps_its_sync_definition(cli, service, shape):
    written = tasks(shape)
    root = service({SUBSYSTEM: routes(ROUTES), "crud.py": dedent(CRUD), "tasks.py": written})
    document = apply(cli, root)
    assert handler(document, "find")["action"] == "migrate"
    assert handler(document, "rename")["action"] == "migrate"
    migrated = (root / "crud.py").read_text()
    assert "\ndef find_user(db: Session" in migrated and "async def find_user_async(" in migrated
    assert "\ndef rename_user(db: Session" in migrated and "async def rename_user_async(" in migrated
    assert (root / "tasks.py").read_text() == written
    assert serve(root, "sqlite", """
        from tasks import run_named

        found = client.get("/find/Ann").json()
        missing = run_named("find_user", "Nobody")
        named = run_named("rename_user", 2, "Bea")
        with Sync() as s:
            after_task = sorted(s.scalars(select(User.name)))
        renamed = client.post("/rename/1/Cy").json()
        with Sync() as s:
            names = sorted(s.scalars(select(User.name)))
        print(json.dumps([found, missing, named, after_task, renamed, names]))
    """) == [{"id": 1}, None, "Bea", ["Ann", "Bea"], {"name": "Cy"}, ["Bea", "Cy"]]


def test_shared_block_names_the_lookup(cli, service):
    root = service({SUBSYSTEM: routes(ROUTES), "crud.py": dedent(CRUD), "tasks.py": tasks("dict_get")})
    document = apply(cli, root, "--shared", "block")
    found = handler(document, "find")
    assert (found["action"], found["codes"]) == ("blocked", ["AM218"]), found
    assert "a value reference in tasks (by name: `crud.__dict__`)" in found["reasons"][0]
    assert (root / "crud.py").read_text() == dedent(CRUD)


# A near miss: `getattr(obj, name)` on an object that is no module finds no crud helper.
NEAR_MISS = """
from db.engine import database_sessionmaker


class Steps:
    def count(self, db, *args):
        return len(args)


def run_named(helper: str, *args):
    with database_sessionmaker() as db:
        return getattr(Steps(), helper)(db, *args)
"""


def test_getattr_on_an_object_keeps_in_place_rewriting(cli, service):
    root = service({SUBSYSTEM: routes(ROUTES), "crud.py": dedent(CRUD), "tasks.py": dedent(NEAR_MISS)})
    document = apply(cli, root)
    assert handler(document, "rename")["action"] == "migrate"
    migrated = (root / "crud.py").read_text()
    assert "async def rename_user(db: AsyncSession" in migrated and "rename_user_async" not in migrated
    assert serve(root, "sqlite", """
        from tasks import run_named

        renamed = client.post("/rename/1/Cy").json()
        with Sync() as s:
            names = sorted(s.scalars(select(User.name)))
        print(json.dumps([renamed, names, run_named("count", 1, 2)]))
    """) == [{"name": "Cy"}, ["Bob", "Cy"], 2]


# The function named in the code, on a module object the code gets at run time: a call like any
# other when read directly, any of the module's functions once the module is bound to a name.
STATIC = """
{imports}
from db.engine import database_sessionmaker


def find_named(name: str):
    with database_sessionmaker() as db:
        {body}
"""

STATIC_SHAPES = {
    "import_module": ("import importlib", 'return importlib.import_module("crud").find_user(db, name)'),
    "sys_modules": ("import sys\nimport crud  # noqa: F401", 'return sys.modules["crud"].find_user(db, name)'),
    "bound": ("from importlib import import_module", 'helpers = import_module("crud")\n        return helpers.find_user(db, name)'),
}


@pytest.mark.parametrize("shape", sorted(STATIC_SHAPES))
def test_a_helper_called_on_a_module_got_at_run_time_keeps_its_sync_definition(cli, service, shape):
    imports, body = STATIC_SHAPES[shape]
    written = dedent(STATIC).replace("{imports}", imports).replace("{body}", body)
    root = service({SUBSYSTEM: routes(ROUTES), "crud.py": dedent(CRUD), "tasks.py": written})
    document = apply(cli, root)
    assert handler(document, "find")["action"] == "migrate"
    migrated = (root / "crud.py").read_text()
    assert "\ndef find_user(db: Session" in migrated and "async def find_user_async(" in migrated
    assert (root / "tasks.py").read_text() == written
    assert serve(root, "sqlite", """
        from tasks import find_named

        found = client.get("/find/Ann").json()
        print(json.dumps([found, find_named("Ann").name, find_named("Nobody")]))
    """) == [{"id": 1}, "Ann", None]
