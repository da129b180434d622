"""AM259 stale-after-commit: an object read after commit that the synchronous sessionmaker reloaded, which phase two cannot refresh there

The synchronous sessionmaker expired every object on commit (`expire_on_commit=True`, the
default), so a read after the commit reloaded the row: it saw what the transaction wrote
by other paths (`query(...).update(...)`, `execute(update(...))`, `execute(text("UPDATE
..."))`, triggers). The async sessionmaker phase two generates does not expire on commit,
nor does a reused one with `expire_on_commit=False`, so phase two adds `await
db.refresh(obj)` after the commit for an object the function made or loaded itself (each
object of a list it loaded; what a helper given its Session returns from one query), or that a
dependency sharing its Session loaded (`get_current_user(db = Depends(get_db))` returning
`db.get(User, uid)`: one Session per request, so the refresh finds it); for one that came from
elsewhere (a dependency on a Session of its own or whose value is not shown to be one object it
loaded, rows, a list it changed, any other helper's result) the read would return stale data,
and the route stays on the synchronous path. The synchronous side
is read from what the routes' Session dependencies open (a sessionmaker, `Session(engine)`);
a setting it cannot read counts as expiring.

Only an async Session that keeps its objects on commit makes the read stale. Where the async
side expires them too (`expire_on_commit=True`, the default of `AsyncSession` and
`async_sessionmaker`, or a setting the tool cannot read), the same read, of the primary key
as of any other column, is implicit IO that raises `MissingGreenlet` at run time: that is
AM248, whose reason says so, not this rule.

Before:

    def get_current_user(db: Session = Depends(get_db)) -> User:
        return db.get(User, 1)

    def bump(user: User = Depends(get_current_user), db: Session = Depends(get_db)):
        db.execute(update(User).where(User.id == user.id).values(visits=User.visits + 1))
        db.commit()
        return {"visits": user.visits}

After:

    async def bump(user: User = Depends(get_current_user_async), db: AsyncSession = Depends(get_async_db_session)):
        await db.execute(update(User).where(User.id == user.id).values(visits=User.visits + 1))
        await db.commit()
        if user is not None:
            await db.refresh(user)
        return {"visits": user.visits}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM259",
    name="stale-after-commit",
    summary=(
        "an object is read after commit, which the synchronous sessionmaker reloaded "
        "(expire_on_commit=True) and phase two cannot refresh there (stale data)"
    ),
    fix="add `db.refresh(obj)` after the commit (or reload the object), then rerun phase two",
    doc=__doc__,
)
