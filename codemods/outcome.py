"""What was decided for one handler or helper, in the shape the JSON contract fixes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from async_migrate.codemods.handlers import HandlerKind
from async_migrate.codemods.rules import Reason, codes, texts

if TYPE_CHECKING:
    from async_migrate.codemods.project import Handler


# The `kind` of a background task's own entry among phase one's decisions (`phase1/tasks.py`):
# the function it rewrites is no handler, and is named beside them, counted as what it is.
TASK_KIND = HandlerKind.BACKGROUND_TASK

# In front of a route's path where the prefixes before it cannot be known statically (a prefix
# from the environment, a router factory handed no literal): every format shows it, so no path
# reads as complete, and none as "" when the decorator's own path is empty.
UNKNOWN_PREFIX = "[unknown prefix]"


def shown_path(path: str | None, incomplete: bool) -> str | None:
    """The path as every format shows it: the known tail behind `UNKNOWN_PREFIX` when incomplete."""
    return UNKNOWN_PREFIX + (path or "") if incomplete else path


@dataclass(slots=True)
class Blocking:
    """A call that blocks the event loop in a handler kept async: the JSON's `blocking` items."""

    line: int
    call: str  # what blocks: `session.commit()`, `services.order_helper.place_order(...)`
    offloaded: bool = False


@dataclass(slots=True)
class Outcome:
    """What a command decided for one handler (or phase one's background task): one entry of the
    JSON's `handlers` (`to_json`), of the text's lines and of the report."""

    handler: Handler
    before: str  # async or def
    after: str
    action: str  # convert, keep, unchanged (phase 1); migrate, blocked, unchanged (phase 2)
    reasons: list[Reason] = field(default_factory=list)
    blocking: list[Blocking] = field(default_factory=list)
    offload: list[int] = field(default_factory=list)  # call indices wrapped in run_in_threadpool
    extra: dict[str, Any] = field(default_factory=dict)  # more fields for the JSON (scan's preview)
    # The full path, router and include_router prefixes composed (codemods/routes.py), when known.
    full_path: str | None = None
    # The prefixes in front of the decorator's path could not be known: `path` is only its tail.
    path_incomplete: bool = False
    # When incomplete: the decorator's path behind the prefixes that are known (its router's own).
    path_tail: str | None = None
    # Registered more than once (`add_api_route("/items", list_items)` on v1's router and on a
    # mounted v2 application's): each registration's path as served (`[unknown prefix]/items` when incomplete);
    # on a router a factory builds, called more than once: the path of each call.
    served_paths: list[str] = field(default_factory=list)

    @property
    def path(self) -> str | None:
        """The path as served when known, else its known tail, else as the decorator wrote it."""
        if self.full_path is not None:
            return self.full_path
        return self.path_tail if self.path_tail is not None else self.handler.path

    @property
    def route(self) -> str:
        """`GET,POST /books/{id}`: methods and path, for one-line labels (`[unknown prefix]/{id}`
        when the prefixes in front of the path are unknown)."""
        path = shown_path(self.path, self.path_incomplete) or ""
        if self.served_paths and len(self.handler.registrations) == 1:
            path = ", ".join(self.served_paths)  # one route a router factory serves at each call's path
        return " ".join(filter(None, [",".join(self.handler.methods), path]))

    def to_json(self) -> dict[str, Any]:
        """The entry as the contract fixes it: `file`, `function`, `line`, `kind`, `methods`, `path`,
        `before`, `after`, `action`, `reasons`, `codes`; then, only where they apply,
        `path_incomplete`, `key` (a redefinition's), `paths` (registered more than once),
        `blocking` and the command's own fields (`extra`)."""
        function = self.handler.function
        document: dict[str, Any] = {
            "file": self.handler.module.path,
            "function": function.qualname,
            "line": function.line,
            "kind": self.handler.kind,
            "methods": self.handler.methods,
            "path": shown_path(self.path, self.path_incomplete),
            "before": self.before,
            "after": self.after,
            "action": self.action,
            "reasons": texts(self.reasons),
            "codes": codes(self.reasons),
        }
        if self.path_incomplete:
            document["path_incomplete"] = True
        if function.key != function.qualname:
            document["key"] = function.key
        if len(self.handler.registrations) > 1 or self.served_paths:
            document["paths"] = self.served_paths or sorted(
                {r.path for r in self.handler.registrations if r.path is not None}
            )
        if self.blocking:
            document["blocking"] = [
                {"line": b.line, "call": b.call, "offloaded": b.offloaded} for b in self.blocking
            ]
        document.update(self.extra)
        return document


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 file`, `2 files`; `nouns` for an irregular plural (`repositories`)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def first_few(items: Sequence[str], limit: int = 3, counted: bool = False) -> str:
    """The first `limit` of `items` joined with commas, `, ...` after them when there are more
    (`counted`: ` and 2 more`)."""
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if counted else ", ...")
