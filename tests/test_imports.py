"""Imports added to an existing `from m import ...`: placed where isort (and ruff's I001) would put
them when the names were in isort's order, after them when not; every result is parsed."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from async_migrate.codemods import imports


def _added(source: str, *names: str) -> str:
    before = cst.parse_module(source)
    context = CodemodContext()
    for name in names:
        AddImportsVisitor.add_needed_import(context, "core.db", name)
    code = imports.regroup(before, AddImportsVisitor(context).transform_module(before)).code
    cst.parse_module(code)
    return code


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # constants, then classes, then the rest: ruff's and isort's default
        ("from core.db import DB\n", "from core.db import DB, AsyncSessionDep, async_session_dependency\n"),
        (
            "from core.db import (\n    DB,\n    get_db,\n)\n",
            "from core.db import (\n    DB,\n    AsyncSessionDep,\n    async_session_dependency,\n    get_db,\n)\n",
        ),
        # names not in isort's order before: the new ones go after them, the old order kept
        ("from core.db import get_db, DB\n", "from core.db import get_db, DB, AsyncSessionDep, async_session_dependency\n"),
    ],
    ids=["one-line", "parenthesised", "unsorted"],
)
def test_names_added_to_an_existing_import_are_placed_as_isort_would(source, expected):
    assert _added(source, "async_session_dependency", "AsyncSessionDep") == expected


def test_a_name_replacing_a_removed_one_takes_its_isort_place():
    before = cst.parse_module("from app.db import Base, engine, get_db\n")
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, "app.db", "get_async_db_session")
    added = AddImportsVisitor(context).transform_module(before)
    RemoveImportsVisitor.remove_unused_import(context, "app.db", "get_db")
    after = RemoveImportsVisitor(context).transform_module(added)
    assert imports.regroup(before, after).code == "from app.db import Base, engine, get_async_db_session\n"


def _replaced(source: str, added: tuple[str, ...], removed: tuple[str, ...]) -> str:
    """`source` after the rewrite added `added` to `core.db`'s import and left `removed` unused."""
    before = cst.parse_module(source)
    context = CodemodContext()
    for name in added:
        AddImportsVisitor.add_needed_import(context, "core.db", name)
    after = AddImportsVisitor(context).transform_module(before)
    for name in removed:
        RemoveImportsVisitor.remove_unused_import(context, "core.db", name)
    after = RemoveImportsVisitor(context).transform_module(after.with_changes(body=after.body[:1]))
    code = imports.regroup(before, after).code
    cst.parse_module(code)
    return code


ONE_A_LINE = "from core.db import (\n    # the session\n    DB,  # sync\n    get_db,\n)\n"


@pytest.mark.parametrize(
    ("added", "removed", "expected"),
    [
        # the only name replaced: its line, its trailing comma and the `)` on a line of its own
        (("AsyncDB",), ("DB", "get_db"), "from core.db import (\n    AsyncDB,\n)\n"),
        # a name replacing one: in isort's place, on its own line; the dropped name's comment goes with it
        (("get_async_db",), ("DB",), "from core.db import (\n    get_async_db,\n    get_db,\n)\n"),
        # each kept name keeps its comment, and the comment line above it
        (("async_db",), ("get_db",), "from core.db import (\n    # the session\n    DB,  # sync\n    async_db,\n)\n"),
        (("AsyncDB", "get_async_db"), (), "from core.db import (\n    # the session\n    DB,  # sync\n    AsyncDB,\n"
                                          "    get_async_db,\n    get_db,\n)\n"),
    ],
    ids=["only-name", "replaced", "comments-kept", "added"],
)
def test_an_import_written_one_name_a_line_keeps_that_layout(added, removed, expected):
    assert _replaced(ONE_A_LINE, added, removed) == expected


def test_near_miss_an_import_on_one_line_stays_on_one_line():
    assert _replaced("from core.db import DB, get_db\n", ("get_async_db",), ("DB",)) == (
        "from core.db import get_async_db, get_db\n"
    )


