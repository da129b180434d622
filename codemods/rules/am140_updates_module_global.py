"""AM140 updates-module-global: an `async def` handler updates state every request shares from its own value

On the event loop, the code between two awaits runs with no other request in between: a
handler's `global hits; hits += 1` reads and writes the module's name as one step. As `def`,
FastAPI runs it in the threadpool, where concurrent requests run it in several threads at
once and one thread's update can overwrite another's (a lost update). A handler that updates
shared state from its own value (`n += 1`, `n = n + 1`, `seen = seen | {x}`,
`COUNTS[k] = COUNTS.get(k, 0) + 1`) stays `async def`. Shared state is a name it declares
`global`, an item or attribute of a module-level object or class (`COUNTS[k] += 1`,
`Stats.total += 1`, `cls.total += 1`), or an attribute of `self` on one instance every request
reaches: a route registered as a bound method (`h = Handlers()`,
`router.add_api_route("/hit", h.hit)`, `app.get("/x")(h.hit)`), the `__call__` of a callable
instance dependency (`limiter = RateLimiter(5)`, `Depends(RateLimiter(5))`, built once). The
update may be in a plain `def` helper the handler calls in place, followed through the call
graph (`stats.bump(k)` on a module-level `stats = Stats()` whose method does
`self.hits[k] += 1`, a function doing `global COUNTER; COUNTER += 1`). A class FastAPI builds
per request (`Depends(ItemService)`, a fastapi-utils `@cbv` view) or an instance the handler
builds itself is not shared. No lost update, so no reason: a plain assignment
(`self.last = x`, `_client = build()`), an item assigned without a read (`CACHE[k] = v`), a
single method of a builtin container (`self.items.append(x)`), or an update made (or a helper
called) inside `with lock:` on a `threading.Lock` (a module-level one, or one `__init__` sets
on `self`). A helper under a cachetools cache given no `lock=` (`@cached(TTLCache(...))`, also
through an alias `ttl = cached(...)`, or `@cachedmethod` on a shared instance) updates it on every
call, and so does a write to a module-level cachetools cache (`_cache[k] = v`, `_cache.pop(k)`),
or to one a shared instance holds (`self.cache = TTLCache(...)` in `__init__`, then
`self.cache[k] = v`, `setdefault`, `pop`, `update`, `del` in a method of `service = Service()`):
cachetools locks none of its caches itself, so two threads can corrupt its size and order
bookkeeping; `lock=threading.Lock()`, writes made under `with LOCK:` (`with self.lock:`), or
`cachetools.func.ttl_cache` & co. (which lock), convert. A plain dict, set, list or OrderedDict
takes each such write in one step, as a module-level one does: no reason.
A generator every request shares (a module-level `IDS = _ids()` of a project generator function,
or one `__init__` binds on a shared instance, `self._ids = _ids()`) resumed by `next(IDS)`,
`IDS.send(x)` or `IDS.__next__()`, in the handler or a helper, keeps it too: as `def`, a thread
resuming it while another is inside its frame gets `ValueError: generator already executing`.
`itertools.count()` and iterators over containers are C iterators threads may share: no reason.
A check-then-act on shared state is kept the same way: a read of it (`key in SEEN_KEYS`,
`SEEN.get(k)`, `SEEN[k]`, `len(QUEUE)`, `if QUEUE:`, a comparison, `n = total` of a name it
rebinds) and a later change of it on the same path (`SEEN_KEYS.add(key)`, `.append`, `.update`,
`.pop`, `.setdefault`, `SEEN[k] = v`, `del SEEN[k]`, `total = n + 1` under `global`,
`registry.count = 4` on a module-level instance, `self.keys.add(k)` on a shared one), in the
handler or a plain helper it calls in place: as `def`, two threads can both pass the check
before either acts (duplicate rows, a lost update); the reason names the check and the change
with their lines. No reason: a change with no check before it, a check and change inside one
`with lock:` on a `threading.Lock`, a local container of its own, a project object's own
`.get`/`.update` methods (`crud.task.get(db, id)`), and a lazy initialisation (`if _client is
None: _client = build()`: run twice, it builds two equal objects). Nor is an update of module-level
state (or the application's) made in code a `def` route or dependency already runs in place
(fides' `get_api_session`, checking and setting its `_engine`, which its `def get_db` dependency
calls on every request): FastAPI runs that code in worker threads beside the event loop, so on the
loop it is not alone between the read and the change either, and converting adds no race that is
not there already. Phase two has its own reason
for an await it would add between a check and a change (AM286).
`--offload-mixed` leaves a call reaching any such update on the loop: in the threadpool it would
race as it would in a `def`.

Before:

    SEEN_KEYS: set[str] = set()

    async def import_once(key: str, db: SessionDep):
        if key in SEEN_KEYS:
            raise HTTPException(409)
        db.add(Customer(name=key))
        db.commit()
        SEEN_KEYS.add(key)

    hits = 0

    async def list_items(db: SessionDep):
        global hits
        hits += 1
        return db.scalars(select(Item)).all()

    class Stats:
        def __init__(self):
            self.hits = {}

        def bump(self, key):
            self.hits[key] = self.hits.get(key, 0) + 1

    stats = Stats()

    async def read_item(item_id: int, db: SessionDep):
        stats.bump("read")
        return db.get(Item, item_id)

    class Lookup:
        def __init__(self):
            self.cache = TTLCache(maxsize=100, ttl=60)

        def name(self, db, item_id):
            if item_id not in self.cache:
                self.cache[item_id] = db.get(Item, item_id).name
            return self.cache[item_id]

    lookup = Lookup()

    async def item_name(item_id: int, db: SessionDep):
        return lookup.name(db, item_id)

After:

    async def import_once(key: str, db: SessionDep):  # kept: checks `SEEN_KEYS`, then changes it
        ...

    async def list_items(db: SessionDep):  # kept: as `def`, concurrent requests could lose updates
        global hits
        hits += 1
        return db.scalars(select(Item)).all()

    async def read_item(item_id: int, db: SessionDep):  # kept: `stats.bump` updates `self.hits`
        stats.bump("read")
        return db.get(Item, item_id)

    async def item_name(item_id: int, db: SessionDep):  # kept: `lookup.name` writes `self.cache`
        return lookup.name(db, item_id)

    # guarded by a lock (`self.lock = threading.Lock()` in `__init__`), it converts:
    #     def bump(self, key):
    #         with self.lock:
    #             self.hits[key] = self.hits.get(key, 0) + 1
    def read_item(item_id: int, db: SessionDep):
        stats.bump("read")
        return db.get(Item, item_id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM140",
    name="updates-module-global",
    summary="an `async def` handler, or a helper it calls, updates state every request shares (a module-level "
    "name or object, a class attribute, an attribute of a shared instance) from its own value, which "
    "concurrent threads could interleave as `def`",
    fix="keep it async and offload the Session work (`await run_in_threadpool(...)`), or guard the "
    "update with a `threading.Lock` (`with lock:`; `lock=` for a cachetools cache) and rerun phase one",
    doc=__doc__,
)
