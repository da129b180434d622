"""Legacy Query chains: `session.query(Book).filter(Book.id == book_id).first()` ->
`(await session.scalars(select(Book).where(Book.id == book_id).limit(1))).first()`.

The whole chain is rewritten at its outermost call (`phase2/legacy_query.py` maps each
form); planning blocks a chain it cannot map, so the edit never guesses. A Query kept in a
local name and extended (`facts.QueryVar`) becomes a `select()` in every place: its head, each
extension, and each run, awaited on the Session.
"""

from __future__ import annotations

import libcst as cst

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.phase2.legacy_query import kept_extension, kept_head, kept_run, rewrite_query
from async_migrate.codemods.phase2.rewrites.base import CallAction, CallKind, CallRewrite, FunctionSite, Leave


class LegacyQuery(CallRewrite):
    kinds = (CallKind.QUERY,)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        if call.query_root not in site.names:
            return None
        mapped = tuple(sorted(project_classes(site.project).class_valued(site.fid)))
        return CallAction(CallKind.QUERY, call.query_root, add_await=False, mapped=mapped)

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        rewritten = rewrite_query(call, action.rename or "session", mapped=frozenset(action.mapped))
        if isinstance(rewritten, str):  # planning blocks these; never guess
            raise ValueError(f"legacy Query chain cannot be rewritten: {rewritten}")
        imports |= rewritten.imports
        return rewritten.expression


class KeptQuery(CallRewrite):
    kinds = (CallKind.QUERY_KEPT, CallKind.QUERY_GROW, CallKind.QUERY_RUN)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        for kept in site.function.query_vars:
            if kept.session not in site.names:
                continue
            if call.index == kept.head:
                kind = CallKind.QUERY_KEPT
            elif call.index in kept.extensions:
                kind = CallKind.QUERY_GROW
            elif call.index in kept.runs:
                kind = CallKind.QUERY_RUN
            else:
                continue
            mapped = tuple(sorted(project_classes(site.project).class_valued(site.fid)))
            return CallAction(kind, kept.session, add_await=False, mapped=mapped, query=kept.query)
        return None

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        if action.kind is CallKind.QUERY_GROW:
            return kept_extension(call)
        session, mapped = action.rename or "session", frozenset(action.mapped)
        if action.kind is CallKind.QUERY_KEPT:
            rewritten = kept_head(call, session, mapped=mapped)
        else:
            rewritten = kept_run(call, action.query or "", session, mapped=mapped)
        if isinstance(rewritten, str):  # planning blocks these; never guess
            raise ValueError(f"legacy Query kept in a name cannot be rewritten: {rewritten}")
        imports |= rewritten.imports
        return rewritten.expression
