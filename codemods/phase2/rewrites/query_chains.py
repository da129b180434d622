"""Legacy Query chains: `session.query(Book).filter(Book.id == book_id).first()` ->
`(await session.scalars(select(Book).where(Book.id == book_id).limit(1))).first()`.

The whole chain is rewritten at its outermost call, on a Session the function names or on
the one its class holds (`self.db.query(Book).all()`) (`phase2/legacy_query.py` maps each
form); planning blocks a chain it cannot map, so the edit never guesses. A Query kept in a
local name and extended (`facts.QueryVar`) becomes a `select()` in every place: its head, each
extension, and each run, awaited on the Session.
"""

from __future__ import annotations

import libcst as cst

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.phase2.holders import held_query_root
from async_migrate.codemods.phase2.legacy_query import kept_extension, kept_head, kept_run, rewrite_query
from async_migrate.codemods.phase2.rewrites.base import CallAction, CallKind, CallRewrite, FunctionSite, Leave


class LegacyQuery(CallRewrite):
    kinds = (CallKind.QUERY,)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        # on a Session parameter or local, or on the one the method's class holds (`self.db`)
        root = call.query_root if call.query_root in site.names else held_query_root(site.project, site.fid, call)
        if root is None:
            return None
        mapped = tuple(sorted(project_classes(site.project).class_valued(site.fid)))
        names, sqlmodel = _names_for(site)
        return CallAction(CallKind.QUERY, root, add_await=False, mapped=mapped, names=names, sqlmodel=sqlmodel)

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        rewritten = rewrite_query(
            call, action.rename or "session", dict(action.names), mapped=frozenset(action.mapped), sqlmodel=action.sqlmodel
        )
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
            names, sqlmodel = _names_for(site)
            return CallAction(
                kind, kept.session, add_await=False, mapped=mapped, query=kept.query, names=names, sqlmodel=sqlmodel
            )
        return None

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        if action.kind is CallKind.QUERY_GROW:
            return kept_extension(call)
        session, mapped = action.rename or "session", frozenset(action.mapped)
        if action.kind is CallKind.QUERY_KEPT:
            rewritten = kept_head(call, session, dict(action.names), mapped=mapped, sqlmodel=action.sqlmodel)
        else:
            rewritten = kept_run(call, action.query or "", session, dict(action.names), mapped=mapped, sqlmodel=action.sqlmodel)
        if isinstance(rewritten, str):  # planning blocks these; never guess
            raise ValueError(f"legacy Query kept in a name cannot be rewritten: {rewritten}")
        imports |= rewritten.imports
        return rewritten.expression



_SELECTS = ("sqlalchemy", "sqlalchemy.future", "sqlalchemy.sql", "sqlalchemy.sql.expression")


def _names_for(site: FunctionSite) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The names the rewritten statement is written with, and whether its `select` is SQLModel's,
    for SQLModel's AsyncSession to run with `exec()` (its `scalars()` goes through the
    `execute()` SQLModel deprecates). Each as the module imports it; a `select` imported now,
    from `sqlmodel` on SQLModel's stack, under another name where the module or the function
    binds `select` to something else (`from mylib import select`, a parameter), which an added
    import would rebind or which would shadow it. A module importing SQLAlchemy's `select` keeps
    `scalars()`: `exec()` returns rows for its statement."""
    from async_migrate.codemods.phase2.plan import _function_names, _import_free
    from async_migrate.codemods.phase2.twins import module_names

    shadowed = _function_names(site.function)
    found: dict[str, str] = {}
    sqlmodel = site.stack.sqlmodel
    local = site.imported_as("sqlmodel", "select")
    if local is None:
        local = next((n for home in _SELECTS if (n := site.imported_as(home, "select")) is not None), None)
        if local is not None:
            sqlmodel = False
    if local is None or local in shadowed:
        local = _import_free(site.module, site.file, "sqlmodel" if sqlmodel else "sqlalchemy", "select", shadowed)
    found["select"] = local
    bound = module_names(site.module) | shadowed
    for name in ("func", "delete", "update"):
        local = site.imported_as("sqlalchemy", name) or site.imported_as("sqlmodel", name)
        if (local is None and name in bound) or local in shadowed:
            local = _import_free(site.module, site.file, "sqlalchemy", name, shadowed)
        if local is not None:
            found[name] = local
    return tuple(sorted(found.items())), sqlmodel