def test_near_miss_an_import_of_another_module_keeps_its_names_as_written():
    assert _added("from core.other import b, a\n", "get_db") == "from core.db import get_db\nfrom core.other import b, a\n"


def test_a_new_library_import_joins_the_third_party_section_not_the_project_imports():
    source = "import os\n\nfrom fastapi import APIRouter\n\nfrom app.db import get_db\n\nrouter = APIRouter()\n"
    before = cst.parse_module(source)
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, "sqlalchemy.orm", "selectinload")
    AddImportsVisitor.add_needed_import(context, "sqlalchemy.ext.asyncio", "AsyncSession")
    code = imports.regroup(before, AddImportsVisitor(context).transform_module(before)).code
    assert code == (
        "import os\n\nfrom fastapi import APIRouter\nfrom sqlalchemy.ext.asyncio import AsyncSession\n"
        "from sqlalchemy.orm import selectinload\n\nfrom app.db import get_db\n\nrouter = APIRouter()\n"
    )


def _rewritten(
    source: str, module: str | None, adds: list[tuple[str, str]], removes: list[tuple[str, str]] = (),
    package: str | None = None,
) -> str:
    before = cst.parse_module(source)
    context = CodemodContext(full_module_name=module, full_package_name=package)
    for imported, name in adds:
        AddImportsVisitor.add_needed_import(context, imported, name)
    after = AddImportsVisitor(context).transform_module(before)
    for imported, name in removes:
        RemoveImportsVisitor.remove_unused_import(context, imported, name)
    after = RemoveImportsVisitor(context).transform_module(after)
    code = imports.regroup(before, after, module, package).code
    cst.parse_module(code)
    return code


def test_a_library_import_opens_a_section_before_the_project_imports_when_it_has_none():
    # The only third-party import was dropped: the new ones go before the project's, not after.
    source = "from sqlalchemy.orm import Session\n\nfrom app.models import Item\n\n\ndef f(x: Item):\n    return x\n"
    code = _rewritten(source, "app.crud", [("sqlalchemy", "select")], [("sqlalchemy.orm", "Session")])
    assert code == (
        "from sqlalchemy import select\n\nfrom app.models import Item\n\n\ndef f(x: Item):\n    return x\n"
    )


def test_a_library_import_joins_other_third_party_imports_before_the_project_ones():
    source = "import os\n\nimport httpx\n\nfrom app.models import Item\n"
    code = _rewritten(source, "app.api.items", [("sqlalchemy", "select")])
    assert code == "import os\n\nimport httpx\nfrom sqlalchemy import select\n\nfrom app.models import Item\n"


def test_near_miss_without_the_module_name_a_library_import_with_no_section_goes_last():
    source = "from app.models import Item\n"
    assert _rewritten(source, None, [("sqlalchemy", "select")]) == "from app.models import Item\nfrom sqlalchemy import select\n"


def test_a_standard_library_import_is_sorted_among_the_standard_library_ones():
    source = "from typing import Iterator\n\nfrom sqlalchemy import create_engine\n"
    code = _rewritten(source, "app.db", [("collections.abc", "AsyncIterator")])
    assert code == (
        "from collections.abc import AsyncIterator\nfrom typing import Iterator\n\nfrom sqlalchemy import create_engine\n"
    )


def test_removing_the_first_import_does_not_leave_the_file_opening_with_a_blank_line():
    source = "from sqlalchemy.orm import Session\n\nfrom app.models import Item\n\nx = Item\n"
    assert _rewritten(source, "app.crud", [], [("sqlalchemy.orm", "Session")]) == "from app.models import Item\n\nx = Item\n"


def _dropped(source: str, removes: list[tuple[str, str]]) -> str:
    before = cst.parse_module(source)
    code = imports.drop_emptied_guards(before, cst.parse_module(_rewritten(source, "app.crud", [], removes))).code
    cst.parse_module(code)
    return code


