"""AM114 pragma: an `# async-migrate: ignore[...]` pragma keeps or acknowledges a handler that blocks

A pragma on the `def` line (or the line above) that silences `blocking-session` (AM301)
keeps a handler phase one would convert exactly as it is ("kept by pragma"); on a handler
phase one keeps anyway it only acknowledges the blocking ("acknowledged by pragma").

Before:

    # async-migrate: ignore[AM301] the commit moves to AsyncSession next sprint
    async def publish(session: SessionDep):
        session.commit()

After:

    # async-migrate: ignore[AM301] the commit moves to AsyncSession next sprint
    async def publish(session: SessionDep):  # unchanged, reason reported
        session.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM114",
    name="pragma",
    summary="an `# async-migrate: ignore[...]` pragma keeps or acknowledges a handler that blocks",
    fix="none: the pragma documents the exception; remove it once the handler no longer blocks",
    doc=__doc__,
)
