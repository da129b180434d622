"""AM106 unused-session-parameter: an `async def` handler takes a Session parameter it never uses

Nothing blocks, so phase one keeps the handler as it is, and says which parameter is
unused.

Before:

    @router.get("/ping")
    async def ping(session: SessionDep):
        return "pong"

After:

    @router.get("/ping")
    async def ping():
        return "pong"
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM106",
    name="unused-session-parameter",
    summary="an `async def` handler takes a Session parameter it never uses",
    fix="drop the parameter (FastAPI still opens a Session for it on every request), or leave it",
    doc=__doc__,
)
