"""AM252 held-session-moves: a class holding the Session on its instances moves with the routes

A repository or service built per request from the route's Session (`UserRepo(db)` in the
route, or by a dependency such as `get_repo`) and used only by the migrated routes moves in
place: `__init__` takes the AsyncSession, every method working on the held Session becomes
`async def` with awaited Session calls, and every call of those methods is awaited, up
through services holding the repository. The request keeps one Session: the route's and
the repository's are the same object.

Before:

    class UserRepo:
        def __init__(self, db: Session):
            self.db = db

        def get(self, user_id: int) -> User | None:
            return self.db.get(User, user_id)

    @router.get("/users/{user_id}")
    def read_user(user_id: int, db: Session = Depends(get_db)):
        return UserRepo(db).get(user_id)

After:

    class UserRepo:
        def __init__(self, db: AsyncSession):
            self.db = db

        async def get(self, user_id: int) -> User | None:
            return await self.db.get(User, user_id)

    @router.get("/users/{user_id}")
    async def read_user(user_id: int, db: AsyncSession = Depends(get_async_db)):
        return await UserRepo(db).get(user_id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM252",
    name="held-session-moves",
    summary="a class holding the Session on its instances moves with the routes that use it",
    fix="nothing to do: review the class's awaited methods",
    doc=__doc__,
)
