"""AM329 optional-session-fallback: a helper that opens its own Session when called without one

`def add_item(name, db: Session | None = None)` that rebinds `db` to a Session it opens when
none is given (`db = db or SessionLocal()`, `if db is None: db = SessionLocal()`, `session =
session or get_session()`) serves two kinds of caller: routes passing the request's Session,
and jobs or other helpers passing none. Migrated, a route hands it the AsyncSession, but the
fallback branch still opens a synchronous Session, which phase two does not move onto the
async sessionmaker (nor await its closing): an `async def` twin would run that Session's work
on the event loop. Phase two blocks the helper and the routes reaching it, naming the line.

Before:

    def add_item(name: str, db: Session | None = None) -> Item:
        db = db or SessionLocal()
        db.add(item := Item(name=name))
        db.commit()
        return item

After:

    # written by hand; phase two then migrates the routes and twins the helper where jobs call it
    def add_item(name: str, db: Session) -> Item:
        db.add(item := Item(name=name))
        db.commit()
        return item


    def add_item_alone(name: str) -> Item:  # for the callers that passed no Session
        with SessionLocal() as db:
            return add_item(name, db)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM329",
    name="optional-session-fallback",
    summary="A helper taking an optional Session opens its own when called without one",
    fix="make the Session parameter required and open a Session in the callers that pass none",
    doc=__doc__,
)
