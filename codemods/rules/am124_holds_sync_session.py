"""AM124 holds-sync-session: the handler does synchronous Session work on a Session it holds

Not a Session parameter: `self.db` of a class-based view or of the object it is a method
of, a `scoped_session(...)` global, or a Session from an opener the value flow knows
(`with self.Session() as s`, `s = tenant_session(t)`, `with get_db() as db` for
`get_db = contextmanager(get_session)`).

Before:

    @cbv(router)
    class ItemsView:
        db: Session = Depends(get_db)

        @router.get("/items")
        async def list_items(self):
            return self.db.query(Item).all()

After:

    @cbv(router)
    class ItemsView:
        db: Session = Depends(get_db)

        @router.get("/items")
        def list_items(self):
            return self.db.query(Item).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM124",
    name="holds-sync-session",
    summary="the handler does synchronous Session work on a Session it holds (an attribute, a global, an opener)",
    fix="phase one converts it to def when it never awaits",
    doc=__doc__,
)
