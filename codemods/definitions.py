"""Finding a collected definition again in a tree, by key rather than by position."""

from __future__ import annotations

from typing import Any

import libcst as cst
from libcst.codemod import Codemod

from async_migrate.codemods.definition_walk import DefinitionWalk
from async_migrate.codemods.imports import ImportingCommand, WithoutMetadataCopy

_GATHERED: dict[type, tuple[Any, Any, dict[Any, Any]]] = {}


class DefinitionCommand(DefinitionWalk, WithoutMetadataCopy, ImportingCommand):
    """A codemod that rewrites chosen module- and class-level functions, named by key
    (`DefinitionWalk`), and may add or drop imports (`codemods/imports.py`).

    Subclasses implement `rewrite_definition`. It reads no metadata, and the tree was
    parsed for this rewrite alone: it is not copied.
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
        self._walk_keys(keys)
