"""AM303 bad-pragma: an `# async-migrate: ignore[...]` pragma gives no reason or names an unknown code

A pragma without a reason still silences its handler, but is a finding itself, so every
exception stays documented.

Before:

    # async-migrate: ignore[blocking-sesion]
    async def publish(session: SessionDep): ...

After:

    # async-migrate: ignore[AM301] the commit moves to AsyncSession next sprint
    async def publish(session: SessionDep): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM303",
    name="bad-pragma",
    summary="an `# async-migrate: ignore[...]` pragma gives no reason or names an unknown code",
    fix=(
        "write why the handler may block after the pragma, and name only known codes "
        "(`async-migrate rules`)"
    ),
    doc=__doc__,
)
