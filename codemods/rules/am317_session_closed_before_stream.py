"""AM317 session-closed-before-stream: a streamed generator uses a Session its dependency closed before the response

A dependency declared with `scope="function"` (`Depends(get_db, scope="function")`) ends when
the handler returns, before the response is sent: its `with`/`async with` closes the Session
then. A generator the handler hands to a `StreamingResponse` runs after that, and its queries
on the closed Session open a connection again that nothing gives back: each request keeps one
checked out until the pool is exhausted (`QueuePool limit ... reached`), on a synchronous
Session as on an AsyncSession. Keep the default scope, which closes the Session after the
response is sent, or let the generator open a Session of its own. A route that is a generator
itself (`response_class=EventSourceResponse`, JSON Lines) is the same: FastAPI runs its whole body
after the function-scoped dependencies ended, so a committing dependency has committed already and
what the body writes is never saved. A Session the handler opens itself as a `with` item
(`with SessionLocal() as db: return StreamingResponse(rows(db))`) is closed the same way, when
the handler leaves the block. A background task handed such a Session (`tasks.add_task(mark_sent,
db, order)`, `BackgroundTask(...)`) runs after the response too: the objects the Session loaded are
detached, so what the task changes on them is never saved (the default scope closes the Session
after the background tasks). Silence one handler with
`# async-migrate: ignore[AM317] reason`.

Before:

    DbSession = Annotated[Session, Depends(get_db, scope="function")]

    @router.get("/orders.csv")
    def export_orders(db: DbSession):
        def rows():
            for order in db.scalars(select(Order)):
                yield f"{order.id}\\n"

        return StreamingResponse(rows())

After:

    DbSession = Annotated[Session, Depends(get_db)]

    @router.get("/orders.csv")
    def export_orders(db: DbSession):
        def rows():
            for order in db.scalars(select(Order)):
                yield f"{order.id}\\n"

        return StreamingResponse(rows())
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM317",
    name="session-closed-before-stream",
    summary="a generator a `StreamingResponse` runs, or a background task, uses a Session whose "
    "`scope=\"function\"` dependency (or the handler's own `with` block) closed it before the response",
    fix="drop `scope=\"function\"` from the Session dependency (the default closes it after the response), or let "
    "the generator open its own Session",
    doc=__doc__,
)
