"""AM248 expired-after-commit: an object read after commit on a sessionmaker that expires it

A sessionmaker with `expire_on_commit=True` (the default of `sessionmaker` and of
`async_sessionmaker`) expires every object of the Session on commit. Synchronous code
reloads an expired attribute when it is read; under AsyncSession that read is implicit IO
and raises MissingGreenlet, in the route or while FastAPI serialises the returned object.
Phase two generates its async sessionmaker with `expire_on_commit=False`; when it reuses one
that expires, it adds `await db.refresh(obj)` after the commit for an object the function
made or loaded itself (a list it loaded, `db.scalars(select(Model)).all()`, object by
object; what a helper given its Session returns from one query, `return db.get(Model, pk)`), or
that a dependency sharing the route's Session loaded (`user: User = Depends(get_current_user)`,
a method of `repo: UserRepo = Depends(get_repo)`), and blocks the route when the object read
after the commit came from elsewhere (a dependency on a Session of its own, rows, a list it
changed, any other helper's result). A setting it cannot read (`**options`, a
variable, a factory of the project's own) counts as expiring, and the reason says so; a
keyword of the dependency's own call (`AsyncSessionLocal(expire_on_commit=True)`) overrides
the maker's.

Before:

    AsyncSessionLocal = async_sessionmaker(async_engine)  # existing, reused

    def get_own_user(db: Session = Depends(get_db, use_cache=False)) -> User:
        return db.get(User, 1)

    def rename(user: User = Depends(get_own_user), db: Session = Depends(get_db)):
        user.name = "Zoe"
        db.commit()
        return {"name": user.name}

After:

    AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM248",
    name="expired-after-commit",
    summary="an object is read after commit on an async sessionmaker that expires it (MissingGreenlet)",
    fix="pass expire_on_commit=False to the async sessionmaker, or add `await db.refresh(obj)` "
    "after the commit",
    doc=__doc__,
)
