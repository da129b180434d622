"""AM210 rebinds-session: the function rebinds its Session to another name the tool does not follow

Calls through the other name would not be awaited, so the routes that reach the function
stay on the synchronous path. So do a Session bound by `:=` (`if (s := db) is not None`), or
put in a display that is bound or looped over (`s, n = db, name`, `ctx = {"db": db}`,
`for s in (db, audit_db)`).

Before:

    def list_books(session: Session):
        db = session
        return db.scalars(select(Book)).all()

After:

    def list_books(session: Session):
        return session.scalars(select(Book)).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM210",
    name="rebinds-session",
    summary="the function rebinds its Session to another name the tool does not follow",
    fix="use the Session under its own name",
    doc=__doc__,
)
