"""Finding a collected definition again in a tree, by key rather than by position."""

from __future__ import annotations

from typing import Any

import libcst as cst
from libcst.codemod import Codemod

from async_migrate.codemods.facts import DefinitionKeys
from async_migrate.codemods.imports import ImportingCommand, WithoutMetadataCopy

# The statements the collector looks through for module- and class-level definitions.
_DESCEND = (
    cst.Module, cst.IndentedBlock, cst.ClassDef, cst.If, cst.Else, cst.Try, cst.TryStar,
    cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.With, cst.For, cst.While,
)


_GATHERED: dict[type, tuple[Any, Any, dict[Any, Any]]] = {}


class DefinitionCommand(WithoutMetadataCopy, ImportingCommand):
    """A codemod that rewrites chosen module- and class-level functions, named by key.

    Subclasses implement `rewrite_definition`; function bodies are never walked
    by this command itself, so a rewrite touches only what it is asked to. It reads
    no metadata, and the tree was parsed for this rewrite alone: it is not copied.
    """

    def __init__(self, context, keys) -> None:
        # libcst's matcher support inspects every method's type hints for each new
        # instance, in the constructor and again on the first visit (about 10 ms each).
        # One instance runs per file, so the inspection is done once per class.
        gathered = _GATHERED.get(type(self))
        if gathered is None:
            super().__init__(context)
            gathered = (self._extra_visit_funcs, self._extra_leave_funcs, dict(self._matchers))
            _GATHERED[type(self)] = gathered
        else:
            Codemod.__init__(self, context)
            cst.CSTTransformer.__init__(self)
        self._extra_visit_funcs, self._extra_leave_funcs = gathered[0], gathered[1]
        self._matchers = dict(gathered[2])  # visiting replaces it, never mutates the cached one
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

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode):
        if isinstance(original, cst.ClassDef):
            self._classes.pop()
        elif isinstance(original, cst.FunctionDef) and isinstance(updated, cst.FunctionDef):
            if id(original) in self._entered:
                del self._classes[-2:]
            key = self._numbering.next(".".join([*self._classes, original.name.value]))
            if key in self.keys:
                return self.rewrite_definition(key, updated)
        return updated

    def rewrite_definition(
        self, key: str, node: cst.FunctionDef
    ) -> cst.FunctionDef | cst.FlattenSentinel[cst.FunctionDef]:
        raise NotImplementedError
