"""AM108 awaits-and-blocks: an `async def` handler awaits and also does synchronous Session work (mixed)

A `def` cannot `await`, so phase one keeps the handler and reports the first await. Its
Session work still blocks: `phase1 --offload-mixed` wraps helper calls in
`await run_in_threadpool(...)` where they stand (a statement, a test, an operand, an argument,
`if (u := get_user(db, id)) is None:`), not one whose result is read on (`get_user(db, id).name`).

Before:

    @router.post("/books")
    async def create(book: BookIn, session: SessionDep):
        await notify(book)
        save_book(session, book)

After:

    @router.post("/books")
    async def create(book: BookIn, session: SessionDep):
        await notify(book)
        await run_in_threadpool(save_book, session, book)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM108",
    name="awaits-and-blocks",
    summary="an `async def` handler awaits and also does synchronous Session work (mixed)",
    fix=(
        "move the awaited call out (phase one then converts it), or offload the Session work "
        "(`phase1 --offload-mixed`)"
    ),
    doc=__doc__,
)
