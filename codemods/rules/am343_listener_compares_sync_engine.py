"""AM343 listener-compares-sync-engine: a listener the async sessions run tells the database apart by comparing with the synchronous engine

A listener on the `Session` class (or on the class the async sessions run as
`sync_session_class=`), or on a mapped class, runs for the migrated routes' AsyncSessions too.
When it decides what to do by comparing the Session's bind, or a mapper event's connection's
engine, with the synchronous engine, the answer changes after phase two: the Session behind an
AsyncSession is bound to the async engine's `.sync_engine`, another Engine object, so `is`,
`==` and `in` no longer match and the listener silently skips (or starts doing) its work for
every migrated route. Nothing raises, and `check` cannot see it. Phase two blocks the stack
naming the comparison.

Before:

    @event.listens_for(Session, "after_commit")
    def _publish(session):
        if session.bind is orders_engine:
            outbox.flush()

After:

    # written by hand beside the synchronous engine; phase two reuses it
    async_engine = create_async_engine(_async_url(orders_engine.url))

    @event.listens_for(Session, "after_commit")
    def _publish(session):
        if session.bind in (orders_engine, async_engine.sync_engine):
            outbox.flush()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM343",
    name="listener-compares-sync-engine",
    summary="a Session or mapper event listener the async sessions run compares with the synchronous engine: "
    "it would change what it does for migrated routes",
    fix="write the async engine by hand and compare with its `.sync_engine` as well "
    "(`session.bind in (engine, async_engine.sync_engine)`), then run phase two again",
    doc=__doc__,
)
