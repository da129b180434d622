"""AM143 session-on-shared-object: a handler stores the request's Session on an object every request shares

A repository registry, a module-level repository or a class handed the request's Session before
use (`REGISTRY["Order"].session = db`, `repo.session = db` on a module-level `repo`,
`setattr(REPO, "session", db)`, `Repo.session = db`, also in a plain helper the handler calls in
place, such as a `repo_for(name, db)` returning the registry's item): the object keeps whichever
request stored last. In an `async def` with no await between the store and the use, no other
request runs in between. As `def`, FastAPI runs the handler in its threadpool: concurrent requests
overwrite each other's store, and one request's queries run on another request's Session, from
two threads at once. Phase one keeps such a handler `async def`; `check` names the store; phase
two blocks it, since the awaits it would add between the store and the use let other requests in.
A module-level `threading.local()` is each thread's own (AM141), not shared.

Before:

    REGISTRY = {"Order": OrderRepo()}

    @router.get("/orders/{order_id}")
    async def read_order(order_id: int, db: Session = Depends(get_db)):
        REGISTRY["Order"].session = db
        return REGISTRY["Order"].get(order_id)

After:

    @router.get("/orders/{order_id}")
    async def read_order(order_id: int, db: Session = Depends(get_db)):  # kept: the registry's repository is shared
        REGISTRY["Order"].session = db
        return REGISTRY["Order"].get(order_id)

    # fixed by hand, it converts: a repository per request
    @router.get("/orders/{order_id}")
    def read_order(order_id: int, db: Session = Depends(get_db)):
        return OrderRepo(db).get(order_id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM143",
    name="session-on-shared-object",
    summary="an `async def` handler, or a helper it calls, stores the request's Session on an object every "
    "request shares (a module-level object, a registry's item, a class), which concurrent threads would "
    "overwrite as `def`",
    fix="give each request its own object built with its Session (`OrderRepo(db)`, a dependency returning one) "
    "instead of storing the Session on the shared one, then rerun phase one",
    doc=__doc__,
)
