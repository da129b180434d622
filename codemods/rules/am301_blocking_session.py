"""AM301 blocking-session: an `async def` route, websocket or dependency does synchronous Session work on the event loop

Found directly, through helpers that take its Session or open one, or through a Session
handed to code outside the project; also through project code an attribute write runs (a
property setter, the class's `__setattr__`: `request.app.state.config.FOO = v` on the
`AppConfig()` the application's state keeps from import or its lifespan) and through methods
called on the items of a collection declared to hold project objects (`self._state[key].save()`
on `_state: dict[str, PersistentConfig]`), or built without annotation (`self._state = {}`) and
filled by the class's methods with project objects (`self._state[k] = PersistentConfig(...)`);
where one of those stores puts in a value the analysis cannot read, it is unverified (AM304). Calls offloaded to `run_in_threadpool` do not count.
Silence one handler with `# async-migrate: ignore[AM301] reason` (or      `ignore[blocking-
session]`).

Before:

    @router.get("/books")
    async def read_books(session: SessionDep):
        return session.scalars(select(Book)).all()

After:

    @router.get("/books")
    def read_books(session: SessionDep):
        return session.scalars(select(Book)).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM301",
    name="blocking-session",
    summary=(
        "an `async def` route, websocket or dependency does synchronous Session work on the "
        "event loop"
    ),
    fix=(
        "run `async-migrate phase1` (it converts what it can); the finding names the fix for "
        "the rest"
    ),
    doc=__doc__,
)
