"""AM322 blocking-worker-coroutine: an `async def` something else runs does synchronous Session work on its event loop

An `async def` no handler reaches, handed as a value to what runs it (an arq worker's
`functions = [...]`, `cron_jobs = [cron(job)]` or `on_startup`, `func(job)`, an
`AsyncIOScheduler().add_job(job)`, `anyio.run(main)`), runs on that runner's event loop:
its synchronous Session work, done directly or through a helper declared to take a Session
(the runner's `ctx["session_factory"]()` is a Session the flow cannot name), stops every other
job there until it returns. Phase one
converts no such function (it is no FastAPI handler) and phase two moves no caller of it,
so `check` reports it rather than leave it out of the all-clear. Silence with
`# async-migrate: ignore[AM322] reason`.

Before:

    async def rebuild_index(ctx, doc_id):
        with SessionLocal() as db:
            crud.rebuild_document_index(db, doc_id)

    class WorkerSettings:
        functions = [rebuild_index]

After:

    def _rebuild(doc_id):
        with SessionLocal() as db:
            crud.rebuild_document_index(db, doc_id)

    async def rebuild_index(ctx, doc_id):
        await asyncio.to_thread(_rebuild, doc_id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM322",
    name="blocking-worker-coroutine",
    summary="an `async def` something else runs (a worker's job, a scheduler's) does synchronous Session work on its event loop",
    fix=(
        "move the Session work into a plain def helper and `await asyncio.to_thread(helper, ...)`, use an "
        "AsyncSession there, or make the job a plain def where its runner takes one"
    ),
    doc=__doc__,
)
