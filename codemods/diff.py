"""Unified diffs that `git apply` accepts, byte-exact for any encoding and line ending."""

from __future__ import annotations

import difflib
import io
import re
import tokenize

NO_NEWLINE = "\\ No newline at end of file\n"


def as_text(data: bytes) -> str:
    """Bytes as text that encodes back to the same bytes (`surrogateescape`)."""
    return data.decode("utf-8", errors="surrogateescape")


def as_bytes(text: str) -> bytes:
    """A diff's exact bytes (what `--diff-file` writes): bytes that were not UTF-8 were kept in
    the text as surrogates and come back as they were."""
    return text.encode("utf-8", errors="surrogateescape")


def readable(diff: str, before: bytes) -> str:
    """A file's diff as text to read (the JSON `diff`): its lines decoded with the file's own
    encoding (the coding cookie or BOM Python reads it by, so a latin-1 file's 'ü' is 'ü'), the
    header lines before the first hunk, which hold paths, as UTF-8; a byte the encoding cannot
    decode becomes U+FFFD. Strict Unicode (no lone surrogate), and the same text as the exact
    patch wherever the file is UTF-8."""
    exact = as_bytes(diff)
    try:
        return exact.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(before).readline)
    except SyntaxError:
        encoding = "utf-8"
    if encoding == "utf-8-sig":  # a BOM inside a hunk line is a character, not a mark to drop
        encoding = "utf-8"
    parts = []
    header = True
    for line in re.findall(rb"[^\n]*\n|[^\n]+\Z", exact):
        header = header and not line.startswith(b"@@")
        parts.append(line.decode("utf-8" if header else encoding, errors="replace"))
    return "".join(parts)


def unified_diff(path: str, before: bytes, after: bytes, context: int = 3) -> str:
    """A file's change as `git apply` takes it (`diff --git a/path b/path`, `---`/`+++` headers,
    hunks, `\\ No newline at end of file` where one side lacks it); "" when nothing changed."""
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


_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@", re.M)


def moves_lines(diff: str) -> bool:
    """Whether a file's diff adds or removes lines (a hunk whose old and new lengths differ):
    then a line number read before the rewrite no longer points at the same line after it."""
    return any((old or "1") != (new or "1") for old, new in _HUNK.findall(diff))


def _lines(text: str) -> list[str]:
    # git splits at "\n" only; str.splitlines would also split at form feeds,
    # lone carriage returns and Unicode separators, and the patch would not apply.
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)
