"""AM279 engine-work-on-loop: a `def` route doing synchronous engine work would block the event loop as a coroutine

Phase one leaves a route that takes a synchronous engine's connection (`with engine.begin() as
conn:`, `engine.connect()`, `metadata.create_all(engine)`), itself or in a helper it calls, as
`def`: FastAPI runs it in the threadpool. Phase two makes a migrated route `async def`; the
engine work, which phase two does not move, would then run on the event loop and block every
other request (`check` reports it as AM306). The route stays `def` on the synchronous Session
until that work moves. Statements on a `Connection` a dependency hands the route (`conn =
Depends(get_conn)`, or a repository built on it) count too; the reason names that dependency,
whose transaction FastAPI shares with every other dependency of the request naming it.

Before:

    @router.post("/products/{product_id}/clone")
    def clone_product(product_id: int, db: Session = Depends(get_db)):
        product = db.get(Product, product_id)
        with engine.begin() as conn:
            conn.execute(insert(Product).values(sku=product.sku + "-copy"))

After:

    @router.post("/products/{product_id}/clone")
    async def clone_product(product_id: int, db: AsyncSessionDep):
        product = await db.get(Product, product_id)
        async with async_engine.begin() as conn:
            await conn.execute(insert(Product).values(sku=product.sku + "-copy"))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM279",
    name="engine-work-on-loop",
    summary="a `def` route doing synchronous engine work (itself or in a helper) would block the event loop "
    "as a coroutine",
    fix="move the engine work to the async engine (`async with async_engine.begin() as conn:`), or into a "
    "function called through `await run_in_threadpool(...)`, then rerun phase two",
    doc=__doc__,
)
