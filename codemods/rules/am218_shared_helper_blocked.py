"""AM218 shared-helper-blocked: with `--shared block`, a route needs a helper that code outside the subsystem also calls

The default (`--shared twin`) adds an async twin of the helper instead.

Before:

    async-migrate phase2 PATH --subsystem api/books.py --shared block

After:

    async-migrate phase2 PATH --subsystem api/books.py
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM218",
    name="shared-helper-blocked",
    summary="with `--shared block`, a route needs a helper that code outside the subsystem also calls",
    fix="migrate the other callers too, or run without `--shared block` to get an async twin",
    doc=__doc__,
)
