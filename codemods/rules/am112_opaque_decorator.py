"""AM112 opaque-decorator: a project decorator wraps the handler in a way the tool cannot follow

Unverified: the decorator is in the project but its wrapper's shape (does it await the
function? call it? return it?) is not one the analysis can read, so phase one keeps the
handler.

Before:

    def traced(func):
        return registry.wrap(func)

    @router.get("/books")
    @traced
    async def read_books(session: SessionDep): ...

After:

    @router.get("/books")
    @traced
    async def read_books(session: SessionDep): ...  # kept until traced is listed as safe
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM112",
    name="opaque-decorator",
    summary="a project decorator wraps the handler in a way the tool cannot follow",
    fix=(
        "if it works with plain functions, list it under `safe-decorators` in "
        "[tool.async-migrate] and rerun phase one"
    ),
    doc=__doc__,
)
