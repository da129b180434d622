"""AM107 websocket-handler: a websocket handler stays `async def`

FastAPI requires websocket endpoints to be coroutine functions, so phase one never converts
one; `check` still reports the Session work it does on the event loop.

Before:

    @router.websocket("/live")
    async def live(ws: WebSocket, session: SessionDep):
        await ws.send_json(session.scalar(select(func.count(Book.id))))

After:

    @router.websocket("/live")
    async def live(ws: WebSocket):
        await ws.send_json(await run_in_threadpool(count_books))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM107",
    name="websocket-handler",
    summary="a websocket handler stays `async def`",
    fix="move its Session work into a helper and `await run_in_threadpool(helper, ...)`",
    doc=__doc__,
)
