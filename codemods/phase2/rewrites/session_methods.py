"""Awaited Session methods: `session.execute(...)` -> `await session.execute(...)`, and
`with session.begin():` -> `async with session.begin():`.

AsyncSession's I/O methods are coroutines; the methods it lacks run on the synchronous
Session behind it through `run_sync`. Before/After and the receivers covered: `SessionMethods`.
"""

from __future__ import annotations

import libcst as cst

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import holders
from async_migrate.codemods.phase2.derived import chained_awaited, chained_call, is_coroutine, runs_sync
from async_migrate.codemods.phase2.rewrites.base import (
    LEAVE,
    CallAction,
    CallKind,
    CallRewrite,
    FunctionSite,
    Leave,
    awaited,
)
from async_migrate.codemods.vocabulary.sqlalchemy import AWAITED_METHODS, CONTEXT_METHODS, UNAVAILABLE_METHODS


class SessionMethods(CallRewrite):
    """Awaits the Session's coroutine methods and enters `begin()` with `async with`.

    Before::

        def add_book(session: Session, book: Book) -> None:
            with session.begin():
                session.add(book)
                session.flush()

    After::

        async def add_book(session: AsyncSession, book: Book) -> None:
            async with session.begin():
                session.add(book)
                await session.flush()

    A bulk method AsyncSession does not have (`session.bulk_save_objects(rows)`) runs on the
    synchronous Session behind it: `await session.run_sync(lambda sync_session:
    sync_session.bulk_save_objects(rows))`, which is what SQLAlchemy offers for them.

    The same holds for a Session the function's class holds (`self.db.commit()`, and
    `self.db.get_or_404(...)` of the project's Session class through `run_sync`) and for the
    transaction or connection a function binds from its Session (`tx = db.begin_nested()`,
    `await tx.commit()`), or calls a method of straight (`await (await db.connection()).execute(stmt)`).
    Which methods are coroutines is `vocabulary/sqlalchemy.py`'s `AWAITED_METHODS` (and
    `CONTEXT_METHODS`, `DERIVED_AWAITED`): a new one is a line there.
    """

    kinds = (CallKind.AWAIT, CallKind.BEGIN, CallKind.RUN_SYNC)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        if call.receiver in site.derived and call.method is not None:
            if is_coroutine(site.derived[call.receiver], call.method):
                return CallAction(CallKind.AWAIT, add_await=not call.awaited)
            return LEAVE
        chained = chained_call(call, site.names, lambda func: holders.held_call(site.project, site.fid, func))
        if chained is not None:  # `db.connection().execute(...)`: awaited with the Session's call under it
            return CallAction(CallKind.AWAIT, add_await=not call.awaited) if chained_awaited(call, *chained) else LEAVE
        held = holders.held_call(site.project, site.fid, call.func)
        if held is not None and not call.nested:
            if held in site.stack.session_methods and runs_sync(call):
                # `self.db.get_or_404(...)`: a method of the Session class behind the held AsyncSession
                return CallAction(CallKind.RUN_SYNC, add_await=not call.awaited)
            return _method(held, call)
        if call.receiver in site.names and call.method is not None:
            if call.method == "query":
                return LEAVE  # part of a legacy chain, rewritten whole at its outermost call
            if (call.method in UNAVAILABLE_METHODS or call.method in site.stack.session_methods) and runs_sync(call):
                return CallAction(CallKind.RUN_SYNC, add_await=not call.awaited)
            return _method(call.method, call)
        return None

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        if action.kind is CallKind.BEGIN and in_with:
            return call  # `async with session.begin():` enters it
        if action.kind is CallKind.RUN_SYNC:
            call = _through_run_sync(call)
        return awaited(call) if action.add_await else call

    def async_with(self, action: CallAction) -> bool:
        return action.kind is CallKind.BEGIN


def _method(method: str, call: facts.Call) -> CallAction | Leave:
    if method in AWAITED_METHODS:
        return CallAction(CallKind.AWAIT, add_await=not call.awaited)
    if method in CONTEXT_METHODS:
        return CallAction(CallKind.BEGIN, add_await=not call.awaited)
    return LEAVE


def _through_run_sync(call: cst.Call) -> cst.Call:
    """`db.bulk_save_objects(rows)` -> `db.run_sync(lambda sync_session: sync_session.bulk_save_objects(rows))`.

    The arguments stay in the lambda, evaluated when it runs, right away on the same request."""
    func = call.func
    assert isinstance(func, cst.Attribute)
    used = {node.value for node in _names(call)}
    name = "sync_session"
    counter = 2
    while name in used:
        name, counter = f"sync_session_{counter}", counter + 1
    inner = call.with_changes(func=func.with_changes(value=cst.Name(name)), lpar=(), rpar=())
    lambda_ = cst.Lambda(params=cst.Parameters(params=[cst.Param(name=cst.Name(name))]), body=inner)
    return cst.Call(
        func=func.with_changes(attr=cst.Name("run_sync")), args=[cst.Arg(value=lambda_)],
        lpar=call.lpar, rpar=call.rpar,
    )


def _names(node: cst.CSTNode) -> list[cst.Name]:
    found: list[cst.Name] = []

    class _Collect(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.append(name)

    node.visit(_Collect())
    return found
