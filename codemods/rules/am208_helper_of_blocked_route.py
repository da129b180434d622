"""AM208 helper-of-blocked-route: a helper stays synchronous because only blocked routes reach it

A helper moves only with a route that migrates.

Before:

    def list_books(session: Session): ...  # reached by a blocked route only

After:

    def list_books(session: Session): ...  # unchanged
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM208",
    name="helper-of-blocked-route",
    summary="a helper stays synchronous because only blocked routes reach it",
    fix="fix what blocks those routes (their reasons name it)",
    doc=__doc__,
)
