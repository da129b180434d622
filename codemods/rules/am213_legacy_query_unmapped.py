"""AM213 legacy-query-unmapped: a legacy `session.query(...)` chain has no exact 2.0 `select()` form the tool can write

The message names the method and why (`.from_self()`, `.yield_per()`, keyword arguments,
unknown methods).

Before:

    session.query(Book).from_self().all()

After:

    sub = select(Book).subquery()
    (await session.scalars(select(aliased(Book, sub)))).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM213",
    name="legacy-query-unmapped",
    summary="a legacy `session.query(...)` chain has no exact 2.0 `select()` form the tool can write",
    fix="rewrite it by hand as a `select()` statement, or keep the route on the synchronous path",
    doc=__doc__,
)
