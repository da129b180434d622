"""AM123 reaches-session-work: the handler calls code that does synchronous Session work through an object

A method of a module-level instance (`Items.get`), of a CRUD base through an exported
instance (`crud.user.get`), of an object holding the Session (`repo.list()` with
`self.db`), of a class used as a dependency, a function taken out of a module-level dict,
list or tuple (`COUNTERS[kind]()`, `[fn() for fn in HANDLERS]`: any of its functions may run),
an attribute read that runs a method (a property; `store.alice` where the class defines
`__getattr__` and declares no `alice`, or `__getattribute__`; a descriptor's `__get__`),
or any helper that reaches one. The reason
shows the chain down to the Session call (`ItemsTable.get -> with get_db() as db -> db.get()`).

Before:

    class ItemsTable:
        def get(self, item_id):
            with SessionLocal() as db:
                return db.get(Item, item_id)

    Items = ItemsTable()

    @router.get("/items/{item_id}")
    async def read(item_id: int):
        return Items.get(item_id)

After:

    @router.get("/items/{item_id}")
    def read(item_id: int):
        return Items.get(item_id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM123",
    name="reaches-session-work",
    summary="the handler calls code that does synchronous Session work, reached through an object",
    fix="phase one converts it to def; with awaits as well, `--offload-mixed` offloads the call",
    doc=__doc__,
)
