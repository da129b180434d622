"""AM280 relationship-refresh-added: the relationships a response model reads on an object the route builds are loaded by a refresh

FastAPI serialises the returned object after the route returns, outside SQLAlchemy's greenlet: a
relationship the response model nests would load lazily there (AM222). An object the route
builds itself (`Model(...)`, added and committed on its Session) comes from no query an option
could be added to, so phase two refreshes it, naming those relationships, after the last
statement that uses the Session; the plain `refresh` the code had stays where it was (it reloads
the columns, and would expire the relationships again if it came after). Only the response
model's own fields (`BookOut.author`, not `BookOut.author.publisher`) of an object built where
the refresh runs on every path to the return; anything else stays blocked by AM222. A response
field that is a property or hybrid property of the model reading a relationship of the object
itself (`return self.author.name`) is refreshed the same way; one reading further down
(`self.author.publisher`) stays blocked by AM250.

An object a project helper gets by key from the route's own Session (`book = crud.book.get(db,
id=book_id)`, the helper's body `return db.get(self.model, id)`, the class known from the instance
`book = CRUDBook(Book)`) is refreshed the same way, guarded `if book is not None:`, right after the
call, when the route does nothing else but check it for None and return it, and no dependency
shares its Session: a refresh expires the relationship before loading it, so an unflushed change
to it would be lost, and only an object nothing changed since it was loaded is safe. As run
against SQLAlchemy 2.0 (AsyncSession, aiosqlite), a refresh expires the named attributes and then
loads them, autoflushing on the way: an unflushed change to another attribute survives (flushed,
or still held without autoflush), but an unflushed change to the refreshed relationship itself is
lost (`task.labels.append(label)` then the refresh: the association row is never written, with
autoflush or without).

An object whose last Session work commits is refreshed the same way after that commit
(`committed_refresh`): one a project helper builds, adds, commits and returns (the refresh goes
into the migrated helper, after its commit, before its `return`: every migrated caller gets the
relationships loaded, one query more where it does not need them); one a helper is handed, commits
and returns (`return crud.task.update(db, db_obj=task, ...)`: bound to a name in the route,
refreshed on the route's Session, returned); one the route changes and then commits, itself or
through a helper whose last Session work is the commit (`await audit.record(db, ...)`). Only
where that commit runs on every path to the return (a statement of the function's own body, the
only `return` last), the object is in the Session (got, added or refreshed there) and nothing
deletes, expunges, expires, rolls back or closes it, and between the commit and the return
nothing is handed the Session, a dependency's value or the object itself (`task.id` is read,
not handed) nor stores to the object. After a commit nothing of the object is unflushed, so the
refresh loses no change; where the async sessionmaker expires on commit it is not planned (the
columns would stay expired). An object read in the helper before its commit (`label not in
task.labels`) keeps its AM250 block, as does a field further down (`TaskOut.labels.color` through
a relationship of the label).

Before:

    @router.post("/books", response_model=BookOut)  # BookOut.author
    def create_book(payload: BookIn, db: SessionDep):
        book = Book(**payload.model_dump())
        db.add(book)
        db.commit()
        db.refresh(book)
        return book

After:

    @router.post("/books", response_model=BookOut)
    async def create_book(payload: BookIn, db: AsyncSessionDep):
        book = Book(**payload.model_dump())
        db.add(book)
        await db.commit()
        await db.refresh(book)
        await db.refresh(book, attribute_names=["author"])
        return book
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM280",
    name="relationship-refresh-added",
    summary="refreshes an object the route builds, a helper gets by key, or a commit leaves, naming the relationships its response model reads",
    fix="nothing to do; review the added `await session.refresh(obj, attribute_names=[...])`",
    doc=__doc__,
)
