"""AM215 session-passed-to-unknown-call: the Session is handed to a call phase two cannot point at an async form

Unverified: the tool cannot see what the callee does with the Session, or cannot write the call
so that it awaits the async form. The callee is a library's with no known async form
(`paginate_books(session, query)` from an installed package: map it in call-mappings), or the
project's own code called where phase two cannot point the call at an async twin: a function
or class picked at run time out of a table (`OPERATIONS[name](db, **params)`), looked up by
name, held in a local name or parameter (`repo_cls(db)`), bound into `functools.partial`, a
background task handed the Session, a listener registered on it. Each reason says which, and how
to write the call so phase two migrates it. A Session member named by a string
(`getattr(db, "commit")()`, `setattr(db, "autoflush", False)`) is no call to map: the reason
says to write it by name (`db.commit()`), which phase two migrates.

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
    summary=(
        "the Session is handed to a call phase two cannot point at an async form: a library call with none "
        "known, or project code picked at run time (out of a table, by name, from a local name) or run later"
    ),
    fix=(
        "a library call with an async form: add it to [tool.async-migrate] call-mappings; project code: call "
        "the function or class by its name there (the reason says how)"
    ),
    doc=__doc__,
)
