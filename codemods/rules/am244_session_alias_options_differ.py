"""AM244 session-alias-options-differ: a Session alias whose `Depends()` keywords the async alias lacks

Phase two points every route parameter typed with a synchronous Session alias at the one async
alias it generates (or reuses), which carries the keywords of one synchronous alias. A second
alias of the same dependency written with other keywords means something else to FastAPI:
`use_cache=False` gives the parameter a Session of its own (an audit row committed while the
request's work is rolled back), `scope="function"` closes and commits it before the response is
sent. Given the async alias instead, the parameter would share the request's Session (its commit
would commit the route's pending work), or be closed at another time. The route stays on the
synchronous Session, naming the alias and the keywords.

Before:

    DbSession = Annotated[Session, Depends(get_db)]
    AuditDb = Annotated[Session, Depends(get_db, use_cache=False)]

    @router.put("/items/{item_id}")
    def update_item(item_id: int, db: DbSession, audit_db: AuditDb): ...

After:

    @router.put("/items/{item_id}")
    def update_item(item_id: int, db: DbSession, audit_db: AuditDb): ...  # blocked, AM244

Without the block, phase two would have written `audit_db: async_session_dependency`: one Session
for both parameters, and `record_audit(audit_db, ...)` committing the route's pending work.
Write the parameter as `audit_db: AsyncSession = Depends(get_async_db_session, use_cache=False)`
by hand (phase two keeps the keywords of a `Depends(...)` default), or add the async alias with
the same keywords and point the parameter at it.
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM244",
    name="session-alias-options-differ",
    summary="a route's Session alias has Depends() keywords (use_cache, scope) the async alias does not carry",
    fix="write the parameter as `name: AsyncSession = Depends(<async dependency>, <same keywords>)`, or give it an "
    "async alias with the same keywords, then run phase two again",
    doc=__doc__,
)
