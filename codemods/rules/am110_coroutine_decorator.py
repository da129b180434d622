"""AM110 coroutine-decorator: a project decorator awaits the function it wraps, so the handler must stay a coroutine function

The decorator is defined in the project and its wrapper does `await func(...)`: as a `def`
the handler would return a plain value where a coroutine is awaited.

Before:

    def audited(func):
        async def wrapper(*args, **kwargs):
            return await func(*args, **kwargs)
        return wrapper

    @router.get("/books")
    @audited
    async def read_books(session: SessionDep): ...

After:

    @router.get("/books")
    @audited
    async def read_books(session: SessionDep): ...  # kept
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM110",
    name="coroutine-decorator",
    summary=(
        "a project decorator awaits the function it wraps, so the handler must stay a "
        "coroutine function"
    ),
    fix=(
        "make the decorator accept plain functions (phase one then converts it), or offload "
        "the Session work"
    ),
    doc=__doc__,
)
