"""AM339 dependency-gives-another-class: an `async def` handler is written for a class its dependency does not give

FastAPI fills a parameter with whatever its dependency returns or yields; the annotation is read
by type checkers only. A route migrated to an async unit of work, repository or service
(`uow: Annotated[UnitOfWorkAsync, Depends(get_uow)]`, or `ItemServiceAsync(uow)` whose `__init__`
takes a `UnitOfWorkAsync`) while the dependency still builds the synchronous class (`with
UnitOfWork() as uow: yield uow`) runs that class's synchronous Session work on the event loop,
and awaiting the plain values its methods return raises TypeError ("object Item can't be used in
'await' expression"). Reported when the dependency is a project function whose every returned
or yielded value is an instance of a project class that does synchronous Session work, and the
handler's annotation, or the parameter it hands the value to as it is, names a project class
that class does not derive from (a `typing.Protocol` is implemented by shape and not reported).
Silence one handler with `# async-migrate: ignore[AM339] reason`.

Before:

    def get_uow():
        with UnitOfWork() as uow:
            yield uow

    @router.get("/items/{id_}")
    async def read(id_: int, uow: Annotated[UnitOfWorkAsync, Depends(get_uow)]):
        return {"name": await ItemServiceAsync(uow).name(id_)}

After:

    async def get_uow_async():
        async with UnitOfWorkAsync() as uow:
            yield uow

    @router.get("/items/{id_}")
    async def read(id_: int, uow: Annotated[UnitOfWorkAsync, Depends(get_uow_async)]):
        return {"name": await ItemServiceAsync(uow).name(id_)}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM339",
    name="dependency-gives-another-class",
    summary="a parameter is declared as a class (an async unit of work, repository or service) its dependency "
    "does not give: the handler runs on the dependency's synchronous class",
    fix="depend on a dependency that builds the declared class (an async twin of the dependency on the async "
    "sessionmaker), or keep the handler on the synchronous class",
    doc=__doc__,
)
