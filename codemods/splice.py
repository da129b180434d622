"""Print a rewritten module by reprinting only the top-level statements that changed.

A rewrite touches a few definitions of a module; printing the whole tree again
costs as much as the parse. The transformers here return the very same node for
every statement they leave alone, and the pre-pass's one print of the module
recorded where each top-level statement's text lies (`codemods.lines.Layout`),
so the new text is the original text with only the changed statements printed
anew. Whenever the two trees do not line up statement for statement (a statement
added or removed, a changed header or footer), the caller prints the whole module.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from async_migrate.codemods.lines import Layout


def spliced(original: cst.Module, rewritten: cst.Module, text: str, layout: Layout) -> str | None:
    """The text of `rewritten`, or None when only a full print can give it."""
    if rewritten is original:
        return text
    body, before = rewritten.body, original.body
    if (
        len(body) != len(before)
        or len(layout.statements) != len(before)
        or not _same(rewritten.header, original.header)
        or not _same(rewritten.footer, original.footer)
        or rewritten.default_newline != original.default_newline
        or rewritten.default_indent != original.default_indent
        or rewritten.has_trailing_newline != original.has_trailing_newline
        or rewritten.encoding != original.encoding
    ):
        return None
    if body and body[-1] is not before[-1] and not original.has_trailing_newline:
        return None  # the module's print drops the last newline, a statement's print does not
    pieces: list[str] = []
    position = 0
    for new, old, (start, end) in zip(body, before, layout.statements):
        if new is old:
            continue
        pieces.append(text[position:start])
        pieces.append(rewritten.code_for_node(new))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _same(new: Sequence[cst.CSTNode], old: Sequence[cst.CSTNode]) -> bool:
    return len(new) == len(old) and all(a is b for a, b in zip(new, old))