def test_a_type_checking_block_emptied_by_a_dropped_import_goes_with_its_typing_import():
    source = (
        "from __future__ import annotations\n\nfrom typing import TYPE_CHECKING\n\nfrom app.models import Item\n\n"
        "if TYPE_CHECKING:\n    from sqlalchemy.orm import Session\n\n\ndef f(db: AsyncSession) -> Item:\n    return db\n"
    )
    assert _dropped(source, [("sqlalchemy.orm", "Session")]) == (
        "from __future__ import annotations\n\nfrom app.models import Item\n\n\n"
        "def f(db: AsyncSession) -> Item:\n    return db\n"
    )


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        # another import still in the block
        ("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from sqlalchemy.orm import Session\n"
         "    from app.models import Item\n\n\ndef f(db: AsyncSession, i: 'Item'):\n    return db\n",
         "if TYPE_CHECKING:\n    from app.models import Item\n"),
        # a block the code wrote as `pass` stays
        ("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    pass\n\n\ndef f():\n    return 1\n",
         "if TYPE_CHECKING:\n    pass\n"),
        # TYPE_CHECKING still read elsewhere: its import stays
        ("from typing import TYPE_CHECKING, Any\n\nif TYPE_CHECKING:\n    from sqlalchemy.orm import Session\n\n\n"
         "DEBUG: Any = not TYPE_CHECKING\n", "from typing import TYPE_CHECKING, Any\n"),
    ],
    ids=["block-still-imports", "written-as-pass", "type-checking-read-elsewhere"],
)
def test_near_miss_a_type_checking_block_or_import_still_needed_stays(source, kept):
    assert kept in _dropped(source, [("sqlalchemy.orm", "Session")])


def test_a_typing_import_keeps_its_other_names():
    source = "from typing import TYPE_CHECKING, Any\n\nif TYPE_CHECKING:\n    from sqlalchemy.orm import Session\n\nX: Any = 1\n"
    assert _dropped(source, [("sqlalchemy.orm", "Session")]) == "from typing import Any\n\nX: Any = 1\n"


def test_a_dropped_import_that_opened_a_section_leaves_the_break_to_the_next_one():
    source = (
        "import app.crud.users as users_crud\n\nfrom ..deps import DbSession\nfrom ..schemas import UserIn\n\n"
        "x = users_crud, UserIn\n"
    )
    before = cst.parse_module(source)
    context = imports.context_for("app/api/users.py", "app.api.users")
    RemoveImportsVisitor.remove_unused_import(context, "app.deps", "DbSession")
    after = RemoveImportsVisitor(context).transform_module(before)
    assert imports.regroup(before, after, "app.api.users").code == (
        "import app.crud.users as users_crud\n\nfrom ..schemas import UserIn\n\nx = users_crud, UserIn\n"
    )


def test_a_new_project_import_in_a_module_importing_its_project_relatively_is_relative_among_them():
    source = "from fastapi import APIRouter\n\nfrom .. import crud\nfrom ..deps import get_db\n\nx = crud, get_db\n"
    assert _rewritten(source, "app.api.orders", [("app.db.base", "get_async_db_session")], package="app.api") == (
        "from fastapi import APIRouter\n\nfrom .. import crud\nfrom ..db.base import get_async_db_session\n"
        "from ..deps import get_db\n\nx = crud, get_db\n"
    )
    # the module's own package, and a sibling: one dot
    assert _rewritten(source, "app.api.orders", [("app.api", "router"), ("app.api.deps", "Db")], package="app.api") == (
        "from fastapi import APIRouter\n\nfrom .. import crud\nfrom ..deps import get_db\nfrom . import router\n"
        "from .deps import Db\n\nx = crud, get_db\n"
    )


