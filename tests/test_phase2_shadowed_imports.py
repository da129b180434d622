"""A name phase two imports into a module that binds it itself: the route's module defines its
own `get_async_db_session` (or `AsyncSession = ...`) further down. Imported as it is, the
module's own binding would win (or lose), and `Depends(get_async_db_session)` would hand the
route a string: AttributeError at request time. The async dependency is imported under a free
name instead, and the migrated code is RUN on each database; a clash no free name resolves
blocks the route, naming both bindings, and nothing is written; so does a name the async stack
would generate that the module binds already to something else (`async_engine = "sqlite+..."`)."""

from __future__ import annotations

import ast

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

from async_migrate.codemods.phase2 import shadowed_imports

service = test_phase2_soundness.service

CREATE = """
@router.post("/items")
def create_item(name: str, db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""
OWN_DEPENDENCY = '''
def get_async_db_session():
    """The module's own name, unrelated to the database."""
    return "not a session"
'''
CREATE_AND_READ = """
    response = client.post("/items", params={"name": "pen"})
    with Sync() as s:
        names = s.scalars(select(Item.name)).all()
    print(json.dumps({"status": response.status_code, "names": names}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_the_async_dependency_is_imported_under_a_free_name_where_the_module_binds_its_name(cli, service, kind):
    root = service({SUBSYSTEM: routes(OWN_DEPENDENCY, CREATE)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, SUBSYSTEM)
    assert "from db.engine import get_async_db_session as get_async_db_session_2" in text
    assert "db: AsyncSession = Depends(get_async_db_session_2)" in text
    assert 'return "not a session"' in text  # the module's own stays as written
    assert serve(root, kind, CREATE_AND_READ) == {"status": 200, "names": ["pen"]}


def test_a_module_level_async_session_value_blocks_the_route_naming_it(cli, service):
    root = service({SUBSYSTEM: routes('AsyncSession = "a label of the module"', CREATE)})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    reasons = " | ".join(found["reasons"])
    line = 1 + before.splitlines().index('AsyncSession = "a label of the module"')
    assert (
        "the rewrite imports `AsyncSession` (`from sqlalchemy.ext.asyncio import AsyncSession`), but the module "
        f"binds `AsyncSession` itself too: `AsyncSession = ...` (line {line})"
    ) in reasons, reasons
    assert document["files_changed"] == []
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", CREATE_AND_READ) == {"status": 200, "names": ["pen"]}


def test_a_name_a_function_writes_as_a_global_blocks_the_route(cli, service):
    writer = """
    def relabel() -> None:
        global AsyncSession
        AsyncSession = "set at run time"
    """
    root = service({SUBSYSTEM: routes(writer, CREATE)})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert any("`global AsyncSession; AsyncSession = ... in relabel()`" in r for r in found["reasons"]), found


def _clashes(before: str, after: str) -> list[tuple[str, str, list[str]]]:
    found = shadowed_imports.clashes(ast.parse(before).body, ast.parse(after).body)
    return [(c.name, c.added.what, [b.what for b in c.others]) for c in found]


def test_an_added_import_beside_a_def_of_its_name_is_a_clash():
    before = "def get_async_db_session():\n    return 1\n"
    after = "from app.db import get_async_db_session\n" + before
    assert _clashes(before, after) == [
        ("get_async_db_session", "from app.db import get_async_db_session", ["def get_async_db_session"])
    ]


def test_near_miss_the_same_import_added_again_is_no_clash():
    before = "if TYPE_CHECKING:\n    from sqlalchemy.ext.asyncio import AsyncSession\n"
    after = "from sqlalchemy.ext.asyncio import AsyncSession\n" + before
    assert _clashes(before, after) == []


def test_near_miss_a_fallback_the_module_had_already_is_no_clash():
    before = "try:\n    import orjson as json\nexcept ImportError:\n    import json\n"
    assert _clashes(before, "from sqlalchemy import select\n" + before) == []


def test_an_engine_name_bound_to_a_url_string_blocks_the_route(cli, service):
    # Reused as it was, the generated `async_sessionmaker(async_engine, ...)` got the string:
    # ArgumentError at the first request.
    engine = test_phase2_soundness.ENGINE + '\nasync_engine = "sqlite+aiosqlite:///./app.db"  # a URL\n'
    root = service({"db/engine.py": engine, SUBSYSTEM: routes(CREATE)})
    line = 1 + engine.lstrip("\n").splitlines().index('async_engine = "sqlite+aiosqlite:///./app.db"  # a URL')
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert (
        f"db/engine.py:{line}: `async_engine` is assigned here and is not an async engine phase two can reuse"
    ) in " | ".join(found["reasons"]), found
    assert document["files_changed"] == []
