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
    from async_migrate.codemods.phase1.make_sync import MakeHandlersSync

    if plan.offload:
        # libcst's codemod machinery (to add the import) is imported only here: it costs more
        # than parsing a file, and a file whose handlers only lose `async` never needs it.
        from libcst.codemod import CodemodContext

        from async_migrate.codemods.phase1.offload import OffloadBlockingCalls

        context = CodemodContext(filename=module_facts.path, full_module_name=module_facts.name)
        module = OffloadBlockingCalls(context, plan.offload, plan.threadpool_name).transform_module(module)
    if plan.convert:
        module = MakeHandlersSync(None, plan.convert).transform_module(module)
    return module
