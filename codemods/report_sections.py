"""One Markdown report file, written by several commands: each owns a marked section.

`scan`, `phase1`, `phase2` (one section per subsystem), `verify` and `smoke` may all write
`--report MIGRATION.md`. A command replaces its own section where it is and adds it when
it is new, so a rerun replaces what it wrote before and the other commands' text stays.
The markers are HTML comments: a pull request description shows none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# verify's and smoke's sections go under this heading, which stays last.
VERIFICATION = "## Verification"


def begin(block: str) -> str:
    """The marker opening block's section: `<!-- async-migrate:phase1 -->`."""
    return f"<!-- async-migrate:{block} -->"


def end(block: str) -> str:
    """The marker closing block's section: `<!-- /async-migrate:phase1 -->`."""
    return f"<!-- /async-migrate:{block} -->"


def marked(block: str, body: str) -> str:
    """body between block's markers, one line each, ending in a newline."""
    return f"{begin(block)}\n{body.rstrip()}\n{end(block)}\n"


def replace(existing: str, block: str, body: str) -> str | None:
    """existing with the block replaced, or None when it holds no such block."""
    start = existing.find(begin(block))
    stop = existing.find(end(block), start) if start != -1 else -1
    if start == -1 or stop == -1:
        return None
    return existing[:start] + marked(block, body) + existing[stop + len(end(block)) + 1 :]


def merge(existing: str, block: str, body: str) -> str:
    """A phase's section replaced, or added after the other phases' (above the Verification
    section, which reads what was verified last)."""
    replaced = replace(existing, block, body)
    if replaced is not None:
        return replaced
    at = verification_at(existing)
    if at == -1:
        text = existing.rstrip("\n")
        return (text + "\n\n" if text else "") + marked(block, body)
    head = existing[:at].rstrip("\n")
    return (head + "\n\n" if head else "") + marked(block, body) + "\n" + existing[at:]


def verification_at(text: str) -> int:
    """Where the Verification heading's line starts, or -1."""
    if text.startswith(VERIFICATION + "\n"):
        return 0
    found = text.find("\n" + VERIFICATION + "\n")
    return found + 1 if found != -1 else -1


def unreadable(path: Path) -> str | None:
    """Why the Markdown report at path cannot take a section, or None: an existing file that
    cannot be read, or is not UTF-8 text (its other sections would be lost). Asked before any
    work, so that a run refused for it has written nothing."""
    if path.suffix.lower() == ".json" or not path.is_file():
        return None  # a JSON report is replaced whole; a missing one is created
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        return (
            f"the report {path} is not UTF-8 text (byte {error.start}): give another --report file, "
            "or convert this one to UTF-8"
        )
    except OSError as error:
        return f"cannot read the report {path}: {error.strerror or error}"
    return None


def write(path: Path, block: str, body: str, merged: Callable[[str, str, str], str] = merge) -> None:
    """Write body as block's section of the file at path (`merged`: where a new section goes,
    `merge` or verification's), creating the file when it is missing. OSError
    (UnicodeDecodeError for a file that is not UTF-8) goes to the caller."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(merged(existing, block, body), encoding="utf-8")
