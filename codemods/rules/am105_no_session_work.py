"""AM105 no-session-work: an `async def` handler does no synchronous Session work, so it stays `async def`

Converting a handler that does no blocking work would only cost a threadpool hop, so phase
one keeps it (action `keep`). A call the analysis cannot resolve that may carry a Session is
reported under its own code, never as this one. Where a validator FastAPI runs on one of its
parameters does Session work (on the event loop, before the handler runs: `check`'s AM312), the
reason names it: converting the handler would not move it.

Before:

    @router.get("/health")
    async def health():
        return {"ok": True}

After:

    @router.get("/health")
    async def health():  # unchanged
        return {"ok": True}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM105",
    name="no-session-work",
    summary="an `async def` handler does no synchronous Session work, so it stays `async def`",
    fix="none needed: nothing blocks the event loop here",
    doc=__doc__,
)
