"""Phase one's rewrite of one file: the codemods, in order, under one context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from async_migrate.codemods import facts

if TYPE_CHECKING:
    import libcst as cst


@dataclass(slots=True)
class Plan:
    convert: frozenset[str] = frozenset()  # definition keys to make `def`
    offload: dict[str, list[int]] = field(default_factory=dict)  # key -> call indices to offload
    threadpool_name: str | None = None  # a local name already bound to run_in_threadpool


def apply(module: cst.Module, module_facts: facts.Module, plan: Plan) -> cst.Module:
    # libcst's codemod machinery is imported here, in the worker that rewrites: a warm run
    # whose rewrites all come from the cache, and the plans made in the parent, never need it.
    from libcst.codemod import CodemodContext

    from async_migrate.codemods.phase1.make_sync import MakeHandlersSync
    from async_migrate.codemods.phase1.offload import OffloadBlockingCalls

    if plan.offload:
        context = CodemodContext(filename=module_facts.path, full_module_name=module_facts.name)
        module = OffloadBlockingCalls(context, plan.offload, plan.threadpool_name).transform_module(module)
    if plan.convert:
        context = CodemodContext(filename=module_facts.path, full_module_name=module_facts.name)
        module = MakeHandlersSync(context, plan.convert).transform_module(module)
    return module
