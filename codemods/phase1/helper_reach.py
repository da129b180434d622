"""The first finding a function reaches through the plain helpers it calls in place.

The walk shared by the updates of shared state (AM140) and the Sessions stored on shared objects
(AM143) a helper makes: not nested, offloaded or awaited calls, nor `async def` helpers (which
`steps` leaves out), in line order. Only answers no call-graph cycle cut short are kept, and each
function is followed once per walk: methods and the properties they read on `self` often call each
other in cycles, and following them again on every path took exponential time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

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
    visiting: set[Key] = set()
    # what this walk followed already and found nothing below but through the path it was on; a
    # finding reached from there is reached from that path, which the walk follows to the end
    explored: set[Key] = set()

    def reach(current: Key) -> tuple[Found | None, bool]:
        """The first finding below `current`, and whether the answer is whole (no call skipped
        for being on the path followed, whose answer is not known yet)."""
        if current in memo:
            return memo[current], True
        if current in explored:
            return None, False
        visiting.add(current)
        found: Found | None = None
        whole = True
        for edge, callee in steps(current):
            mine = own(callee)
            if mine is not None:
                found = through(mine, edge.callee, edge.call.line)
                break
            if callee in visiting:
                whole = False
                continue
            deeper, complete = reach(callee)
            whole = whole and complete
            if deeper is not None:
                found = through(deeper, edge.callee, edge.call.line)
                break
        visiting.discard(current)
        if found is not None or whole:
            memo[current] = found
        else:
            explored.add(current)
        return found, found is not None or whole

    return reach(key)[0]
