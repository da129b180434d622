"""AM304 unverified-session: an `async def` handler may do synchronous Session work the analysis cannot see

Its only Session evidence is a Session-carrying call whose target cannot be resolved (the
Session handed to third-party code, a method of an object built from the Session by unseen
code, disagreeing implementations of an abstract method, a function taken out of a container
whose values cannot be read: `HOOKS[kind]()` with `HOOKS` built at run time, changed elsewhere
or imported from outside the project; a job taken out of a queue of work filled at run time,
`job, kwargs = QUEUE.popleft(); job(**kwargs)`, where the project hands on functions doing
synchronous Session work or taking a Session, `enqueue(record, db=db)`; a Session reached
through a project object that keeps another the analysis cannot read: `service.repo.session.commit()` where `repo`'s class is
imported from outside PATH or built by a factory it cannot resolve). A `def` route or dependency
given a dependency by the call of a project function whose result the analysis cannot resolve
(`Depends(require("admin"))`, `require` returning `CHECKS[perm]`) is unverified too: FastAPI runs
what it returns on the event loop when that is a coroutine function (an `async def __call__`); a
factory declared or seen to return an instance of a project class with `__call__` (`def
require(perm) -> Check`) is that `__call__`, listed and checked like `Depends(Check("admin"))`.
Not an all-clear: `check` fails
until the types are visible or the handler is acknowledged with
`# async-migrate: ignore[AM304] reason` (or `ignore[unverified-session]`).

Before:

    def get_repo(db: Session = Depends(get_db)):
        return make_repository(db)

    @router.get("/items")
    async def list_items(repo=Depends(get_repo)):
        return repo.list()

After:

    def get_repo(db: Session = Depends(get_db)) -> ItemRepository:
        return make_repository(db)

    @router.get("/items")
    def list_items(repo: ItemRepository = Depends(get_repo)):
        return repo.list()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM304",
    name="unverified-session",
    summary="an `async def` handler may do synchronous Session work the analysis cannot see",
    fix=(
        "annotate the dependency's return type or the object's class so the analysis can follow "
        "it (a dependency read off an object the route closes over, `Depends(self.db_func)`: annotate "
        "the parameter, `db: Session = Depends(self.db_func)`), or acknowledge with "
        "`# async-migrate: ignore[AM304] reason`"
    ),
    doc=__doc__,
)
