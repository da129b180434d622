"""Phase two's blockers grouped by cause, so a report cites one cause once with its places.

On a large service one cause (a model's `__repr__` reading a relationship, an unknown decorator)
blocks at hundreds of places, and each blocker repeats the whole explanation: a report of a few
routes ran to a megabyte. A cause is what a blocker says before its first `; `, with the values
between backticks (the expression formatted, the parameter, the decorator) left out: blockers
alike in everything but those values and their place share it. `causes` lists each cause with
its places (and each place's own values, for the Markdown), the indices of its blockers and the
handlers citing it (for the JSON, where every blocker stays listed in full).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_QUOTED = re.compile(r"`[^`]*`")
# a route's reason cites its blocker's place first: `services.py:6: message`
_LOCATED = re.compile(r"(?P<file>[^\s:]+\.py):(?P<line>\d+): (?P<message>.*)", re.DOTALL)


def key(code: str, message: str) -> tuple[str, str]:
    """The cause of a blocker (or reason) of rule `code` saying `message`."""
    located = _LOCATED.fullmatch(message)
    if located is not None:
        message = located["message"]
    return code, _QUOTED.sub("`…`", message).split("; ", 1)[0]


def values(message: str) -> tuple[str, ...]:
    """What `message`'s cause leaves out: the backticked values before its first `; `."""
    located = _LOCATED.fullmatch(message)
    if located is not None:
        message = located["message"]
    head = _QUOTED.sub(lambda m: "\0" + m.group(0)[1:-1] + "\0", message).split("; ", 1)[0]
    return tuple(head.split("\0")[1::2])


@dataclass
class Cause:
    """One cause: the first blocker saying it stands for all (`message`), and every place."""

    code: str
    message: str
    places: list[tuple[str, int, tuple[str, ...]]] = field(default_factory=list)  # file, line, values
    blockers: list[int] = field(default_factory=list)  # indices into `subsystem.blockers`
    handlers: list[str] = field(default_factory=list)  # functions whose reasons cite it

    @property
    def count(self) -> int:
        return len(self.blockers)

    def locations(self) -> str:
        """The places, file by file: `a.py:3 (`x`), 9 (`y`); b.py:4`; a place's values only where
        they differ from the first place's (whose message is the one shown)."""
        shown = self.places[0][2] if self.places else ()
        by_file: dict[str, list[str]] = {}
        for file, line, said in self.places:
            extra = f" ({', '.join(f'`{v}`' for v in said)})" if said and said != shown else ""
            by_file.setdefault(file, []).append(f"{line}{extra}")
        return "; ".join(f"{file}:{', '.join(lines)}" for file, lines in by_file.items())

    def to_json(self, number: int) -> dict[str, Any]:
        return {
            "id": number,
            "code": self.code,
            "message": self.message,
            "count": self.count,
            "blockers": self.blockers,
            "handlers": self.handlers,
        }


def causes(blockers: list[dict[str, Any]], handlers: Iterable[tuple[str, list[str], list[str]]] = ()) -> list[Cause]:
    """`blockers` (`subsystem.blockers`) grouped by cause, the most cited first; `handlers`:
    (function, codes, reasons) of each handler, to name those citing each cause."""
    found: dict[tuple[str, str], Cause] = {}
    for index, blocker in enumerate(blockers):
        code, message = str(blocker.get("code", "")), str(blocker.get("message", ""))
        cause = found.setdefault(key(code, message), Cause(code, message))
        cause.places.append((str(blocker.get("file", "")), int(blocker.get("line") or 0), values(message)))
        cause.blockers.append(index)
    for function, codes, reasons in handlers:
        for code, reason in zip(codes, reasons, strict=False):
            cited = found.get(key(code, reason))
            if cited is not None and function not in cited.handlers:
                cited.handlers.append(function)
    return sorted(found.values(), key=lambda c: (-c.count, c.blockers[0]))


def summary(reasons: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """A handler's (code, text) reasons grouped by cause, in order: (code, first text, count)."""
    grouped: dict[tuple[str, str], list[Any]] = {}
    for code, text in reasons:
        grouped.setdefault(key(code, text), [code, text, 0])[2] += 1
    return [(code, text, count) for code, text, count in grouped.values()]
