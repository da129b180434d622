"""Line numbers for a chosen set of nodes, computed in one print of the module.

libcst's PositionProvider records a range for every node of the tree, which costs
several times the parse itself. The pre-pass only needs the line of a few nodes
per function (the `def`, calls, awaits), so it prints the module once and counts
newlines lazily, only when it reaches one of the nodes it was asked about.
"""

from __future__ import annotations

import re
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


def definition_line(text: str, qualname: str, key: str) -> int:
    """The `def` line of a definition in a module whose lines were not computed, or 0.

    A fallback for the rare handler defined in a module the pre-pass judged
    line-free (a dependency in a plain helper module): the n-th `def name` at
    the indentation a module- or class-level definition has.
    """
    name = qualname.rsplit(".", 1)[-1]
    nested = "." in qualname
    occurrence = int(key.rsplit("#", 1)[1]) if "#" in key else 1
    pattern = re.compile(rf"^([ \t]*)(?:async[ \t]+)?def[ \t]+{re.escape(name)}\b", re.MULTILINE)
    seen = 0
    for match in pattern.finditer(text):
        if bool(match.group(1)) != nested:
            continue
        seen += 1
        if seen == occurrence:
            return text.count("\n", 0, match.start()) + 1
    return 0
