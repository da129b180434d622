"""Finding a collected definition again in a tree, by key rather than by position."""

from __future__ import annotations

import libcst as cst
from libcst.codemod import VisitorBasedCodemodCommand

from codemods.collect import DefinitionKeys

# The statements the collector looks through for module- and class-level definitions.
_DESCEND = (
    cst.Module, cst.IndentedBlock, cst.ClassDef, cst.If, cst.Else, cst.Try, cst.TryStar,
    cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.With, cst.For, cst.While,
)


class DefinitionCommand(VisitorBasedCodemodCommand):
    """A codemod that rewrites chosen module- and class-level functions, named by key.

    Subclasses implement `rewrite_definition`; function bodies are never walked
    by this command itself, so a rewrite touches only what it is asked to.
    """

    def __init__(self, context, keys) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)
        self.keys = set(keys)
        self._numbering = DefinitionKeys()
        self._classes: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef):
            return False
        if isinstance(node, cst.ClassDef):
            self._classes.append(node.name.value)
        return isinstance(node, _DESCEND)

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode):  # type: ignore[no-untyped-def]
        if isinstance(original, cst.ClassDef):
            self._classes.pop()
        elif isinstance(original, cst.FunctionDef) and isinstance(updated, cst.FunctionDef):
            key = self._numbering.next(".".join([*self._classes, original.name.value]))
            if key in self.keys:
                return self.rewrite_definition(key, updated)
        return updated

    def rewrite_definition(self, key: str, node: cst.FunctionDef) -> cst.FunctionDef:
        raise NotImplementedError
