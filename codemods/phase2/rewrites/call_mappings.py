"""Calls of libraries that take the Session and have an async form (`vocabulary/fastapi.py`'s
`CALL_MAPPINGS`, plus `[tool.async-migrate] call_mappings`): the async form, awaited.

Before::

    from fastapi_pagination.ext.sqlalchemy import paginate

    return paginate(session, select(Book))

After::

    from fastapi_pagination.ext.sqlalchemy import apaginate

    return await apaginate(session, select(Book))

The Session's connection is handed over the same way (`paginate(session.connection(), q)`, or a
name bound to it): on AsyncSession that is an AsyncConnection, which only the async form takes;
the sync form on it fails when it runs.
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
from async_migrate.codemods.vocabulary.sqlalchemy import DERIVED_KINDS, Derived


class CallMappings(CallRewrite):
    kinds = (CallKind.MAP,)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        callee = site.project.canonical(call.callee)
        if callee is None or callee not in site.mappings or not _takes_session(call, site):
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


def _takes_session(call: facts.Call, site: FunctionSite) -> bool:
    """Whether `call` is handed the Session, or the connection taken from it."""
    for arg in call.args:
        if arg.name in site.names:
            return True
        if arg.name is not None and site.derived.get(arg.name) is Derived.CONNECTION:
            return True
    return any(
        other.argument_of == call.index and other.receiver in site.names
        and DERIVED_KINDS.get(other.method or "") is Derived.CONNECTION
        for other in site.function.calls
    )
