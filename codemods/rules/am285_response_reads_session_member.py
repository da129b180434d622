"""AM285 response-reads-session-member: the response model reads a member of the returned object that does synchronous Session work

FastAPI validates what a route returns into its response model by reading each field off the
object; for a field named like a `@property` (`cached_property`, `hybrid_property`) of the
object's class, that reads the property. A property querying through the Session the object
belongs to (`object_session(self)`, `inspect(self).session`) does synchronous I/O there, while
the response is serialised: on the event loop for an `async def` route, nowhere in the route's
own body. As `def`, FastAPI validates the result in the threadpool. The validators, computed
fields and serialisers of the response model (and of the models nested in its fields) run there
too; the computed fields and serialisers run again when FastAPI serialises the validated value,
on the event loop for a `def` route too: `check` reports those on the converted route (AM334).

Before:

    class Account(Base):
        @property
        def entry_count(self) -> int:
            return object_session(self).scalar(select(func.count(Entry.id)).where(Entry.account_id == self.id))

    @router.get("/accounts/{account_id}", response_model=AccountOut)  # AccountOut: entry_count: int
    async def read_account(account: Account = Depends(load_account)):
        return account

After:

    @router.get("/accounts/{account_id}", response_model=AccountOut)
    def read_account(account: Account = Depends(load_account)):
        return account
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM285",
    name="response-reads-session-member",
    summary="the response model reads a member of the returned object that does synchronous Session work",
    fix=(
        "make the route a plain def (phase one does), so FastAPI serialises the response in the threadpool; under "
        "AsyncSession, compute the value in the route with the route's Session and return it"
    ),
    doc=__doc__,
)
