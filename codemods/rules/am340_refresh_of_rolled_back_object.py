"""AM340 refresh-of-rolled-back-object: an `async def` handler refreshes an object the rollback before it expunged

A rollback expunges what the transaction it ends took: an object the handler built and added,
whose commit is the one that failed, is transient again, and `await db.refresh(obj)` on it raises
InvalidRequestError ("Instance ... is not persistent within this Session"). The handler's own
answer (a 409 for a duplicate) becomes a 500. The shape is what a phase two before this rule wrote
after the rollback of `except IntegrityError: db.rollback(); raise HTTPException(409)` in a method
whose Session is `self.db` (a fastapi-utils class-based view). Reported on the handler's
AsyncSession (a parameter, one it opens, or `self.db` of its class) where the refresh follows the
rollback in the same `except` clause; an object a commit before the `try` made persistent is
expired by the rollback, and refreshing it is right. Silence one handler with
`# async-migrate: ignore[AM340] reason`.

Before:

    item = Item(name=name)
    db.add(item)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        await db.refresh(item)
        raise HTTPException(status_code=409, detail="taken")

After:

    item = Item(name=name)
    db.add(item)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise HTTPException(status_code=409, detail="taken")
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM340",
    name="refresh-of-rolled-back-object",
    summary="a refresh of an object the rollback before it expunged (added, its commit the one that failed) "
    "raises InvalidRequestError: a 500 where the handler answered",
    fix="drop the refresh: the rollback leaves the object's attributes as they were given; refresh only an "
    "object a commit before the rollback made persistent",
    doc=__doc__,
)
