"""AM290 session-entered-by-hand: the function enters the Session it opens without a `with` statement, which phase two cannot make `async with`

A Session entered by calling its context manager's `__enter__()` (`db =
SessionLocal.begin().__enter__()`, or `cm = SessionLocal.begin()` then `db = cm.__enter__()`),
or handed to `contextlib.ExitStack.enter_context(...)`, is the Session a `with` statement would
give, and `check` follows it as one. Phase two rewrites only a `with` statement to `async with`:
the same call on an AsyncSession (which has no `__enter__`, and whose `begin()` context manager
is entered with `await ....__aenter__()`) would fail, and the transaction `__exit__` commits would
be left to code it does not read. The function is blocked, naming the opening.

Before:

    def read_books():
        db = SessionLocal.begin().__enter__()
        return db.scalars(select(Book)).all()

After:

    def read_books():
        with SessionLocal.begin() as db:
            return db.scalars(select(Book)).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM290",
    name="session-entered-by-hand",
    summary=(
        "the function enters the Session it opens without a `with` statement (`__enter__()`, "
        "`ExitStack.enter_context`), which phase two cannot make `async with`"
    ),
    fix="open it with `with ... as session:`, then rerun phase two",
    doc=__doc__,
)
