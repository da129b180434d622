"""AM286 await-splits-check: phase two would add an await between a check of shared state and the change it decides

On the event loop, the code between two awaits runs with no other request in between: an
`async def` route on the synchronous Session checking state every request shares
(`if key in SEEN_KEYS: raise HTTPException(409)`) and changing it later (`SEEN_KEYS.add(key)`)
does both as one step. Phase two makes its Session calls awaits (`await db.commit()`); one
between the check and the change lets another request pass the same check while this one waits,
and both act (a duplicate row, a lost update). The same holds for a read-modify-write whose value
is read before the await and stored after it (`TOTAL += db.scalar(...)`). Shared state is what
AM140 judges it to be (a module-level name or object, the application's state, a shared
instance). Such a function is blocked with the check, the await and the change named.
No reason: a change made before the first new await (`SEEN_KEYS.add(key)` then `await
db.commit()`), a check and change inside one `async with LOCK:` on an `asyncio.Lock` (or `with
LOCK:` on a `threading.Lock`), a lazy initialisation (`if _client is None: _client = build()`),
and an `async def` already awaiting between the two: that race predates phase two (`check`
leaves it alone too). A row the route loads through its Session and writes back from its own
value, or claims, is state the database keeps: the route migrates, with a note (AM287).

Before:

    SEEN_KEYS: set[str] = set()

    @router.post("/imports/{key}")
    async def import_once(key: str, db: SessionDep):
        if key in SEEN_KEYS:
            raise HTTPException(409)
        db.add(Customer(name=key))
        db.commit()
        SEEN_KEYS.add(key)

After:

    # blocked: fix it by hand, either way, then rerun phase two
    async def import_once(key: str, db: AsyncSessionDep):
        if key in SEEN_KEYS:
            raise HTTPException(409)
        SEEN_KEYS.add(key)  # claimed before the await
        db.add(Customer(name=key))
        try:
            await db.commit()
        except Exception:
            SEEN_KEYS.discard(key)
            raise

    IMPORT_LOCK = asyncio.Lock()

    async def import_once(key: str, db: AsyncSessionDep):
        async with IMPORT_LOCK:
            if key in SEEN_KEYS:
                raise HTTPException(409)
            db.add(Customer(name=key))
            await db.commit()
            SEEN_KEYS.add(key)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM286",
    name="await-splits-check",
    summary="phase two would await a Session call between a check (or read) of state every request shares and "
    "the change it decides, letting other requests run in between on the event loop",
    fix="make the change before the first await (claim the key, undo it on failure), or hold an `asyncio.Lock` "
    "(`async with lock:`) around the check and the change, then rerun phase two",
    doc=__doc__,
)
