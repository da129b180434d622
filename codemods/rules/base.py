"""What a rule is, and the value a rule produces: a `Reason` (its code and its text)."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

_CODE = re.compile(r"^AM[123]\d\d$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
FAMILIES = {"1": "phase1", "2": "phase2", "3": "check"}


@dataclass(frozen=True, slots=True)
class Rule:
    """One registered rule: a phase-one reason, a phase-two blocker or decision, or a `check` finding.

    `code` is stable (`AM1xx` phase one, `AM2xx` phase two, `AM3xx` check) and never
    reused; `name` is its kebab-case alias (both are accepted in pragmas for `check`
    rules). `summary` is one line; `fix` says what to do about it; `doc` is the rule
    module's docstring, which carries a Before/After example.
    """

    code: str
    name: str
    summary: str
    fix: str
    doc: str = ""

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"rule code {self.code!r} is not AM1xx, AM2xx or AM3xx")
        if not _NAME.match(self.name):
            raise ValueError(f"rule name {self.name!r} is not kebab-case")
        object.__setattr__(self, "doc", inspect.cleandoc(self.doc or ""))

    @property
    def family(self) -> str:
        """phase1, phase2 or check."""
        return FAMILIES[self.code[2]]

    def reason(self, text: str) -> Reason:
        """This rule's verdict on one handler, helper or stack, worded for that case."""
        return Reason(self.code, text)

    def to_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "name": self.name,
            "family": self.family,
            "summary": self.summary,
            "fix": self.fix,
            "doc": self.doc,
        }


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason in a report: the rule's code and the text for this case (JSON: `codes`, `reasons`)."""

    code: str
    text: str

    def __str__(self) -> str:
        return self.text

    def located(self, where: str) -> Reason:
        """The same reason prefixed with a location (`api/books.py:12: ...`)."""
        return Reason(self.code, f"{where}: {self.text}")


def texts(reasons: list[Reason]) -> list[str]:
    return [reason.text for reason in reasons]


def codes(reasons: list[Reason]) -> list[str]:
    return [reason.code for reason in reasons]
