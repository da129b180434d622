"""AM287 await-splits-row-update: phase two adds awaits between a route's load of a row and the commit of what it wrote from it

The row analogue of AM286, and a note (not a reason to block). An `async def` route on the
synchronous Session (kept `async def` by phase one, or never converted) that loads a row, writes
a column back from its own value (AM169: `book.stock -= qty`) or claims it (AM170: a column its
query's WHERE tests, assigned), and commits, with no await from the load to the commit, ran that
as one step on the event loop: no other request of its worker in between. Phase two awaits its
Session calls (`book = await db.get(Book, bid)`, `await db.commit()`), and at those awaits
other requests of the same loop run: two read the same stock and one update is lost, or two
claim the same row (measured on a cancel route: stock 100 became 60 after phase two). Phase two
migrates the route all the same; the note names the object, the load's and the update's lines,
and the fixes: an UPDATE the database computes (`await db.execute(update(Book).where(Book.id ==
book.id).values(stock=Book.stock + qty))`; for a claim, `update(...).where(...).values(...)
.returning(...)`), or a row lock taken as the object loads (`with_for_update=True` on the get,
`.with_for_update()` on the select, `skip_locked=True` for a claim).

The object and the update are AM169's and AM170's (a query of a mapped class on a Session, in the
route or a plain `def` helper it calls in place; not a parameter, a dependency's value, a locked
load). No note: a `def` route (it ran in the threadpool already: the race predates phase two), and
an `async def` one with an await from the load to its first commit or flush after the update (to
its end where it calls none; from its start where a helper returns the object): that race
predates phase two too.

Before:

    @router.post("/orders/{oid}/cancel")
    async def cancel(oid: int, db: Session = Depends(get_db)):
        order = db.get(Order, oid)
        book = db.get(Book, order.book_id)
        book.stock += order.quantity
        db.commit()
        await notify(order)

After:

    @router.post("/orders/{oid}/cancel")
    async def cancel(oid: int, db: AsyncSession = Depends(get_async_db)):
        order = await db.get(Order, oid)
        book = await db.get(Book, order.book_id)  # another cancel runs here
        book.stock += order.quantity
        await db.commit()
        await notify(order)

    # the fix, by hand
    #     await db.execute(update(Book).where(Book.id == order.book_id).values(stock=Book.stock + order.quantity))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM287",
    name="await-splits-row-update",
    summary="an `async def` route loads a row and writes a column back from its own value (or claims it) before "
    "its commit with no await in between; phase two's awaits on its Session calls let other requests run there",
    fix="let the database compute it (`update(M).where(...).values(x=M.x + 1)`, or `.returning(M)` for a claim), "
    "or lock the row as it loads (`with_for_update`, `skip_locked=True` for a claim)",
    doc=__doc__,
)