def test_a_new_relative_import_opens_its_own_section_when_the_relative_ones_were_dropped():
    source = "from fastapi import APIRouter\n\nfrom ..deps import get_db\n\nx = APIRouter\n"
    assert _rewritten(
        source, "app.api.orders", [("app.db", "get_async_db")], [("app.deps", "get_db")], package="app.api"
    ) == "from fastapi import APIRouter\n\nfrom ..db import get_async_db\n\nx = APIRouter\n"


@pytest.mark.parametrize("package", [None, "app.api"], ids=["package-unknown", "absolute-project-import-too"])
def test_near_miss_a_new_project_import_goes_before_the_relative_ones_in_a_section_of_its_own(package):
    # Without the module's package, or in a module importing its project absolutely as well,
    # the import is written absolutely, in the first-party section before the local folder's.
    absolute = "from app.core import settings\n\n" if package else ""
    source = f"from fastapi import APIRouter\n\n{absolute}from .. import crud\nfrom ..deps import get_db\n\nx = crud, get_db\n"
    expected_project = "from app.core import settings\nfrom app.db.base import get_async_db_session\n\n" if package else (
        "from app.db.base import get_async_db_session\n\n"
    )
    assert _rewritten(source, "app.api.orders", [("app.db.base", "get_async_db_session")], package=package) == (
        f"from fastapi import APIRouter\n\n{expected_project}"
        "from .. import crud\nfrom ..deps import get_db\n\nx = crud, get_db\n"
    )


def test_a_dropped_type_checking_import_that_opened_the_file_leaves_no_blank_line_first():
    source = (
        "from typing import TYPE_CHECKING\n\nfrom fastapi import Depends\n\n"
        "if TYPE_CHECKING:\n    from sqlalchemy.orm import Session\n\nx = Depends\n"
    )
    assert _dropped(source, [("sqlalchemy.orm", "Session")]) == "from fastapi import Depends\n\nx = Depends\n"


def test_a_new_project_import_after_library_imports_only_opens_its_own_section():
    source = "from fastapi import APIRouter\nfrom sqlalchemy import text\n\nx = APIRouter, text\n"
    assert _rewritten(source, "app.api.health", [("app.db.base", "async_database_sessionmaker")]) == (
        "from fastapi import APIRouter\nfrom sqlalchemy import text\n\n"
        "from app.db.base import async_database_sessionmaker\n\nx = APIRouter, text\n"
    )


SECOND_BLOCK = (
    "import os\n\nfrom app.db import get_db\n\n\n"
    "def first(db: get_db):\n    return os.sep\n\n\n"
    "from sqlalchemy import select  # noqa: E402\n\n\n"
    "def second(db):\n    return select(db)\n"
)


def test_a_library_import_joins_the_head_of_the_module_not_an_import_block_below_code():
    # Beside `from sqlalchemy import select` it would be bound only after `first` was defined,
    # whose annotation (once the rewrite names AsyncSession there) is evaluated at import.
    code = _rewritten(SECOND_BLOCK, "app.api", [("sqlalchemy.ext.asyncio", "AsyncSession")])
    head, _, below = code.partition("def first")
    assert head == "import os\n\nfrom sqlalchemy.ext.asyncio import AsyncSession\n\nfrom app.db import get_db\n\n\n"
    assert "AsyncSession" not in below


def test_a_library_import_still_joins_its_package_in_the_head():
    source = "import os\n\nfrom sqlalchemy import select\nfrom sqlalchemy.orm import Session\n\nx = 1\n"
    code = _rewritten(source, "app.api", [("sqlalchemy.ext.asyncio", "AsyncSession")])
    assert code == (
        "import os\n\nfrom sqlalchemy import select\nfrom sqlalchemy.ext.asyncio import AsyncSession\n"
        "from sqlalchemy.orm import Session\n\nx = 1\n"
    )


