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
    fix="keep one, or write the async stack by hand and phase two will reuse it",
    doc=__doc__,
)
