"""AM229 held-session-read-outside: code outside a class holding the Session reads that Session through an instance

A repository moving to the AsyncSession holds an AsyncSession afterwards. A service reaching
past it for the Session (`db = self.repo.session`) would then hand an AsyncSession to code the
tool does not follow from there (`count_named(db, name)` returns a coroutine, never awaited):
the routes reaching that read are blocked, naming it.

Before:

    class ItemService:
        def __init__(self, repo: ItemRepository) -> None:
            self.repo = repo

        def create(self, name: str) -> int:
            db = self.repo.session          # the repository's Session, read from outside
            if count_named(db, name):
                raise ValueError(name)
            return self.repo.add(Item(name=name)).id

After:

    # unchanged; the routes reaching ItemService.create are blocked

    class ItemService:
        def create(self, name: str) -> int:
            db = self.repo.session
            ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM229",
    name="held-session-read-outside",
    summary="code outside a class holding the Session reads that Session through an instance",
    fix="give the repository a method doing that work (`self.repo.count_named(name)`), or pass the "
    "route's Session down instead",
    doc=__doc__,
)
