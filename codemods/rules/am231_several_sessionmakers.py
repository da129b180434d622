"""AM231 several-sessionmakers: several synchronous sessionmakers feed the session dependencies

Phase two builds one async stack; it does not guess which database a subsystem uses.

Before:

    ReadSession = sessionmaker(replica)
    WriteSession = sessionmaker(primary)

After:

    SessionLocal = sessionmaker(primary)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM231",
    name="several-sessionmakers",
    summary="several synchronous sessionmakers feed the session dependencies",
    fix="migrate a subsystem whose routes reach one sessionmaker, or keep one sessionmaker",
    doc=__doc__,
)
