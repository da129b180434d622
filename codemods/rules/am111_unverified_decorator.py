"""AM111 unverified-decorator: a decorator is not defined in the project: the tool cannot tell whether it needs a coroutine function

Unverified: the decorator comes from a library, so phase one keeps the handler rather than
guess. Listing it as safe lets phase one convert.

Before:

    @router.get("/books")
    @cache(expire=60)
    async def read_books(session: SessionDep): ...

After:

    # pyproject.toml
    [tool.async-migrate]
    safe-decorators = ["fastapi_cache.decorator.cache"]
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM111",
    name="unverified-decorator",
    summary=(
        "a decorator is not defined in the project: the tool cannot tell whether it needs a "
        "coroutine function"
    ),
    fix=(
        "if it works with plain functions, list it under `safe-decorators` in "
        "[tool.async-migrate] and rerun phase one"
    ),
    doc=__doc__,
)
