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

import libcst as cst

from async_migrate.codemods.definitions import DefinitionCommand


class MakeHandlersSync(DefinitionCommand):
    DESCRIPTION = "Turn chosen `async def` handlers into plain `def`."

    def rewrite_definition(self, key: str, node: cst.FunctionDef) -> cst.FunctionDef:
        if node.asynchronous is None:
            return node
        return node.with_changes(asynchronous=None)
