"""Calls of migrated project functions: awaited, under the twin's name when the function gets
an async twin; offloaded ones (`await run_in_threadpool(helper, s)`, `to_thread`, `run_sync`,
`run_in_executor(None, ...)`, a `functools.partial` handed to one, a parameterless lambda whose
whole body is the call) called straight; a `@contextmanager` opener's `with` entering its
`@asynccontextmanager` twin (phase2/scope_openers.py). The imports of the offloader and of
`partial` go where nothing else in the module reads them.

Before::

    summary = review_helper.get_review_summary(session, book_id)
    total = await run_in_threadpool(count_reviews, session)
    item = await loop.run_in_executor(None, functools.partial(repo.get, item_id))
    await run_in_threadpool(lambda: repo.delete(item))
    with session_scope() as s:

After::

    summary = await review_helper.get_review_summary_async(session, book_id)
    total = await count_reviews(session)
    item = await repo.get(item_id)
    await repo.delete(item)
    async with session_scope_async() as s:
"""

from __future__ import annotations

import libcst as cst

from async_migrate.codemods import facts, session_work
from async_migrate.codemods.phase2 import scheduled, scope_openers, unit_of_work
from async_migrate.codemods.phase2.rewrites.base import (
    LEAVE,
    CallAction,
    CallKind,
    CallRewrite,
    FunctionSite,
    Leave,
    awaited,
    re_export_chain,
    renamed,
)
from async_migrate.codemods.vocabulary.fastapi import THREADPOOL
from async_migrate.codemods.vocabulary.python import PARTIALS


class ProjectCalls(CallRewrite):
    kinds = (CallKind.HELPER, CallKind.UNWRAP, CallKind.UNWRAP_LAMBDA, CallKind.ENTER)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        edge = site.edges.get(call.index)
        if edge is None:
            return None
        if site.project.functions[edge.callee][1].name == "__init__" or session_work.builds_only(
            site.project, edge.callee
        ):
            return LEAVE  # building an object (`Repo(db)`, `Repo.from_session(db)`): never awaited
        if edge.callee not in site.migrated:
            return None
        callee_module, callee = site.project.functions[edge.callee]
        rename = site.twins.get(edge.callee)
        if unit_of_work.super_context_call(site.project, edge):
            rename = unit_of_work.ASYNC_NAMES[callee.name]  # `await super().__aenter__()`
        if unit_of_work.built_entry(site.project, edge):
            # `with UnitOfWork() as uow:` -> `async with UnitOfWork() as uow:`, its class moving
            action = CallAction(CallKind.ENTER, None, add_await=False)
        elif edge.callee in site.project.opener_twins and call.index in site.project.entered_openers(site.fid):
            # `with session_scope() as s:` -> `async with session_scope_async() as s:`
            action = CallAction(CallKind.ENTER, rename, add_await=False)
        elif edge.callee in site.project.handed_twins and call.index in site.function.entered_alone:
            # `with transaction(db):` -> `async with transaction_async(db):`
            action = CallAction(CallKind.ENTER, rename, add_await=False)
        elif call.offloaded:
            # `await run_in_threadpool(helper, s)`: the outer call becomes `helper(s)`;
            # the helper itself is the run_in_threadpool call's first argument (run_in_executor's
            # second). `await run_in_threadpool(lambda: helper(s))`: the outer call becomes the
            # lambda's body; the closure blocks every other shape (`Call.unwrap`).
            outer = call.index if call.offloaded_by is None else call.offloaded_by
            if call.offloaded_by is None:
                action = CallAction(CallKind.UNWRAP, rename, add_await=False)
            else:
                action = CallAction(CallKind.UNWRAP_LAMBDA, rename, add_await=False, at=outer)
            # The wrapper (`asyncio.to_thread`, the call of the same index) and the `partial` the
            # helper was bound in: their imports may go too (dropped only where nothing reads them).
            wrappers = {c.callee for c in site.function.calls if c.index == outer and not c.offloaded and c.callee}
            for ref in sorted({*THREADPOOL, *PARTIALS, *wrappers}):
                site.unused(ref)
        else:
            # A coroutine function stays one: its call was already awaited, handed to
            # `gather`/`create_task`, or kept as a coroutine to await later, as written.
            handed_on = callee.is_async or scheduled.scheduler(site.project, site.function, call) is not None
            # `stage(db, note)` doing only `db.add(note)` stays a plain `def` (its twin too): not awaited
            plain = session_work.no_io_only(site.project, edge.callee)
            action = CallAction(CallKind.HELPER, rename, add_await=not call.awaited and not handed_on and not plain)
        if rename is not None and callee.qualname == callee.name:  # a method needs no import
            # The twin is exported as the original is: `from .users import *` in the package
            # that `crud.get_user_async(db)` reads through follows the module's `__all__`.
            # an opener wrapped as `session_scope = contextmanager(_scope)` is entered by the wrapper's name
            entered = scope_openers.entered_name(site.project, edge.callee)
            site.file_of(callee_module.path).exports.add((entered, rename))
            local = site.imported_as(callee_module.name, entered)
            if local is not None:
                site.file.imports.add((callee_module.name, rename))
                site.unused(f"{callee_module.name}.{entered}")
            else:
                _re_exported(site, call, callee_module.name, entered, rename)
                via, _, written = (call.callee or "").rpartition(".")
                if via and call.func is None and written not in site.module.imports:
                    action.local_import = (_spellings(site.module, via), written)
        return action

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        if action.kind is CallKind.UNWRAP or action.kind is CallKind.UNWRAP_LAMBDA:
            # the helper is the first argument (`run_in_executor`'s second, after the executor), or
            # given as `func=helper` among the keywords
            positional = [a for a in call.args if a.keyword is None]
            executor = isinstance(call.func, cst.Attribute) and call.func.attr.value == "run_in_executor"
            given = next((a for a in call.args if a.keyword is not None and a.keyword.value == "func"), None)
            helper = given if given is not None else positional[1 if executor else 0]
            if action.kind is CallKind.UNWRAP_LAMBDA:
                assert isinstance(helper.value, cst.Lambda) and isinstance(helper.value.body, cst.Call)
                body = helper.value.body
                return body.with_changes(func=renamed(body.func, action.rename), lpar=call.lpar, rpar=call.rpar)
            after = call.args[call.args.index(helper) + 1:] if given is None else [a for a in call.args if a is not given]
            function, args = helper.value, _without_trailing_comma(list(after))
            if isinstance(function, cst.Call):
                # `partial(helper, a, k=1)` (the only call the collector takes as the function run):
                # `helper(a, ..., k=1, ...)`, its bound arguments before those handed on
                bound = list(function.args[1:])
                function = function.args[0].value
                args = [a for a in bound if a.keyword is None] + [a for a in after if a.keyword is None]
                args += [a for a in bound if a.keyword is not None] + [a for a in after if a.keyword is not None]
                args = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args]
            unwrapped = cst.Call(func=renamed(function, action.rename), args=args)
            return unwrapped.with_changes(lpar=call.lpar, rpar=call.rpar)
        if action.rename is not None:
            call = call.with_changes(func=renamed(call.func, action.rename))
        return awaited(call) if action.add_await else call

    def async_with(self, action: CallAction) -> bool:
        return action.kind is CallKind.ENTER


