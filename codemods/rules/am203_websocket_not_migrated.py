"""AM203 websocket-not-migrated: phase two does not migrate websocket handlers

A websocket's Session lives as long as the connection; the tool leaves that design to
you.

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
    fix="migrate its Session work by hand, or leave it on the threadpool",
    doc=__doc__,
)
