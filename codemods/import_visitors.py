"""libcst's import codemods, walking only where imports can be.

A codemod that schedules imports (`AddImportsVisitor.add_needed_import`,
`RemoveImportsVisitor.remove_unused_import`) has libcst run those two transformers
after it (`CodemodCommand.transform_module`). Each visits every node of the module
through libcst's matcher machinery, and AddImportsVisitor first walks the whole
module once more to find the imports at its top: on a small service the two cost
several times the rewrite itself. What they act on is narrower, so the subclasses
here prune their walks and build the same tree:

- AddImportsVisitor edits only the import statements at the top of the module and
  the module's body; its gatherer reads only the first statement and the imports
  that follow it (`_GatherTopImportsBeforeStatements.leave_Module`). No metadata,
  so the tree is not copied for it either.
- RemoveImportsVisitor edits `import` and `from ... import` statements, which are
  statements: neither it nor the walk of GatherUnusedImportsVisitor that collects
  the candidates needs to enter an expression. Whether an import is still used is
  decided by libcst's own analysis over the whole module, as before (the scope
  metadata, `__all__` and string annotations).

A pruned node is still left (`on_leave`), only its children are not visited;
libcst 1.x (`CSTNode.visit`).
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import libcst as cst
from libcst.codemod import Codemod
from libcst.codemod.visitors import AddImportsVisitor, GatherUnusedImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper

# The nodes a statement can sit in (or be): everything else is an expression or layout.
_STATEMENT_LEVEL = (
    cst.Module, cst.BaseSuite, cst.BaseStatement, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler,
    cst.Finally, cst.MatchCase,
)


class WithoutMetadataCopy(Codemod):
    """For a codemod that reads no metadata: libcst deep-copies the tree before it
    computes metadata, which costs about a parse; with none to compute the copy is
    skipped (the tree is not changed in place either way)."""

    @contextmanager
    def _handle_metadata_reference(self, module: cst.Module) -> Generator[cst.Module, None, None]:
        previous = self.context.wrapper
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        with self.resolve(wrapper):
            self.context = replace(self.context, wrapper=wrapper)
            try:
                yield wrapper.module
            finally:
                self.context = replace(self.context, wrapper=previous)


def _top_imports(module: cst.Module) -> cst.Module:
    """The module cut after the imports that follow its first statement: all the gatherer reads."""
    end = 1
    while end < len(module.body) and _is_import_line(module.body[end]):
        end += 1
    return module.with_changes(body=module.body[:end])


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )


class TopLevelAddImports(WithoutMetadataCopy, AddImportsVisitor):
    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(_top_imports(node))

    def on_visit(self, node: cst.CSTNode) -> bool:
        return super().on_visit(node) and isinstance(node, (cst.Module, cst.SimpleStatementLine))


class _StatementsGatherUnusedImports(GatherUnusedImportsVisitor):
    def on_visit(self, node: cst.CSTNode) -> bool:
        return super().on_visit(node) and isinstance(node, _STATEMENT_LEVEL)


class StatementsRemoveImports(RemoveImportsVisitor):
    def visit_Module(self, node: cst.Module) -> None:
        # RemoveImportsVisitor.visit_Module, with the pruned gatherer.
        visitor = _StatementsGatherUnusedImports(self.context)
        node.visit(visitor)
        self._unused_imports = dict(visitor.unused_imports)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return super().on_visit(node) and isinstance(node, _STATEMENT_LEVEL)


_PRUNED: dict[type, type] = {
    AddImportsVisitor: TopLevelAddImports,
    RemoveImportsVisitor: StatementsRemoveImports,
}


class PrunedImportVisitors(Codemod):
    """For a `CodemodCommand`: the import transformers it runs afterwards are the pruned ones."""

    def _instantiate_and_run(self, transform: Any, tree: cst.Module) -> cst.Module:
        return _PRUNED.get(transform, transform)(self.context).transform_module(tree)
