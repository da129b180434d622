"""AM223 self-check: the rewritten code, analysed again, would misbehave, so the routes reaching it stay synchronous

Phase two analyses its own output before showing or writing anything; a route whose
rewrite would misbehave is blocked and the rest planned again.

Before:

    def titles(session: Session):
        return [b.title for b in list_books(session)]

After:

    def titles(session: Session):  # blocked: list_books would be an un-awaited coroutine here
        return [b.title for b in list_books(session)]
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM223",
    name="self-check",
    summary=(
        "the rewritten code, analysed again, would misbehave, so the routes reaching it stay "
        "synchronous"
    ),
    fix=(
        "the message names what would go wrong (an un-awaited coroutine, two Sessions in one "
        "request); migrate that part by hand"
    ),
    doc=__doc__,
)
