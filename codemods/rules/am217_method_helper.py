"""AM217 method-helper: a method the route reaches cannot become `async def` as it is

Methods of project classes move to AsyncSession like function helpers (`await
crud.user.get(db, id=1)`, an async twin method `get_async` when the class is shared).
Some cannot: a property (reading an attribute cannot await), a special method such as
`__init__` (Python calls it without `await`), a method under a decorator the tool cannot
see through, a call the analysis cannot pin to one implementation, a method of a class
defined where the tool cannot follow it. A plain function helper under a decorator blocks the same way: the
decorator's synchronous wrapper would get the coroutine back unawaited, so what it does
around the call (`try`/`except IntegrityError` turning into a 409, retries, timing) would
no longer cover the Session work. And a route or helper blocks under a decorator whose `async
def` wrapper does synchronous Session work on the Session it hands it (`kwargs["db"].commit()`
after `await fn(*args, **kwargs)`, that Session read into a name or a wrapper parameter, or
handed to a plain `def commit(session)`): phase two does not rewrite the wrapper, which every
function under the decorator shares, and on the AsyncSession that call is a coroutine nothing
awaits (nothing committed, a 200). The reason names the decorator, the wrapper's call and its line.

A method opening a Session of its own from the sessionmaker the async stack replaces moves as
a function doing so does (`async with AsyncSessionLocal() as db:`, a transaction apart from the
request's, as before); opened otherwise, it blocks with that reason (AM262, AM278, AM154).

Before:

    class Catalogue:
        @property
        def titles(self):
            return list(self.db.scalars(select(Book.title)))

After:

    # unchanged: the routes reading `catalogue.titles` stay synchronous; as a plain method
    # (`def load_titles(self)`) it moves with them, `await catalogue.load_titles()`
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM217",
    name="method-helper",
    summary="a method the route reaches cannot become `async def` as it is",
    fix="pass the request's Session to the method as a parameter and keep it a plain method, or migrate it by hand",
    doc=__doc__,
)
