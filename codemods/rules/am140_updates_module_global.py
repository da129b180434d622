"""AM140 updates-module-global: an `async def` handler updates a module-level name from its own value

On the event loop, the code between two awaits runs with no other request in between: a
handler's `global hits; hits += 1` reads and writes the module's name as one step. As `def`,
FastAPI runs it in the threadpool, where concurrent requests run it in several threads at
once and one thread's update can overwrite another's (a lost update). A handler that updates
a name it declares `global` from the name's own value (`n += 1`, `n = n + 1`,
`seen = seen | {x}`) stays `async def`. A plain rebinding (`_client = build()`) is not such
an update. So does a dependency that is a method of an instance every request shares, the
`__call__` of `limiter = RateLimiter(5)` or of `Depends(RateLimiter(5))` (built once, at
import), updating an attribute of `self` from its own value (`self.calls += 1`,
`self.hits[key] = self.hits.get(key, 0) + 1`); a class FastAPI builds per request
(`Depends(ItemService)`) is not shared.

Before:

    hits = 0

    async def list_items(db: SessionDep):
        global hits
        hits += 1
        return db.scalars(select(Item)).all()

After:

    async def list_items(db: SessionDep):  # kept: as `def`, concurrent requests could lose updates
        global hits
        hits += 1
        return db.scalars(select(Item)).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM140",
    name="updates-module-global",
    summary="an `async def` handler updates a module-level name (or an attribute of an instance every "
    "request shares) from its own value, which concurrent threads could interleave as `def`",
    fix="keep it async and offload the Session work (`await run_in_threadpool(...)`), or guard the "
    "update with a `threading.Lock` and make it `def` by hand",
    doc=__doc__,
)
