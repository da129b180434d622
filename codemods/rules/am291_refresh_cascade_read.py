"""AM291 refresh-cascade-read: a route returns an object refreshed whole whose refresh cascades to objects the response model reads a lazy relationship of (MissingGreenlet)

`refresh(order)` cascades along each relationship whose `cascade` holds `refresh-expire` (as
`"all"` does): every object it holds is refreshed too, which leaves their lazy relationships
unloaded, whatever loader options the query gave. Synchronous code loads them when the response
model reads them; under AsyncSession the serialiser's read raises MissingGreenlet, and no refresh
phase two can add reloads them, so the route stays on the synchronous path.

Before:

    def cancel_order(db: Session, order_id: int) -> Order:
        stmt = select(Order).where(Order.id == order_id).options(selectinload(Order.lines).selectinload(Line.product))
        order = db.scalars(stmt).one()
        order.status = "cancelled"
        db.commit()
        db.refresh(order)  # cascades to order.lines (cascade="all, delete-orphan"): Line.product unloaded
        return order

    @router.post("/orders/{order_id}/cancel", response_model=OrderOut)  # OrderOut.lines[].product
    def cancel(order_id: int, db: Session = Depends(get_db)):
        return cancel_order(db, order_id)

After:

    def cancel_order(db: Session, order_id: int) -> Order:
        order = db.scalars(select(Order).where(Order.id == order_id)).one()
        order.status = "cancelled"
        db.commit()
        stmt = select(Order).where(Order.id == order_id).options(selectinload(Order.lines).selectinload(Line.product))
        return db.scalars(stmt.execution_options(populate_existing=True)).one()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM291",
    name="refresh-cascade-read",
    summary=(
        "a route returns an object refreshed whole whose refresh cascades (refresh-expire) to objects "
        "whose lazy relationship the response model reads (MissingGreenlet)"
    ),
    fix=(
        "drop the refresh and return what a query loading those relationships eagerly returns, or take "
        "refresh-expire out of the relationship's cascade, then rerun phase two"
    ),
    doc=__doc__,
)