def _spellings(module: facts.Module, target: str) -> tuple[str, ...]:
    """How an import in `module` may name module `target`: absolutely, or relatively (`.crud`,
    `..crud`, `.` for its own package)."""
    found = [target]
    package = module.name.split(".")
    if not module.path.endswith("__init__.py"):
        package = package[:-1]
    for level in range(1, len(package) + 1):
        base = ".".join(package[: len(package) - level + 1])
        if target == base:
            found.append("." * level)
        elif target.startswith(base + "."):
            found.append("." * level + target[len(base) + 1:])
    return tuple(found)


def _re_exported(site: FunctionSite, call: facts.Call, home: str, name: str, twin: str) -> None:
    """A call reaching the helper through a module that re-exports it (`crud.restock(db)` or
    `from app.crud import restock`, with `from app.crud.crud_item import restock` in
    `app/crud/__init__.py`, also under another name): each module on the way imports the twin
    beside the original, so the renamed call finds it there, and a caller importing the name
    imports the twin too."""
    via, _, written = (call.callee or "").rpartition(".")
    on_the_way = re_export_chain(site.project, via, written, home, name) if via and via != home else None
    if not on_the_way:
        return
    module, local = site.project.modules.get(via), written
    for path, source in on_the_way:
        site.file_of(path).imports.add((source, twin))
        if module is not None:
            # `__all__ = ["restock", ...]` there: the twin is exported beside it (star imports, F401)
            site.file_of(path).exports.add((local, twin))
            local = module.imports.get(local, "").rpartition(".")[2]
            module = site.project.modules.get(source)
    if site.imported_as(via, written) is not None:
        site.file.imports.add((via, twin))
        site.unused(f"{via}.{written}")


def _without_trailing_comma(args: list[cst.Arg]) -> list[cst.Arg]:
    if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
        args = [*args[:-1], args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    return args
