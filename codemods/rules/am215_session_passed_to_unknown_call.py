"""AM215 session-passed-to-unknown-call: the Session is handed to a call outside the project with no known async form

Unverified: the tool cannot see what the callee does with the Session, so it cannot make
it await. A Session member named by a string (`getattr(db, "commit")()`, `setattr(db,
"autoflush", False)`) is no call to map: the reason says to write it by name (`db.commit()`),
which phase two migrates.

Before:

    return paginate_books(session, query)  # from an installed package

After:

    # pyproject.toml
    [tool.async-migrate.call-mappings]
    "pager.paginate_books" = "pager.apaginate_books"
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM215",
    name="session-passed-to-unknown-call",
    summary="the Session is handed to a call outside the project with no known async form",
    fix="add it to [tool.async-migrate] call-mappings if it has an async form",
    doc=__doc__,
)
