"""AM113 awaited-by-caller: another function awaits this handler, which would break if it became `def`

A dependency or route that a project function awaits must stay a coroutine function.

Before:

    async def current_user(session: SessionDep): ...

    async def admin(session: SessionDep):
        user = await current_user(session)

After:

    def current_user(session: SessionDep): ...

    def admin(session: SessionDep):
        user = current_user(session)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM113",
    name="awaited-by-caller",
    summary="another function awaits this handler, which would break if it became `def`",
    fix="call it without `await` there, then rerun phase one",
    doc=__doc__,
)
