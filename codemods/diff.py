"""Unified diffs that `git apply` accepts, byte-exact for any encoding and line ending."""

from __future__ import annotations

import difflib
import re

NO_NEWLINE = "\\ No newline at end of file\n"


def as_text(data: bytes) -> str:
    """Bytes as text that encodes back to the same bytes (`surrogateescape`)."""
    return data.decode("utf-8", errors="surrogateescape")


def as_bytes(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def unified_diff(path: str, before: bytes, after: bytes, context: int = 3) -> str:
    if before == after:
        return ""
    old = _lines(as_text(before))
    new = _lines(as_text(after))
    lines = []
    for line in difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=context):
        if line.startswith(("---", "+++")):
            line = line.rstrip("\n") + "\n"
        lines.append(line)
        if not line.endswith("\n"):
            lines.append("\n" + NO_NEWLINE)
    return f"diff --git a/{path} b/{path}\n" + "".join(lines)


def _lines(text: str) -> list[str]:
    # git splits at "\n" only; str.splitlines would also split at form feeds,
    # lone carriage returns and Unicode separators, and the patch would not apply.
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)
