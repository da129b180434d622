"""AM119 unknown-keyword: a call passes the Session as a keyword the called project function has no parameter for

Reported beside the handler's decision, so the bug is seen before the migration: the
Session never reaches the helper.

Before:

    def save(book, session): ...

    save(book, db=session)

After:

    save(book, session=session)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM119",
    name="unknown-keyword",
    summary="a call passes the Session as a keyword the called project function has no parameter for",
    fix=(
        "pass it under the parameter's real name: as written, the call raises TypeError when "
        "it runs"
    ),
    doc=__doc__,
)
