"""Phase two beside GraphQL resolvers: a helper a migrated route shares with resolvers (and a
DataLoader's load function) gets an async twin; the resolvers keep calling the original."""

from __future__ import annotations

import ast
import textwrap

from graphql_sample import FILES, ROUTER

HEAD = """\
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()
"""


def test_helper_shared_with_resolvers_is_twinned_not_rewritten(project, app_files, cli):
    body = HEAD + "\n\n" + textwrap.dedent(ROUTER).strip("\n") + "\n"
    root = project({**app_files, "api/__init__.py": "", "api/items.py": body, **FILES})
    result = cli("phase2", root, "-s", "api/items.py", "--apply")
    assert result.exit_code == 0, result.output
    crud = ast.parse((root / "crud.py").read_text())
    defined = {node.name: type(node).__name__ for node in crud.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert defined["list_books"] == "FunctionDef"  # the resolvers' call stays synchronous and valid
    assert defined["list_books_async"] == "AsyncFunctionDef"
    assert "await crud.list_books_async(db)" in (root / "api/items.py").read_text()
    schema = (root / "schema.py").read_text()
    assert schema.strip() == FILES["schema.py"].strip()  # no resolver touched
