"""AM261 expired-after-rollback: an object read after `rollback()`, `expire(obj)` or `expire_all()`, which phase two cannot refresh there (MissingGreenlet)

A rollback expires every object of the Session, and `expire()` / `expire_all()` the ones
named, whatever `expire_on_commit` says. Synchronous code reloads an expired attribute when
it is read; under AsyncSession the read is implicit IO and raises MissingGreenlet. Phase
two adds `await db.refresh(obj)` right after the call for an object the function loaded
itself; for one that came from elsewhere (a parameter, a list, a helper's result) the route
stays on the synchronous path.

Before:

    def create(name: str, current: User = Depends(get_current_user), db: Session = Depends(get_db)):
        db.add(Owner(name=name))
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise HTTPException(409, f"{current.name}: {name} exists")

After:

    async def create(name: str, current: User = Depends(get_current_user_async), db: AsyncSession = Depends(get_async_db_session)):
        db.add(Owner(name=name))
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()
            await db.refresh(current)
            raise HTTPException(409, f"{current.name}: {name} exists")
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM261",
    name="expired-after-rollback",
    summary=(
        "an object is read after `rollback()`, `expire(obj)` or `expire_all()`, which expire it, "
        "and phase two cannot refresh it there (MissingGreenlet)"
    ),
    fix="add `db.refresh(obj)` after the rollback or expire (or reload the object), then rerun phase two",
    doc=__doc__,
)
