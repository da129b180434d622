"""Line numbers for a chosen set of nodes, computed in one print of the module.

libcst's PositionProvider records a range for every node of the tree, which costs
several times the parse itself. The pre-pass only needs the line of a few nodes
per function (the `def`, calls, awaits), so it prints the module once and counts
newlines lazily, only when it reaches one of the nodes it was asked about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState


@dataclass(frozen=False)
class _LineCountingState(CodegenState):
    wanted: set[int] = field(default_factory=set)
    found: dict[int, int] = field(default_factory=dict)
    newline: str = "\n"
    line: int = 1
    counted: int = 0

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted:
            tokens = self.tokens
            if self.counted < len(tokens):
                self.line += "".join(tokens[self.counted :]).count(self.newline)
                self.counted = len(tokens)
            self.found[key] = self.line


def line_numbers(module: cst.Module, nodes: set[int]) -> dict[int, int]:
    """Map `id(node)` to the 1-based line where the node's own text starts."""
    if not nodes:
        return {}
    newline = "\r" if module.default_newline == "\r" else "\n"
    state = _LineCountingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        wanted=nodes,
        newline=newline,
    )
    module._codegen(state)
    return state.found
