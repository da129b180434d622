"""Calls of libraries that take the Session and have an async form (`vocabulary/fastapi.py`'s
`CALL_MAPPINGS`, plus `[tool.async-migrate] call_mappings`): the async form, awaited.

Before::

    from fastapi_pagination.ext.sqlalchemy import paginate

    return paginate(session, select(Book))

After::

    from fastapi_pagination.ext.sqlalchemy import apaginate

    return await apaginate(session, select(Book))
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
    awaited,
    renamed,
)


class CallMappings(CallRewrite):
    kinds = (CallKind.MAP,)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        callee = site.project.canonical(call.callee)
        if callee is None or callee not in site.mappings or not any(a.name in site.names for a in call.args):
            return None
        target_module, _, target_name = site.mappings[callee].rpartition(".")
        source, _, name = callee.rpartition(".")
        if site.imported_as(source, name) is not None:
            site.file.imports.add((target_module, target_name))
            site.unused(callee)
        return CallAction(CallKind.MAP, target_name, add_await=not call.awaited)

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        call = call.with_changes(func=renamed(call.func, action.rename))
        return awaited(call) if action.add_await else call
