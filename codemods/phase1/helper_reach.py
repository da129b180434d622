"""The first finding a function reaches through the plain helpers it calls in place.

The walk shared by the updates of shared state (AM140) and the Sessions stored on shared objects
(AM143) a helper makes: not nested, offloaded or awaited calls, nor `async def` helpers (which
`steps` leaves out), in line order. Only answers no call-graph cycle cut short are kept, and each
function is followed once per walk: methods and the properties they read on `self` often call each
other in cycles, and following them again on every path took exponential time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from async_migrate.codemods.project import Edge, FunctionId

Key = TypeVar("Key", bound=Hashable)
Found = TypeVar("Found")


def first_reached(
    key: Key,
    memo: dict[Key, Found | None],
    steps: Callable[[Key], Iterable[tuple[Edge, Key]]],
    own: Callable[[Key], Found | None],
    through: Callable[[Found, FunctionId, int], Found],
) -> Found | None:
    """The first finding below `key` (a function, or a function with what it is called on).

    `steps(key)`: the calls followed from it, each with its callee's key; `own(key)`: that
    function's own first finding; `through(found, callee, line)`: the finding as reached through
    the call of `callee` at `line`. `memo`: the whole answers, kept across walks."""
    return _Walk(memo, steps, own, through).reach(key)[0]


class _Walk(Generic[Key, Found]):
    """One walk of `first_reached`. A class, not a closure calling itself: that is a reference
    cycle per walk, which the analysis (run without the cycle collector) never frees."""

    def __init__(
        self,
        memo: dict[Key, Found | None],
        steps: Callable[[Key], Iterable[tuple[Edge, Key]]],
        own: Callable[[Key], Found | None],
        through: Callable[[Found, FunctionId, int], Found],
    ) -> None:
        self.memo, self.steps, self.own, self.through = memo, steps, own, through
        self.visiting: set[Key] = set()
        # what this walk followed already and found nothing below but through the path it was on;
        # a finding reached from there is reached from that path, which the walk follows to the end
        self.explored: set[Key] = set()

    def reach(self, current: Key) -> tuple[Found | None, bool]:
        """The first finding below `current`, and whether the answer is whole (no call skipped
        for being on the path followed, whose answer is not known yet)."""
        memo = self.memo
        if current in memo:
            return memo[current], True
        if current in self.explored:
            return None, False
        self.visiting.add(current)
        found: Found | None = None
        whole = True
        for edge, callee in self.steps(current):
            mine = self.own(callee)
            if mine is not None:
                found = self.through(mine, edge.callee, edge.call.line)
                break
            if callee in self.visiting:
                whole = False
                continue
            deeper, complete = self.reach(callee)
            whole = whole and complete
            if deeper is not None:
                found = self.through(deeper, edge.callee, edge.call.line)
                break
        self.visiting.discard(current)
        if found is not None or whole:
            memo[current] = found
        else:
            self.explored.add(current)
        return found, found is not None or whole
