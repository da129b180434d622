"""Drop `async` from handlers that block on a synchronous Session and never await.

Before::

    @router.get("/books")
    async def list_books(session: session_dependency):
        return book_helper.get_db_books(session)

After::

    @router.get("/books")
    def list_books(session: session_dependency):
        return book_helper.get_db_books(session)

FastAPI then runs the handler in its threadpool instead of on the event loop.
Only the keyword goes: decorators, comments and formatting stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import libcst as cst

from async_migrate.codemods.definition_walk import DefinitionWalk


class MakeHandlersSync(DefinitionWalk):
    """Called like a codemod (`MakeHandlersSync(context, keys).transform_module(tree)`), but it
    adds no import, so it needs none of libcst's codemod machinery (see `DefinitionWalk`)."""

    DESCRIPTION = "Turn chosen `async def` handlers into plain `def`."

    def __init__(self, context: Any, keys: Iterable[str]) -> None:
        super().__init__()
        self.context = context
        self._walk_keys(keys)

    def transform_module(self, tree: cst.Module) -> cst.Module:
        return tree.visit(self)

    def rewrite_definition(self, key: str, node: cst.FunctionDef) -> cst.FunctionDef:
        if node.asynchronous is None:
            return node
        return node.with_changes(asynchronous=None)
