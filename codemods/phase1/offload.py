"""Move isolated blocking helper calls of mixed handlers into the threadpool.

A handler that must stay `async def` (it awaits something else) but also calls a
synchronous Session helper keeps blocking the event loop. As the design record
allows, such helper calls are wrapped where they stand (`Call.in_place`), and only
those: direct Session method calls are reported, never wrapped.

Before::

    async def place_order(request: Request, session: session_dependency):
        payload = await request.json()
        order = order_helper.place_order(session, payload)

After::

    async def place_order(request: Request, session: session_dependency):
        payload = await request.json()
        order = await run_in_threadpool(order_helper.place_order, session, payload)
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext

from async_migrate.codemods import imports
from async_migrate.codemods.definitions import DefinitionCommand


class OffloadBlockingCalls(DefinitionCommand):
    DESCRIPTION = "Wrap blocking helper calls of mixed handlers in `await run_in_threadpool(...)`."

    def __init__(
        self, context: CodemodContext, calls: dict[str, list[int]], threadpool_name: str | None
    ) -> None:
        super().__init__(context, calls)
        self.calls = calls
        self.threadpool_name = threadpool_name or "run_in_threadpool"
        self.needs_import = threadpool_name is None

    def rewrite_definition(self, key: str, node: cst.FunctionDef) -> cst.FunctionDef:
        wrapper = _WrapCalls(set(self.calls[key]), self.threadpool_name)
        body = node.body.visit(wrapper)
        if wrapper.wrapped and self.needs_import:
            imports.add(self.context, "fastapi.concurrency", "run_in_threadpool")
        return node.with_changes(body=body)


class _WrapCalls(cst.CSTTransformer):
    """Numbers calls in tree order, as the collector does, and wraps the chosen ones."""

    def __init__(self, indices: set[int], name: str) -> None:
        self.indices = indices
        self.name = name
        self.count = 0
        self.chosen: list[bool] = []
        self.wrapped = 0

    def visit_Call(self, node: cst.Call) -> None:
        self.chosen.append(self.count in self.indices)
        self.count += 1

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.chosen.pop():
            return updated
        self.wrapped += 1
        # A call written one argument per line keeps that layout, the function on a line of its own.
        before = updated.whitespace_before_args
        after = before if isinstance(before, cst.ParenthesizedWhitespace) else cst.SimpleWhitespace(" ")
        comma = cst.Comma(whitespace_after=after)
        function = cst.Arg(value=updated.func, comma=comma if updated.args else cst.MaybeSentinel.DEFAULT)
        call = cst.Call(func=cst.Name(self.name), args=[function, *updated.args], whitespace_before_args=before)
        return cst.Await(expression=call, lpar=updated.lpar, rpar=updated.rpar)
