"""Phase one's rewrite of one file: the codemods, in order, under one context."""

from __future__ import annotations

import re
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
    # key -> module of the bare `AsyncIterator`-like name of a converted generator's return type
    retype: dict[str, str] = field(default_factory=dict)
    # key of a factory whose returned coroutine functions all become `def` -> the module's imports
    # of typing names (`phase1/factory_returns.py`)
    factories: dict[str, dict[str, str]] = field(default_factory=dict)

    def rewrite_text(self, text: str, module_facts: facts.Module) -> str | None:
        """`apply`'s output, made on the text, when all it does is drop `async` (MakeHandlersSync
        removes the keyword and the blanks after it, and libcst prints everything else as it
        was); None when the tree is needed: offloads, or a definition not written as plainly
        as `async def name` on its own line.

        Most changed files are only that: without a tree, libcst is neither imported nor run.
        """
        if self.offload or self.retype or self.factories or not self.convert or "\r" in text or "\x0c" in text:
            return None  # carriage returns and form feeds: line numbers and libcst's round trip differ
        functions = {function.key: function for function in module_facts.functions}
        lines = text.split("\n")
        edits: dict[int, str] = {}
        for key in self.convert:
            function = functions.get(key)
            if function is None or not function.is_async or not 0 < function.line <= len(lines):
                return None
            line = lines[function.line - 1]
            found = _ASYNC_DEF.match(line)
            if found is None or found.group("name") != function.name or function.line - 1 in edits:
                return None
            edits[function.line - 1] = line[: found.start("keyword")] + line[found.end("keyword") :]
        for number, edited in edits.items():
            lines[number] = edited
        return "\n".join(lines)


def apply(module: cst.Module, module_facts: facts.Module, plan: Plan) -> cst.Module:
    from async_migrate.codemods.phase1.make_sync import MakeHandlersSync

    if plan.offload:
        # libcst's codemod machinery (to add the import) is imported only here: it costs more
        # than parsing a file, and a file whose handlers only lose `async` never needs it.
        from async_migrate.codemods import imports
        from async_migrate.codemods.phase1.offload import OffloadBlockingCalls

        context = imports.context_for(module_facts.path, module_facts.name)
        module = OffloadBlockingCalls(context, plan.offload, plan.threadpool_name).transform_module(module)
    if plan.retype:
        from async_migrate.codemods import imports
        from async_migrate.codemods.phase1.sync_annotations import SyncReturnAnnotations

        context = imports.context_for(module_facts.path, module_facts.name)
        module = SyncReturnAnnotations(context, plan.retype).transform_module(module)
    if plan.factories:
        from async_migrate.codemods import imports
        from async_migrate.codemods.phase1.factory_annotations import FactoryReturnAnnotations

        context = imports.context_for(module_facts.path, module_facts.name)
        module = FactoryReturnAnnotations(context, plan.factories).transform_module(module)
    if plan.convert:
        module = MakeHandlersSync(None, plan.convert).transform_module(module)
    return module


# `async def name` after the indentation; `keyword` is what MakeHandlersSync drops.
_ASYNC_DEF = re.compile(r"[ \t]*(?P<keyword>async[ \t]+)def[ \t]+(?P<name>[^\W\d]\w*)")
