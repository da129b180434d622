"""AM283 listener-opens-sync-session: a Session or mapper event listener the async sessions run opens a synchronous Session or does synchronous Session work

A listener on the `Session` class (or on the Session subclass the async sessions run as
`sync_session_class=`) runs for every AsyncSession too: `after_commit`, `before_flush` and the
others are called inside the AsyncSession's own call, on the event loop. Before phase two the
route ran in the threadpool and so did the listener; after it, a listener that opens a
Session of its own on the synchronous engine (`with SessionLocal.begin() as audit:
audit.add(...)`), directly or through what it calls, blocks the event loop on every commit
of every migrated route, and `check` cannot see it: no route calls it. So does a listener on a
mapped class, one of its attributes or every `Mapper` (`before_insert`, `load`, `set`): the
AsyncSession's flush and loads, and the route's own attribute writes, run it on the event loop
as well. Phase two blocks the stack naming the listener. Work on the Session the listener
receives (`session.add(...)` in `before_flush`), or on a mapper event's `connection`, is not
that: it runs on the AsyncSession's connection.

Before:

    @event.listens_for(Session, "after_commit")
    def _audit(session):
        with SessionLocal.begin() as audit:
            audit.add(AuditEntry(actor=session.info["user"]))

After:

    # the write joins the request's own transaction
    @event.listens_for(Session, "before_commit")
    def _audit(session):
        session.add(AuditEntry(actor=session.info["user"]))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM283",
    name="listener-opens-sync-session",
    summary="a Session or mapper event listener the async sessions run opens a synchronous Session: it would block "
    "the event loop",
    fix="do the listener's work on the Session it receives (`session.add(...)` in `before_commit` or "
    "`before_flush`), or on a mapper event's `connection`, or hand it to a worker thread or a queue, then run "
    "phase two again",
    doc=__doc__,
)
