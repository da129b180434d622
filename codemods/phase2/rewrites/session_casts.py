"""`typing.cast(Session, db)` of a migrated function's Session: the type it names becomes
`AsyncSession` (the value was one already; the cast changes nothing at run time).

Before::

    def count(db: Session) -> int:
        return cast(Session, db).scalar(select(func.count(User.id)))

After::

    async def count(db: AsyncSession) -> int:
        return await cast(AsyncSession, db).scalar(select(func.count(User.id)))

The analysis reads `cast(T, x)` as `x` wherever it follows the Session (a receiver, an argument,
a returned value, a name bound to it), so the call on it is awaited by the unit that owns it;
this unit only keeps the type a reader and a type checker see true. A string (`cast("Session",
db)`) is renamed inside its quotes; a type the module does not name as the synchronous Session
is left as written.
"""

from __future__ import annotations

import re

import libcst as cst

from async_migrate.codemods import facts
from async_migrate.codemods.phase2.rewrites.base import CallAction, CallKind, CallRewrite, FunctionSite, Leave
from async_migrate.codemods.phase2.rewrites.session_params import renamed_type, spellings
from async_migrate.codemods.vocabulary.python import CASTS


class SessionCasts(CallRewrite):
    kinds = (CallKind.CAST,)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        if site.project.canonical(call.callee) not in CASTS or len(call.args) != 2:
            return None
        given = next((a for a in call.args if a.position == 1), None)
        if given is None or given.name not in site.names:
            return None
        written = next((a for a in call.args if a.position == 0), None)
        if written is not None and written.ref:
            # `Session` or `orm.Session` as written: the facts keep the reference resolved
            ref = written.ref
            spelled = written.name or next(iter(spellings(site.module, ref)))
        else:
            # a string (`"Session"`): the module's own name for the type, the one it can spell
            ref, spelled = site.module.imports.get("Session") or "", "Session"
        if not site.project.is_sync_session_type(ref):
            return None
        site.file.imports.add(site.stack.async_session)
        site.unused(ref)
        return CallAction(CallKind.CAST, spelled, add_await=False)

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        if not call.args or action.rename is None:
            return call
        first = call.args[0]
        text = first.value.evaluated_value if isinstance(first.value, cst.SimpleString) else None
        if isinstance(first.value, cst.SimpleString) and not (
            isinstance(text, str) and re.search(rf"(?<![\w.]){re.escape(action.rename)}(?!\w)", text)
        ):
            return call  # `cast("orm.Session", db)`: no bare `Session` to rename
        return call.with_changes(args=[first.with_changes(value=renamed_type(first.value, action.rename)), *call.args[1:]])
