"""AM324 shared-session-in-threadpool: a `def` handler, or work an `async def` one offloads, uses one Session the whole process shares

FastAPI runs a `def` route or dependency in its threadpool, so concurrent requests run it on
several threads at once. When its Session work lands on one Session object every request gets
(a module global `db = SessionLocal()`, a unit of work kept on a module-level message bus whose
`__enter__` opens its Session into `self.session`, what an `@lru_cache` dependency returns, a
service a dependency-injector container builds on a `providers.Singleton` or `providers.Resource`
Session; the shapes are AM126's),
those threads use that one Session together: a `Session` is not thread-safe, so transactions
interleave, one request's `close()` ends another's work, or "This session is provisioning a new
connection; concurrent operations are not permitted". Phase one never makes such a handler `def`
(AM126); this finds one that is `def` already, written so or converted by hand, and an
`async def` handler handing such work to a worker thread (`await run_in_threadpool(bus.handle,
cmd)`, `asyncio.to_thread(services.count, uow)` on a module-level `uow`): a thread per request,
where on the loop the requests would take turns.
Silence one handler with `# async-migrate: ignore[AM324] reason`.

Before:

    bus = bootstrap()  # MessageBus(uow=SqlAlchemyUnitOfWork())

    @router.post("/allocate")
    def allocate(body: AllocateIn):
        bus.handle(commands.Allocate(body.orderid, body.sku, body.qty))

After:

    def get_bus() -> MessageBus:  # a unit of work per request
        return bootstrap(uow=SqlAlchemyUnitOfWork())

    @router.post("/allocate")
    def allocate(body: AllocateIn, bus: MessageBus = Depends(get_bus)):
        bus.handle(commands.Allocate(body.orderid, body.sku, body.qty))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM324",
    name="shared-session-in-threadpool",
    summary="a `def` handler, or the work an `async def` handler offloads, does Session work on one Session "
    "the whole process shares: threadpool threads use it at once",
    fix="give each request its own Session or unit of work (a dependency opening or building one per "
    "request), or keep the handler `async def` until it has one",
    doc=__doc__,
)
