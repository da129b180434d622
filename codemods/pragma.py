"""The `# async-migrate: ignore[...] reason` pragma: which finding codes it silences, and why.

Read by `check` (which findings to drop) and by the phase-one rule (a handler the
pragma covers may block, so the rule never converts it on its own account).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BLOCKING = "blocking-session"
MIXED = "mixed-session"
BAD_PRAGMA = "bad-pragma"
CODES = (BLOCKING, MIXED)

_PRAGMA = re.compile(r"^ignore(?:\[(?P<codes>[^\]]*)\])?(?P<reason>.*)$", re.DOTALL)


@dataclass(slots=True)
class Pragma:
    text: str
    codes: tuple[str, ...]  # () means every code
    reason: str
    unknown: tuple[str, ...] = ()

    def silences(self, code: str) -> bool:
        return not self.codes or code in self.codes


def parse_pragma(text: str | None) -> Pragma | None:
    """The `ignore` pragma in the text after `async-migrate:`, or None when there is none."""
    if text is None:
        return None
    match = _PRAGMA.match(text.strip())
    if match is None:
        return None
    codes: tuple[str, ...] = ()
    if match.group("codes") is not None:
        codes = tuple(code.strip() for code in match.group("codes").split(",") if code.strip())
    reason = match.group("reason")
    if reason and reason[0].isalnum():  # `ignoreme`: not this pragma
        return None
    reason = reason.strip().lstrip("-:—–").strip()
    return Pragma(text.strip(), codes, reason, tuple(c for c in codes if c not in CODES))
