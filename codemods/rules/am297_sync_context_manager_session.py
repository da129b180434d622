"""AM297 sync-context-manager-session: a unit of work entered with `with` does Session work in `__enter__` or `__exit__`

A unit of work opens, rolls back or closes its Session in `__enter__` / `__exit__`, and the
service layer enters it with `with uow:`. A `with` statement calls both without `await`, so
on an AsyncSession that work (the rollback unless committed, the close) would return
coroutines nobody awaits: the transaction would be left open and the connection never
returned. Phase two does not rewrite a class into an asynchronous context manager and each
`with uow:` into `async with uow:`; the route stays on the synchronous Session, and the
reason names the class and the work its special method does.

Before:

    class SqlAlchemyUnitOfWork:
        def __enter__(self):
            self.session = self.session_factory()
            return self

        def __exit__(self, *args):
            self.session.rollback()
            self.session.close()

    def allocate(orderid, sku, qty, uow):
        with uow:
            ...
            uow.commit()

After:

    class SqlAlchemyUnitOfWork:
        async def __aenter__(self):
            self.session = self.session_factory()  # an async_sessionmaker
            return self

        async def __aexit__(self, *args):
            await self.session.rollback()
            await self.session.close()

        async def commit(self):
            await self.session.commit()

    async def allocate(orderid, sku, qty, uow):
        async with uow:
            ...
            await uow.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM297",
    name="sync-context-manager-session",
    summary="a unit of work entered with `with` does Session work in `__enter__` or `__exit__`",
    fix="keep the route on the synchronous Session, or make the unit of work asynchronous by hand "
    "(`async def __aenter__`/`__aexit__`, `async with uow:` at each use, `await uow.commit()`)",
    doc=__doc__,
)
