"""AM276 configured-sessionmaker-not-found: a name in `sessionmakers` names nothing in the project

`[tool.async-migrate] sessionmakers` tells the analysis which callables give Sessions. A name
it cannot find would be ignored, and the routes opening that sessionmaker judged as if it were
not one; phase two stops instead. A sessionmaker an instance's `__init__` sets is named
through the module-level instance, not its class.

Before:

    sessionmakers = ["app.database.Database.SessionLocal"]

After:

    sessionmakers = ["app.database.db.SessionLocal"]
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM276",
    name="configured-sessionmaker-not-found",
    summary="a name in [tool.async-migrate] sessionmakers names nothing in the project",
    fix="name the sessionmaker by its dotted path: a module-level name, or an attribute of a module-level instance",
    doc=__doc__,
)
