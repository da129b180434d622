"""AM255 held-session-parallel: a class holding the Session that synchronous code also uses gets a parallel async class

When code that stays synchronous (another subsystem's routes, a dependency other routes
use, a call the tool cannot resolve) also uses a class whose instances hold the Session,
the class stays as it is and a parallel class is added right after it: the same body,
named `<Class>Async` (or `<Class>Async2`, ... when taken), whose `__init__` takes the
AsyncSession and whose methods working on the held Session are `async def` with awaited
Session calls (every method is copied, so a later subsystem's routes find the ones they need
there too). A service building its repositories in its `__init__` (`self.items =
ItemRepository(session)`) builds their parallel classes in its copy. The migrated code builds and annotates the parallel class, and the
dependency building it gets an async twin that takes the AsyncSession dependency. A class
FastAPI builds itself (`Depends(UserRepo)`, `Annotated[UserRepo, Depends()]`, an alias of
either) is injected as the parallel class by the migrated routes; its `__init__` takes
`AsyncSession = Depends(get_async_db)`. Used by the migrated routes alone, such a class
moves in place (AM252). A method that cannot become `async def` (a generator a
`StreamingResponse` iterates, an async generator, a property, one with a blocker of its own) and
the methods calling it are left out of the copy: the routes calling only the others migrate onto
it, even with no synchronous user (in place, that method would run the AsyncSession's calls
without `await`), and the routes calling it stay blocked, naming it (`Publisher.lines`).

Before:

    class UserRepo:
        def __init__(self, db: Session):
            self.db = db

        def get(self, user_id: int) -> User | None:
            return self.db.get(User, user_id)

    def get_repo(db: Session = Depends(get_db)) -> UserRepo:
        return UserRepo(db)

After:

    class UserRepo:  # unchanged, for the synchronous users
        ...

    class UserRepoAsync:
        def __init__(self, db: AsyncSession):
            self.db = db

        async def get(self, user_id: int) -> User | None:
            return await self.db.get(User, user_id)

    async def get_repo_async(db: AsyncSession = Depends(get_async_db)) -> UserRepoAsync:
        return UserRepoAsync(db)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM255",
    name="held-session-parallel",
    summary="a class holding the Session that synchronous code also uses gets a parallel async class",
    fix="nothing to do: once every user has migrated, delete the synchronous class and rename the async one",
    doc=__doc__,
)
