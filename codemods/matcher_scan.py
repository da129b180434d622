"""libcst visitors built without their per-construction scan for matcher decorators.

libcst's matcher-decoratable visitors and transformers (every codemod command, and the import
visitors) walk `dir(self)` three times each time one is built, calling `getattr` on several
hundred names to find methods decorated with `@m.visit`, `@m.leave`, `@m.call_if_inside` or
`@m.call_if_not_inside`: about 6 ms a visitor, and a rewrite builds several per file.
"""

from __future__ import annotations

from libcst.matchers._decorators import (
    CONSTRUCTED_LEAVE_MATCHER_ATTR,
    CONSTRUCTED_VISIT_MATCHER_ATTR,
    VISIT_NEGATIVE_MATCHER_ATTR,
    VISIT_POSITIVE_MATCHER_ATTR,
)

_MATCHER_ATTRS = (
    CONSTRUCTED_VISIT_MATCHER_ATTR, CONSTRUCTED_LEAVE_MATCHER_ATTR, VISIT_POSITIVE_MATCHER_ATTR,
    VISIT_NEGATIVE_MATCHER_ATTR,
)


_DECORATED: dict[type, list[str]] = {}


def _matcher_decorated(cls: type) -> list[str]:
    """The names of `cls`'s methods carrying libcst matcher decorators (`@m.visit`, `@m.leave`,
    `@m.call_if_inside`, `@m.call_if_not_inside`): all a matcher-decoratable visitor looks for."""
    found = _DECORATED.get(cls)
    if found is not None:
        return found
    names = {name for klass in cls.__mro__ for name in vars(klass)}
    found = _DECORATED[cls] = sorted(
        name for name in names
        if not isinstance(getattr(cls, name, None), property)
        and any(hasattr(getattr(cls, name, None), attr) for attr in _MATCHER_ATTRS)
    )
    return found


class QuickMatcherScan:
    """A mixin for a libcst matcher-decoratable visitor or transformer: its `dir()` lists only the
    matcher-decorated methods, found once per class, so libcst's scans find the same at no cost."""

    def __dir__(self) -> list[str]:
        return list(_matcher_decorated(type(self)))
