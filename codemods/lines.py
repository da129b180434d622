"""Line numbers for a chosen set of nodes, computed in one print of the module.

libcst's PositionProvider records a range for every node of the tree, which costs
several times the parse itself. The pre-pass only needs the line of a few nodes
per function (the `def`, calls, awaits), so it prints the module once and counts
newlines lazily, only when it reaches one of the nodes it was asked about. The same
print records where each top-level statement's text lies, so a rewrite can reprint
only the statements it changed (`codemods.splice`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

_NO_POSITIONS = contextlib.nullcontext()


@dataclass(frozen=False)
class _LineCountingState(CodegenState):
    wanted: set[int] = field(default_factory=set)
    found: dict[int, int] = field(default_factory=dict)
    statements: set[int] = field(default_factory=set)  # top-level statements and footer lines
    starts: dict[int, int] = field(default_factory=dict)
    newline: str = "\n"
    line: int = 1
    offset: int = 0  # characters printed up to `counted`
    counted: int = 0

    def _catch_up(self) -> None:
        tokens = self.tokens
        if self.counted < len(tokens):
            printed = "".join(tokens[self.counted :])
            self.line += printed.count(self.newline)
            self.offset += len(printed)
            self.counted = len(tokens)

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted:
            self._catch_up()
            self.found[key] = self.line
        if key in self.statements:
            self._catch_up()
            self.starts[key] = self.offset

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        # libcst's version is a generator-based context manager entered for most
        # expressions: positions are not wanted here, and a shared no-op costs nothing.
        return _NO_POSITIONS


@dataclass(slots=True)
class Layout:
    """What one print of a module tells: the lines asked for, and where each top-level
    statement's text starts and ends (offsets into the module's text)."""

    lines: dict[int, int]
    statements: list[tuple[int, int]]


def layout(module: cst.Module, nodes: set[int]) -> Layout:
    """One print of the module: for each `id(node)` asked for, the 1-based line where the
    node's own text starts; for each top-level statement, its span in the module's text."""
    newline = "\r" if module.default_newline == "\r" else "\n"
    # A statement ends where the next one, or the footer, starts.
    bounds = [*module.body, *module.footer[:1]]
    state = _LineCountingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        wanted=nodes,
        statements={id(node) for node in bounds},
        newline=newline,
    )
    module._codegen(state)
    state._catch_up()
    starts = [state.starts[id(node)] for node in bounds]
    if not module.footer:
        starts.append(state.offset)
    return Layout(state.found, list(zip(starts, starts[1:])))
