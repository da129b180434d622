"""Phase one on an `async def` handler already on an AsyncSession (AM135): how it gets one, said
instead of "does no synchronous Session work" (AM105), and the synchronous Session code it still
reaches, which `check` reports (AM302), and the dependencies still on the synchronous Session (AM319)."""

from __future__ import annotations

from async_migrate.codemods.project import Handler, Project
from async_migrate.codemods.rules.am135_on_async_session import RULE as AM135
from async_migrate.codemods.rules.base import Reason

ON_ASYNC = AM135.code


def on_async_session(project: Project, handler: Handler) -> Reason | None:
    """AM135 for a handler without synchronous Session work that works on an AsyncSession."""
    how = async_session_of(project, handler)
    if how is None:
        return None
    return AM135.reason(f"already uses an AsyncSession ({how}){still_wrong(project, handler)}")


def still_wrong(project: Project, handler: Handler) -> str:
    """What a handler already on an AsyncSession still gets wrong, as a clause to its reason
    (`; but ...`), or "": synchronous Session code it reaches (AM302), queries through its
    `sync_session` outside `run_sync`, lazy loads and expired reads (AM314), AsyncSession calls left
    unawaited (AM311). Neither phase fixes them: said, not
    hidden."""
    from async_migrate.codemods.async_expired import expired_reads
    from async_migrate.codemods.check import (
        async_lazy_loads,
        async_session_handoffs,
        async_session_params,
        sync_helper_calls,
        sync_session_off_greenlet,
    )
    from async_migrate.codemods.phase1.two_sessions import describe, two_sessions
    from async_migrate.codemods.unawaited_session import unawaited_session_calls

    mixed = sorted(
        [*sync_helper_calls(project, handler), *async_session_handoffs(project, handler)],
        key=lambda b: (b.line, b.call),
    )
    off_greenlet = sync_session_off_greenlet(project, handler)
    but = (
        f"; but it reaches synchronous Session code at line {mixed[0].line} ({mixed[0].call}), "
        "which `check` reports (AM302)" if mixed else ""
    )
    if off_greenlet:
        first, name = off_greenlet[0]
        but += (
            f"; but it queries through `{name}.sync_session` outside `run_sync` at line {first.line} ({first.call}), "
            "which raises MissingGreenlet and `check` reports (AM314)"
        )
    doubled = two_sessions(project, handler)
    if doubled:
        but += f"; but {describe(project, handler, doubled)} (`check`: AM319; phase two moves the dependency: AM298)"
    elif handler.function.is_async:
        from async_migrate.codemods.unresolved_dependencies import unresolved_dependencies

        unresolved = unresolved_dependencies(project, handler)
        if unresolved:
            but += (
                f"; but its dependency `{unresolved[0]}` cannot be resolved to a project function or class, so "
                "whether it receives the synchronous Session is unverified (`check`: AM304)"
            )
    lazy = async_lazy_loads(project, handler)
    if lazy:
        but += (
            f"; but it reads a relationship nothing eager-loads at line {lazy[0].line} ({lazy[0].call}), which "
            "raises MissingGreenlet and `check` reports (AM314)"
        )
    expired = (
        expired_reads(project, handler.id, list(async_session_params(project, handler)))
        if handler.function.is_async and handler.kind in ("route", "dependency") else []
    )
    if expired:
        but += (
            f"; but it reads an expired attribute at line {expired[0].line} ({expired[0].call}), which raises "
            "MissingGreenlet and `check` reports (AM314)"
        )
    unawaited = unawaited_session_calls(project, handler.id)
    if unawaited:
        but += (
            f"; but it calls an AsyncSession coroutine method without `await` at {unawaited[0][1]}, so nothing in it "
            "runs, which `check` reports (AM311)"
        )
    return but


def async_session_of(project: Project, handler: Handler) -> str | None:
    """How an `async def` handler works on an AsyncSession, as a reason says it: a parameter
    (`session: AsyncSessionDep`), a dependency in its tree, or one it opens (`async with
    async_session() as s`, `AsyncSession(engine)`); None when it has none."""
    from async_migrate.codemods.phase2.dependencies import dependency_tree

    function = handler.function
    for param in function.params:
        if project.declared_async_session(param) is not None:
            return f"`{param.name}: {param.text}`" if param.text else f"`{param.name}`"
    for binding in function.bindings:
        if not binding.asynchronous or not binding.expr.endswith("()"):
            continue
        ref = binding.expr[:-2]
        if project.is_async_session_type(ref):
            return f"opened as `{binding.name}` at line {binding.line}"
        target = project.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        if value is not None and project.makes_async_sessions(value):
            return f"opened as `{binding.name}` at line {binding.line}"
    for fid in dependency_tree(project, handler):
        if project.declared_async_session_params(fid):
            module, dependency = project.functions[fid]
            return f"through its dependency {module.name}.{dependency.qualname}"
    return None
