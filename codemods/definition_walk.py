"""Finding a collected definition again in a tree, by key rather than by position.

The walk alone, on libcst's plain transformer: a rewrite that adds no import (phase one's
`MakeHandlersSync`) runs without libcst's codemod machinery, whose import costs more than
parsing a file. `codemods/definitions.py` puts the same walk under a codemod.
"""

from __future__ import annotations

import libcst as cst

from async_migrate.codemods.facts import DefinitionKeys

# The statements the collector looks through for module- and class-level definitions.
_DESCEND = (
    cst.Module, cst.IndentedBlock, cst.ClassDef, cst.If, cst.Else, cst.Try, cst.TryStar,
    cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.With, cst.For, cst.While,
)


class DefinitionWalk(cst.CSTTransformer):
    """Rewrites chosen module- and class-level functions, named by key.

    Subclasses call `_walk_keys(keys)` when constructed and implement `rewrite_definition`;
    function bodies are never walked by this class itself, so a rewrite touches only what
    it is asked to.
    """

    def _walk_keys(self, keys) -> None:
        self.keys = set(keys)
        self._numbering = DefinitionKeys()
        self._classes: list[str] = []
        self._entered: set[int] = set()  # functions descended into for their nested definitions

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef):
            # Definitions inside a function (routes of a router factory) have keys
            # `factory.<locals>.name`: descend only when one of them is wanted.
            prefix = ".".join([*self._classes, node.name.value, "<locals>."])
            if any(key.startswith(prefix) for key in self.keys):
                self._classes.extend([node.name.value, "<locals>"])
                self._entered.add(id(node))
                return True
            return False
        if isinstance(node, cst.ClassDef):
            self._classes.append(node.name.value)
        return isinstance(node, _DESCEND)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):
        if isinstance(original_node, cst.ClassDef):
            self._classes.pop()
        elif isinstance(original_node, cst.FunctionDef) and isinstance(updated_node, cst.FunctionDef):
            if id(original_node) in self._entered:
                del self._classes[-2:]
            key = self._numbering.next(".".join([*self._classes, original_node.name.value]))
            if key in self.keys:
                return self.rewrite_definition(key, updated_node)
        return updated_node

    def rewrite_definition(
        self, key: str, node: cst.FunctionDef
    ) -> cst.FunctionDef | cst.FlattenSentinel[cst.FunctionDef]:
        raise NotImplementedError
