"""AM120 unrecognised-router: a handler registered on a router class the tool does not know is listed, not converted

Unverified: the decorators look like routes (`@api.get(...)`), but the object's class is not
a known FastAPI router, so phase one does not touch the handler.

Before:

    api = VersionedRouter()

    @api.get("/books")
    async def read_books(session: SessionDep): ...

After:

    # pyproject.toml
    [tool.async-migrate]
    router-types = ["app.routing.VersionedRouter"]
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM120",
    name="unrecognised-router",
    summary="a handler registered on a router class the tool does not know is listed, not converted",
    fix="if it is a FastAPI router, add it to `router-types` in [tool.async-migrate] and rerun",
    doc=__doc__,
)
