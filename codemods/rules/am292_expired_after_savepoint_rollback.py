"""AM292 expired-after-savepoint-rollback: an object changed inside a savepoint (or a transaction block) is read after it rolled back (MissingGreenlet)

Rolling back `db.begin_nested()` expires the objects changed inside it, and rolling back a
`db.begin()` block every object, whatever `expire_on_commit` says: the exception leaving
`with db.begin_nested():` does it, and so does `sp.rollback()`. Synchronous code reloads
such an attribute when it is read (in the `except` handler, or after it); under
AsyncSession the read is implicit IO and raises MissingGreenlet, a 500 where the synchronous
route answered. A helper that changes an object it was given inside such a block and, the
rollback caught, returns normally hands the object back expired: the caller's reads of it
after the call count the same. The function stays on the synchronous path until the object
is refreshed before the read.

Before:

    def reserve(sku: str, qty: int, db: Session = Depends(get_db)):
        item = db.scalars(select(Item).where(Item.sku == sku)).one()
        try:
            with db.begin_nested():
                item.quantity -= qty
                db.flush()
        except IntegrityError:
            db.refresh(item)
            return {"reserved": 0, "available": item.quantity}
        return {"reserved": qty, "available": item.quantity}

After:

    async def reserve(sku: str, qty: int, db: AsyncSession = Depends(get_async_db_session)):
        item = (await db.scalars(select(Item).where(Item.sku == sku))).one()
        try:
            async with db.begin_nested():
                item.quantity -= qty
                await db.flush()
        except IntegrityError:
            await db.refresh(item)
            return {"reserved": 0, "available": item.quantity}
        return {"reserved": qty, "available": item.quantity}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM292",
    name="expired-after-savepoint-rollback",
    summary=(
        "an object changed inside a savepoint or transaction block is read after it rolled back, "
        "which expired it (MissingGreenlet)"
    ),
    fix="add `db.refresh(obj)` after the rollback, before the read (or load the object again), then rerun phase two",
    doc=__doc__,
)
