"""AM130 used-as-coroutine: another function calls this handler without `await` and uses what it returns, a coroutine, which a `def` would not return

A call of an `async def` function returns a coroutine (an async generator, for one that
yields). Code that calls the handler without awaiting it uses that object: hands it to
`asyncio.run(...)`, `asyncio.create_task(...)`, `asyncio.gather(...)`, iterates it with
`async for`, enters it with `async with`, keeps it to await later. As a plain `def` the
handler would run there and then (or return a plain generator) instead: those uses would
fail ("a coroutine was expected", "'generator' object is not an async iterator") or behave
differently. Every such call counts, even a bare `f()` statement (which runs nothing now and
would run the body as `def`). The handler stays async until its callers stop treating it as
a coroutine.

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