def test_a_dropped_import_leaves_its_break_to_the_next_one_also_when_that_one_gains_a_name():
    # phase two drops `from dependencies import get_db` and adds `Note` to `from models import User`
    source = (
        "from sqlalchemy.orm import Session\n\nfrom dependencies import get_db\nfrom models import User\n\n"
        "x = Session, User, Note\n"
    )
    before = cst.parse_module(source)
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, "models", "Note")
    added = AddImportsVisitor(context).transform_module(before)
    RemoveImportsVisitor.remove_unused_import(context, "dependencies", "get_db")
    after = RemoveImportsVisitor(context).transform_module(added)
    assert imports.regroup(before, after).code == (
        "from sqlalchemy.orm import Session\n\nfrom models import Note, User\n\nx = Session, User, Note\n"
    )


def test_a_project_import_replacing_the_one_that_opened_the_section_takes_its_break():
    # `from app.deps import get_report_session` gone, `from app.db import get_async_db_session` sorts
    # before `from app.models ...`: the blank line opening the project's section goes above it
    source = (
        "from fastapi import APIRouter\n\nfrom app.deps import get_report_session\nfrom app.models import Order\n\n"
        "x = APIRouter, Order, get_async_db_session\n"
    )
    assert _rewritten(
        source, "app.routers.reports", [("app.db", "get_async_db_session")], [("app.deps", "get_report_session")]
    ) == (
        "from fastapi import APIRouter\n\nfrom app.db import get_async_db_session\nfrom app.models import Order\n\n"
        "x = APIRouter, Order, get_async_db_session\n"
    )


