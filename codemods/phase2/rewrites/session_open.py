"""A Session opened straight from the synchronous sessionmaker: opened from the async one.

Before::

    with SessionLocal() as session:
        ...
    with SessionLocal.begin() as session:
        ...

After::

    async with AsyncSessionLocal() as session:
        ...
    async with AsyncSessionLocal.begin() as session:
        ...
"""

from __future__ import annotations

import libcst as cst

from async_migrate.codemods import facts
from async_migrate.codemods.phase2.rewrites.base import (
    CallAction,
    CallKind,
    CallRewrite,
    FunctionSite,
    Leave,
    renamed,
)


class SessionOpen(CallRewrite):
    kinds = (CallKind.OPEN,)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        opened = site.opened.get(call.line)
        if opened is None or opened.callee != call.callee or not site.stack.engine_module:
            return None
        if site.module.name != site.stack.engine_module:
            site.file.imports.add((site.stack.engine_module, site.stack.sessionmaker))
        site.unused(opened.callee)
        return CallAction(CallKind.OPEN, site.stack.sessionmaker, add_await=False)

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        # Never awaited: an AsyncSession is entered with `async with`, or used as it is.
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "begin":
            # `SessionLocal.begin()`: the maker is renamed, its `begin()` (commit on exit) kept
            return call.with_changes(func=func.with_changes(value=renamed(func.value, action.rename)))
        return call.with_changes(func=renamed(call.func, action.rename))

    def async_with(self, action: CallAction) -> bool:
        return True
