"""AM170 claims-loaded-row: a converted handler claims rows its query picked by the column it assigns

A note on a handler phase one converts, not a reason to keep it; the sibling of AM169. The
outbox or job-queue drain loads the rows still to do and marks each done:

    events = db.scalars(select(OutboxEvent).where(OutboxEvent.published == False).limit(100)).all()
    for e in events:
        publish(e)
        e.published = True
    db.commit()

On the event loop, an `async def` handler that never awaits runs from the load to the commit with
no other request of its worker in between. As `def`, FastAPI runs concurrent requests in its
threadpool: two load the same rows before either commits, and both publish each one (measured: 8
concurrent drains over 2,000 events published 16,000). A claim is a column the query's WHERE tests
(`published == False`, `status == "pending"`, `claimed_by.is_(None)`, `.filter_by(status="new")`)
assigned on a loaded object, whatever the value (`e.status = "sent"`, `e.claimed_by = worker`).
Several workers race there already, so phase one converts the handler all the same; the note names
the object, the query's line, the column, the assignment's line, and the fixes: lock the rows as
they load and skip those another request holds (`.with_for_update(skip_locked=True)` on the
select or query), or claim them in one statement and act on what it returns
(`db.scalars(update(OutboxEvent).where(OutboxEvent.published == False).values(published=True)
.returning(OutboxEvent))`).

The object, the handler or helper, and their limits are AM169's: a name the value flow types as a
query of a mapped class on a Session (in the handler or a plain `def` helper it calls in place),
the attribute a column the class declares, the query not written `with_for_update`. No note: a
WHERE column the handler does not assign (`.where(Job.queue == "mail")`, then `job.done = True`:
`done` untested), an assignment to a column the WHERE does not test (a plain update; one computed
from its own value is AM169's), a load written `with_for_update` (with `skip_locked` or not), a
`get` (no WHERE), and an object of unknown origin (a parameter, what a dependency hands over): the
note is advice, its absence no all-clear. Only converted handlers get it, and a kept one's helper
call `--offload-mixed` takes off the loop.

Before:

    @router.post("/admin/outbox/drain")
    async def drain(db: Session = Depends(get_db)):
        events = db.scalars(select(OutboxEvent).where(OutboxEvent.published == False).limit(100)).all()
        for e in events:
            publish(e)
            e.published = True
        db.commit()

After:

    @router.post("/admin/outbox/drain")
    def drain(db: Session = Depends(get_db)):
        events = db.scalars(
            select(OutboxEvent).where(OutboxEvent.published == False).limit(100)
            .with_for_update(skip_locked=True)
        ).all()
        for e in events:
            publish(e)
            e.published = True
        db.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM170",
    name="claims-loaded-row",
    summary="a handler phase one converts (or a helper it calls) loads rows through its Session by a WHERE on a "
    "column it then assigns (`published == False`, then `e.published = True`): as `def`, concurrent requests of "
    "a worker can load the same rows and both claim them",
    fix="lock the rows as they load, skipping those another request holds (`.with_for_update(skip_locked=True)`), "
    "or claim them in one statement (`update(M).where(M.published == False).values(published=True).returning(M)`)",
    doc=__doc__,
)
