"""AM203 websocket-not-migrated: phase two does not migrate websocket handlers

A websocket's Session lives as long as the connection; the tool leaves that design to
you. A websocket left so that still does synchronous Session work says where (`check`
reports it as AM301): a websocket handler cannot be a plain def.

Before:

    @router.websocket("/live")
    async def live(ws: WebSocket): ...

After:

    @router.websocket("/live")
    async def live(ws: WebSocket): ...  # unchanged
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM203",
    name="websocket-not-migrated",
    summary="phase two does not migrate websocket handlers",
    fix=(
        "run its Session work in a plain def helper through `await run_in_threadpool(helper, ...)`, "
        "or await an AsyncSession there by hand"
    ),
    doc=__doc__,
)