def test_quick_matcher_scan_keeps_matcher_decorated_methods_working():
    """`QuickMatcherScan` narrows `dir()` for libcst's matcher scan: a class using the matcher
    decorators must still have them called, and one without finds none."""
    import libcst.matchers as m

    from async_migrate.codemods.matcher_scan import QuickMatcherScan

    class Renamer(QuickMatcherScan, m.MatcherDecoratableTransformer):
        @m.call_if_inside(m.FunctionDef(name=m.Name("inner")))
        @m.leave(m.Name("x"))
        def rename(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            return updated.with_changes(value="y")

        @m.call_if_not_inside(m.FunctionDef(name=m.Name("inner")))
        def leave_Integer(self, original: cst.Integer, updated: cst.Integer) -> cst.Integer:
            return updated.with_changes(value="0")

    class Plain(QuickMatcherScan, m.MatcherDecoratableTransformer):
        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            return updated

    source = "def inner():\n    return x + 1\n\n\ndef outer():\n    return x + 1\n"
    assert cst.parse_module(source).visit(Renamer()).code == (
        "def inner():\n    return y + 1\n\n\ndef outer():\n    return x + 0\n"
    )
    assert dir(Renamer()) == ["leave_Integer", "rename"]
    assert dir(Plain()) == []
    assert cst.parse_module(source).visit(Plain()).code == source


@pytest.mark.parametrize(("source", "expected"), [
    # `import sqlalchemy as sa` is the package's only import: the new `from` line goes among the
    # section's `from` lines (after `from fastapi`), not right below `import sqlalchemy as sa`
    (
        "import httpx\nimport sqlalchemy as sa\nfrom fastapi import Depends\n\nfrom app.db import get_db\n",
        "import httpx\nimport sqlalchemy as sa\nfrom fastapi import Depends\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n\nfrom app.db import get_db\n",
    ),
    (
        "import sqlalchemy as sa\nfrom fastapi import Depends\nfrom starlette.requests import Request\n",
        "import sqlalchemy as sa\nfrom fastapi import Depends\nfrom sqlalchemy.ext.asyncio import AsyncSession\n"
        "from starlette.requests import Request\n",
    ),
    # near miss: no `from` line in the section, so it follows the package's `import` line
    (
        "import sqlalchemy as sa\n\nfrom app.db import get_db\n",
        "import sqlalchemy as sa\nfrom sqlalchemy.ext.asyncio import AsyncSession\n\nfrom app.db import get_db\n",
    ),
])
def test_a_from_import_beside_a_plain_import_of_its_package_goes_among_the_from_imports(source, expected):
    assert _rewritten(source, "app.api.items", [("sqlalchemy.ext.asyncio", "AsyncSession")]) == expected


def test_a_name_imported_beside_a_star_import_goes_right_after_it():
    # libcst never extends `from app.db import *` (`TopLevelAddImports`): the name is a statement
    # of its own, which isort puts after the star; the star itself stays where it was.
    source = "from fastapi import APIRouter\nfrom sqlalchemy import select\n\nfrom app.db import *  # noqa: F403\nfrom app.models import User\n\nx = 1\n"
    before = cst.parse_module(source)
    context = CodemodContext(full_module_name="app.routers.users", full_package_name="app.routers")
    imports.add(context, "sqlalchemy.ext.asyncio", "AsyncSession")
    imports.add(context, "app.db", "get_async_db_session")
    after = imports.TopLevelAddImports(context).transform_module(before)
    assert imports.regroup(before, after, "app.routers.users", "app.routers").code == (
        "from fastapi import APIRouter\nfrom sqlalchemy import select\nfrom sqlalchemy.ext.asyncio import AsyncSession\n\n"
        "from app.db import *  # noqa: F403\nfrom app.db import get_async_db_session\nfrom app.models import User\n\nx = 1\n"
    )
    untouched = imports.regroup(before, AddImportsVisitor(CodemodContext()).transform_module(before), "app.routers.users")
    assert untouched.code == source


class _Removing(imports.ImportingCommand):
    """Drops the imports `remove` names, changing nothing else."""

    DESCRIPTION = "drop imports"

    def __init__(self, context: CodemodContext, dropped: list[tuple[str, str]]) -> None:
        super().__init__(context)
        for module, name in dropped:
            imports.remove(context, module, name)


def _without(source: str, *dropped: tuple[str, str]) -> str:
    context = imports.context_for("app/crud.py", "app.crud")
    code = _Removing(context, list(dropped)).transform_module(cst.parse_module(source)).code
    cst.parse_module(code)
    return code


SESSION = ("sqlalchemy.orm", "Session")


@pytest.mark.parametrize(
    "use",
    [
        "def f(db: Session): ...\n",
        "def f(db: 'Session'): ...\n",  # a string annotation
        "def f(db: 'list[Session]'): ...\n",
        "x = cast('Session', y)\n",
        "__all__ = ['Session']\n",  # re-exported
        "def f():\n    Session = make()\n    return Session\n",  # a local of that name: kept, never wrongly dropped
        "class A:\n    session_type = Session\n",
    ],
    ids=["annotation", "string", "string-nested", "cast", "all", "shadowed", "class-body"],
)
def test_a_dropped_import_still_used_anywhere_stays(use):
    source = "from sqlalchemy.orm import Session\n\n" + use
    assert _without(source, SESSION) == source


def test_a_dropped_import_used_nowhere_goes_and_its_neighbours_stay():
    source = (
        "from sqlalchemy.orm import Session, selectinload\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n\n"
        '"""Takes a Session and loads eagerly."""\n\n'
        "async def f(db: AsyncSession):\n    return selectinload\n"
    )
    assert _without(source, SESSION) == source.replace("Session, selectinload", "selectinload")


def test_an_import_in_a_function_is_read_as_libcst_would():
    source = "def f():\n    from sqlalchemy.orm import Session\n    return 1\n"
    assert _without(source, SESSION) == "def f():\n    return 1\n"


def test_syntax_newer_than_this_python_is_read_by_libcst_s_scope_analysis():
    # `type X = ...` (Python 3.12) parses with libcst whatever runs it, with `ast` only on 3.12+
    source = "from sqlalchemy.orm import Session\nfrom os import path\n\ntype Db = Session\n"
    assert _without(source, SESSION, ("os", "path")) == "from sqlalchemy.orm import Session\n\ntype Db = Session\n"


def test_names_in_use_reads_names_strings_and_global_statements():
    assert imports.names_in_use("x: 'Session' = a.b\nglobal g\n") >= {"Session", "a", "x", "g"}
    assert imports.names_in_use("x = (\n") is None


FLAT = "import os\n\nfrom fastapi import APIRouter\n\nfrom models import Order\nfrom services import S\n\nx = 1\n"


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        # another of the project's top-level modules: sorted among the project's imports
        ("db", "from fastapi import APIRouter\n\nfrom db import X\nfrom models import Order\nfrom services import S\n"),
        # a library the tool has no list for: among the libraries, above the project's section
        ("pydantic_settings", "from fastapi import APIRouter\nfrom pydantic_settings import X\n\nfrom models import Order\n"),
    ],
    ids=["first-party", "third-party"],
)
def test_the_projects_top_level_modules_are_first_party_as_ruff_finds_them(module, expected):
    before = cst.parse_module(FLAT)
    context = imports.context_for("routers/orders.py", "routers.orders")
    imports.add(context, module, "X")
    after = AddImportsVisitor(context).transform_module(before)
    placed = imports.regroup(before, after, "routers.orders", "routers", {"db", "models", "routers", "services"})
    assert expected in placed.code
    # without the project's modules, `models` and `services` could be libraries: the import stays last
    assert expected not in imports.regroup(before, after, "routers.orders", "routers").code


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        # the module's own package, of which it imported nothing yet: sorted, not appended
        ("routers.deps", "from fastapi import APIRouter\n\nfrom models import Order\nfrom routers.deps import X\nfrom services import S\n"),
        ("a_first", "from fastapi import APIRouter\n\nfrom a_first import X\nfrom models import Order\nfrom services import S\n"),
        ("zeta", "from fastapi import APIRouter\n\nfrom models import Order\nfrom services import S\nfrom zeta import X\n"),
    ],
    ids=["own-package-between", "first", "last"],
)
def test_a_new_project_import_is_sorted_in_the_first_party_section(module, expected):
    before = cst.parse_module(FLAT)
    context = imports.context_for("routers/orders.py", "routers.orders")
    imports.add(context, module, "X")
    after = AddImportsVisitor(context).transform_module(before)
    code = imports.regroup(before, after, "routers.orders", "routers", {"a_first", "models", "routers", "services", "zeta"}).code
    cst.parse_module(code)
    assert code == "import os\n\n" + expected + "\nx = 1\n"


