"""AM102 opens-sync-session: an `async def` handler opens a synchronous Session itself and never awaits

A Session the handler opens (`with SessionLocal() as session`) does its I/O on the event
loop just like one it is given. Phase one converts the handler.

Before:

    @router.post("/orders")
    async def place(order: OrderIn):
        with SessionLocal() as session:
            session.add(Order(**order.model_dump()))
            session.commit()

After:

    @router.post("/orders")
    def place(order: OrderIn):
        with SessionLocal() as session:
            session.add(Order(**order.model_dump()))
            session.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM102",
    name="opens-sync-session",
    summary="an `async def` handler opens a synchronous Session itself and never awaits",
    fix="none needed: `async-migrate phase1` converts it to `def`",
    doc=__doc__,
)
