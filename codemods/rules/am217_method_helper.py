"""AM217 method-helper: a helper that is a method cannot move: its callers cannot be followed reliably

Calls through `self` or an instance are not resolved to the method, so some callers
would not be awaited.

Before:

    class Repo:
        def list(self, session: Session): ...

After:

    def list_books(session: Session): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM217",
    name="method-helper",
    summary="a helper that is a method cannot move: its callers cannot be followed reliably",
    fix="make it a module-level function, or migrate the class by hand",
    doc=__doc__,
)
