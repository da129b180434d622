"""AM297 sync-context-manager-session: a unit of work's `__enter__` / `__exit__` does Session work where phase two cannot make it an asynchronous context manager

A unit of work opens, rolls back or closes its Session in `__enter__` / `__exit__`, and the
service layer enters it with `with uow:`. A `with` statement calls both without `await`, so
on an AsyncSession that work (the rollback unless committed, the close) would return
coroutines nobody awaits: the transaction would be left open and the connection never
returned. A class holding the request's Session (its `__init__` stores a Session parameter:
`UnitOfWork(db)`, built in the route or by a dependency) moves as an asynchronous context
manager: `async def __aenter__`/`__aexit__` with the work awaited, and each `with uow:` entering
it, or `with UnitOfWork(db) as uow:` building it, becomes `async with` (the construction is not
awaited). The route is blocked, naming the class and the place, where the unit of work is entered
otherwise (beside other context managers in one `with`, `uow.__enter__()` called), or where a
context manager phase two does not move that way does Session work in its special methods.

The "Cosmic Python" unit of work, opening its own Session on entry, moves too:
`__init__(self, session_factory=SessionLocal)` storing the factory, `__enter__` opening
`self.session = self.session_factory()` and building the repositories on it (`HolderClass.opened`),
`__exit__` rolling back and closing, the route given it by a dependency taking no parameters
(`Depends(get_uow)` returning it, or yielding it from `with UnitOfWork() as uow: yield uow`,
twinned: `opening_dependencies`) or building it inline
(`SqlAlchemyUnitOfWork()`). The class (in place, or its parallel class beside it while code that
stays synchronous uses it) defines `async def __aenter__`/`__aexit__` with the work awaited, the
factory defaulting to the async sessionmaker (`FunctionPlan.defaults`); the repositories it builds
move with it, and each `with uow:` entering it becomes `async with uow:` (`FunctionPlan.async_with`,
`rename`). A project base it derives from, method bodies and all (Cosmic Python's
`AbstractUnitOfWork`: `__exit__` calling the abstract `rollback`), moves with it
(`holders._interfaces`): `super().__enter__()` becomes `await super().__aenter__()`
(`super_context_call`), and the base gets its own parallel copy beside the parallel class.

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
    summary="a unit of work's `__enter__` / `__exit__` does Session work where phase two cannot make it an "
    "asynchronous context manager",
    fix="enter the unit of work as `with uow:` on a name bound to it, built on the request's Session, or make it "
    "asynchronous by hand (`async def __aenter__`/`__aexit__`, `async with uow:` at each use, `await uow.commit()`)",
    doc=__doc__,
)
