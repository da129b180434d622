"""A Session opened inline on the engine the async stack stands for: an AsyncSession on the
async engine (`phase2/inline_sessions.py` decides which ones move).

Before::

    with Session(engine) as session:
        ...
    with Session(bind=engine, expire_on_commit=False) as session:
        ...
    with AppSession(engine) as session:  # class AppSession(Session)
        ...

After::

    async with AsyncSession(async_engine) as session:
        ...
    async with AsyncSession(bind=async_engine, expire_on_commit=False) as session:
        ...
    async with AsyncSession(async_engine, sync_session_class=AppSession) as session:
        ...
"""

from __future__ import annotations

import libcst as cst

from async_migrate.codemods import facts
from async_migrate.codemods.phase2.rewrites.base import CallAction, CallKind, CallRewrite, FunctionSite, Leave


class EngineOpen(CallRewrite):
    kinds = (CallKind.OPEN_ON_ENGINE,)

    def plan(self, call: facts.Call, site: FunctionSite) -> CallAction | Leave | None:
        inline = site.inline.get(call.index)
        if inline is None:
            return None
        site.file.imports.add(inline.session_class)
        if inline.engine.module != site.module.name:
            site.file.imports.add((inline.engine.module, inline.engine.name))
        if call.callee is not None and not inline.subclass:
            site.unused(call.callee)
        for ref in site.module.imports.values():
            if site.project.canonical(ref) == inline.sync_engine:
                site.unused(ref)
        return CallAction(
            CallKind.OPEN_ON_ENGINE, inline.session_class[1], add_await=False, engine=inline.engine.name,
            sync_class=inline.subclass,
        )

    def edit(
        self, action: CallAction, call: cst.Call, *, in_with: bool, imports: set[tuple[str, str]]
    ) -> cst.BaseExpression:
        # Never awaited: entered with `async with`, as the `with` it was.
        args = list(call.args)
        for n, arg in enumerate(args):
            positional = arg.keyword is None and not arg.star
            if (positional and n == 0) or (arg.keyword is not None and arg.keyword.value == "bind"):
                args[n] = arg.with_changes(value=cst.Name(action.engine or "async_engine"))
                break
        if action.sync_class:
            # the subclass's overrides and listeners stay: the AsyncSession runs it
            if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
                args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            args.append(cst.Arg(value=call.func, keyword=cst.Name("sync_session_class"), equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))))
        return call.with_changes(func=cst.Name(action.rename or "AsyncSession"), args=args)

    def async_with(self, action: CallAction) -> bool:
        return True
