"""The `# async-migrate: ignore[...] reason` pragma: which `check` rules it silences, and why.

Read by `check` (which findings to drop) and by the phase-one rule (a handler the
pragma covers may block, so the rule never converts it on its own account). A rule
is named by its code (`ignore[AM301]`) or its name (`ignore[blocking-session]`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from async_migrate.codemods.rules import Rule, all_rules, find
from async_migrate.codemods.rules.am303_bad_pragma import RULE as AM303
from async_migrate.codemods.rules.am305_unused_pragma import RULE as AM305

# Where the pragma may stand; `check --help` and the README say it in these words.
PLACEMENT = (
    "on a comment line above the handler's decorators, on a comment line between its decorators "
    "and the `def`, or at the end of a line of its signature (the `def` line through the colon)"
)

_PRAGMA = re.compile(r"^ignore(?:\[(?P<codes>[^\]]*)\])?(?P<reason>.*)$", re.DOTALL)


@dataclass(slots=True)
class Pragma:
    text: str
    codes: tuple[str, ...]  # as written; () means every rule
    reason: str
    unknown: tuple[str, ...] = ()

    def silences(self, rule: Rule) -> bool:
        return not self.codes or any(find(code) == rule for code in self.codes)


def silenceable() -> list[Rule]:
    """The rules a pragma may name: every `check` finding but a bad or unused pragma itself."""
    return [rule for rule in all_rules("check") if rule not in (AM303, AM305)]


@functools.cache
def _silenceable(code: str) -> bool:
    """`find(code) in silenceable()`, once per code: every handler's pragma asks it."""
    return find(code) in silenceable()


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
    unknown = tuple(code for code in codes if not _silenceable(code))
    return Pragma(text.strip(), codes, reason, unknown)
