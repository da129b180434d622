"""AM232 name-taken: a name phase two would generate is already used for something else in that module

The tool never shadows an existing name.

Before:

    async_engine = "not an engine"

After:

    # pyproject.toml
    [tool.async-migrate]
    async-engine = "async_db_engine"
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM232",
    name="name-taken",
    summary="a name phase two would generate is already used for something else in that module",
    fix=(
        "choose another name in [tool.async-migrate] (async-engine, async-sessionmaker, "
        "async-dependency)"
    ),
    doc=__doc__,
)
