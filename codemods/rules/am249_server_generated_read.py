"""AM249 server-generated-read: a column the database computes is read after the flush

Columns the database computes on UPDATE (`onupdate=func.now()`, `server_onupdate=`,
`Computed(...)`, `FetchedValue()`), and a `server_default` where the INSERT cannot return
it, are expired by the flush whatever `expire_on_commit` says. Reading one afterwards
reloads it: implicit IO, which raises MissingGreenlet under AsyncSession, also while FastAPI
serialises the returned object. Phase two adds `await db.refresh(obj)` after the commit for
an object the function made or loaded itself, and blocks the route when the object came from
elsewhere (a parameter, a list, a helper's result).

Before:

    class Item(Base):
        updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    def touch(item: Item, db: Session):  # a helper given the object
        item.name = item.name.strip()
        db.commit()
        return item.updated_at

After:

    async def touch(item: Item, db: AsyncSession):
        item.name = item.name.strip()
        await db.commit()
        await db.refresh(item)
        return item.updated_at
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM249",
    name="server-generated-read",
    summary="a column the database computes is read after the flush expired it (MissingGreenlet)",
    fix="add `await db.refresh(obj)` after the commit, where the object is in reach",
    doc=__doc__,
)
