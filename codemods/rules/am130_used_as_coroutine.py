"""AM130 used-as-coroutine: another function calls this handler without `await` and uses what it returns, a coroutine, which a `def` would not return

A call of an `async def` function returns a coroutine. Code that calls the handler without
awaiting it hands that coroutine on: to `asyncio.run(...)`, `asyncio.create_task(...)`,
`asyncio.gather(...)`, `loop.run_until_complete(...)`. As a plain `def` the handler would
run there and then, and return its result instead: those calls would fail ("a coroutine
was expected") or behave differently. The handler stays async until its callers stop
treating it as a coroutine. (A call handed on as an argument counts; a coroutine kept in a
variable to await later is not seen.)

Before:

    @router.get("/direct")
    async def direct(session: SessionDep): ...

    def test_direct(session):
        assert asyncio.run(direct(session)) == ...

After:

    @router.get("/direct")
    def direct(session: SessionDep): ...

    def test_direct(session):
        assert direct(session) == ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM130",
    name="used-as-coroutine",
    summary=(
        "another function calls this handler without `await` and uses what it returns, a coroutine, "
        "which a `def` would not return"
    ),
    fix="call it as a plain function there (drop asyncio.run/create_task around it), then rerun phase one",
    doc=__doc__,
)
