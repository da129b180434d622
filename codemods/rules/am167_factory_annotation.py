"""AM167 factory-annotation: the factory returning a dependency phase one makes `def` is annotated as returning a coroutine function

A dependency factory hands FastAPI the nested function it returns. Once phase one makes that
function a plain `def`, a return annotation promising a coroutine function is wrong, and a
type checker rejects the factory. Where every function the factory returns becomes `def` and
the annotation is written `Callable[P, Coroutine[A, B, R]]` or `Callable[P, Awaitable[R]]`
(also inside `Optional[...]` or beside `None` alone in a union), phase one retypes it
`Callable[P, R]` and drops the imports only it used. Otherwise (a type alias, of this module
or imported from another project module, a string, a union with other types, a factory also
returning a function that stays `async def`) the annotation is left as written and this reason
says it needs a change by hand; an imported name whose binding the analysis cannot read (a
module not read, bound more than once) is reported unverified.

Before:

    def requires_access(method: str) -> Callable[[Request], Coroutine[Any, Any, None]]:
        async def inner(request: Request, session: SessionDep) -> None:
            check(session, method)

        return inner

After:

    def requires_access(method: str) -> Callable[[Request], None]:
        def inner(request: Request, session: SessionDep) -> None:
            check(session, method)

        return inner
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM167",
    name="factory-annotation",
    summary="the factory returning a dependency phase one makes `def` is annotated as returning a coroutine function",
    fix=(
        "none where phase one retyped it; otherwise write the factory's return type as `Callable[P, R]` "
        "by hand (the type alias too, when nothing else uses it)"
    ),
    doc=__doc__,
)
