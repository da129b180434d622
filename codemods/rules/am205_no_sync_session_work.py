"""AM205 no-sync-session-work: the route does no synchronous Session work, so phase two leaves it alone

Only routes that use, open or reach a synchronous Session move to AsyncSession.

Before:

    @router.get("/health")
    def health():
        return {"ok": True}

After:

    @router.get("/health")
    def health():  # unchanged
        return {"ok": True}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM205",
    name="no-sync-session-work",
    summary="the route does no synchronous Session work, so phase two leaves it alone",
    fix="none needed",
    doc=__doc__,
)