REPLACED = "from fastapi import APIRouter\nfrom sqlalchemy import select\n\nfrom aliases import RequestDB\nfrom models import Item\n\nx = select, Item\n"


def test_a_project_import_replacing_the_first_of_the_first_party_section_opens_that_section():
    # `from aliases import RequestDB` opened the section and is dropped; `from deps import X`
    # sorts above `from models import Item`, so the section's break goes above it, not below it.
    before = cst.parse_module(REPLACED)
    context = imports.context_for("routers/r.py", "routers.r")
    imports.add(context, "deps", "X")
    imports.remove(context, "aliases", "RequestDB")
    after = RemoveImportsVisitor(context).transform_module(AddImportsVisitor(context).transform_module(before))
    code = imports.regroup(before, after, "routers.r", "routers", {"aliases", "deps", "models", "routers"}).code
    assert code.startswith(
        "from fastapi import APIRouter\nfrom sqlalchemy import select\n\nfrom deps import X\nfrom models import Item\n\n"
    ), code


def test_near_miss_a_library_import_replacing_it_stays_in_the_third_party_section():
    before = cst.parse_module(REPLACED)
    context = imports.context_for("routers/r.py", "routers.r")
    imports.add(context, "anyio", "X")
    imports.remove(context, "aliases", "RequestDB")
    after = RemoveImportsVisitor(context).transform_module(AddImportsVisitor(context).transform_module(before))
    code = imports.regroup(before, after, "routers.r", "routers", {"aliases", "models", "routers"}).code
    assert code.startswith(
        "from anyio import X\nfrom fastapi import APIRouter\nfrom sqlalchemy import select\n\nfrom models import Item\n\n"
    ), code
