"""AM314 missing-greenlet: an `async def` handler on an AsyncSession does I/O the async driver only runs inside a greenlet

An AsyncSession's connection is the async driver's: it answers only inside the greenlet that
an awaited Session call (or `await session.run_sync(...)`) starts. Three things in hand-written
async code reach it anywhere else, and raise `MissingGreenlet` when they run:

- a query, commit or flush through `session.sync_session`, the synchronous Session behind the
  AsyncSession, outside `run_sync` (on the event loop, or in `run_in_threadpool`); handing it
  to code that only stores objects (`session.add(...)`) is fine and not reported (nor
  is it AM302's mixed session);
- a relationship the handler's body reads on an object the AsyncSession loaded, that no query
  eager-loads: the lazy load; the same in a project coroutine declared to take an AsyncSession
  that the handler reaches (awaited, however deep, or handed to `add_task`), or in a method of a
  repository holding the AsyncSession as an attribute (`self.db`, declared AsyncSession in the
  class body or `__init__`), at the call; and in a project function the handler hands the object to
  (`return [item_out(b) for b in books]`: a plain `def` reading `item.author`, a hybrid property or
  an association proxy reading it, or a subclass's relationship on a polymorphic query), which runs
  on the loop all the same, unless the query loads what it reads or no class the query gives has
  the attribute. What a route's response model (`response_model=`, or its return annotation)
  reads while FastAPI serialises the objects it returns is the same lazy load, where every value
  it returns comes from its queries (`return await db.get(Book, 1)`, `(await db.scalars(stmt)).all()`,
  a copy of one such list (`list(await db.scalars(stmt))`, `sorted(...)`), a local bound to one): a field naming a relationship of each class they give, not loaded, nested
  fields along the path they are read on (`BookOut.author.books` loads only by
  `selectinload(Book.author).selectinload(Author.books)`), loaded neither by those queries'
  options nor by a refresh or `awaitable_attrs` read of the very object returned. Where the flow
  cannot trace what it returns to a query (a statement a method or helper builds) but an annotation
  says it is of a mapped class (the route's own return annotation beside `response_model=`, or that
  of the project function or method whose result it returns: `-> list[Task]`, or a generic
  repository's `-> list[ModelT]` as the receiver's class binds it, `class TaskRepo(Repo[Task])`), a field naming a
  relationship of that class declared to load lazily, which no loader option of the route's
  closure names, is reported unverified, not cleared (and past one declared eager, the nested
  model's fields on what it leads to: `NoteOut.project.tasks`); so is such a relationship the handler's body
  reads on an object a loader it cannot follow gives (`tag = await crud.tag.get(db, id)`, a
  repository's method, a dependency loading through the AsyncSession however deep: `user: User =
  Depends(get_current_user)`), of the class declared for it (the parameter's annotation, the
  loader's return annotation, a generic CRUD object's TypeVar as its class binds it), read directly,
  through model code (a property reading `self.tag`) or by a schema validated in the body
  (`ItemOut.model_validate(item)`). A dict display
  returned (`{"items": rows, "total": n}` under `response_model=Page[ItemOut]`), or a schema built
  from keywords (`Page[ItemOut](items=rows, total=n)`, validated where it is built), is judged
  field by field: each value the flow traces to such queries is read as the field's model (a type
  parameter standing for the models the response or the construction names); a value it cannot
  trace (a query of columns, a model built otherwise) is not judged, since the fields are matched
  by name only on objects whose class is known. A response field named after a property of those
  classes doing Session work on the Session the object belongs to (`inspect(self).session`) is
  reported too: that is the synchronous Session behind the AsyncSession, and its query raises
  MissingGreenlet as well. A deferred column
  (`deferred(...)`, `mapped_column(deferred=True)`, a deferred `column_property`) no query of the
  handler undefers loads on its first read the same way (fix: `undefer(Model.column)`); a
  lazy="dynamic" relationship is a Query, which no eager load fixes (fix: `lazy="write_only"` and
  `await session.scalars(obj.rel.select())`). An object is one the AsyncSession loaded when a
  `get()` or a select gave it, awaited whole or as `(await db.scalars(stmt)).one()`, or an
  element of the list it returned (`for book in (await db.scalars(stmt)).all()`), the same when
  the awaited result is kept in a local and consumed later (`result = await db.execute(stmt)`
  then `result.scalar_one_or_none()`, `result.scalars().all()`, `for b in result.scalars()`),
  streamed (`async for b in await db.stream_scalars(stmt)`, `async for row in await
  db.stream(stmt)`), or the entity of a row (`result.first().Book`, `result.one()[0]`,
  `for (book,) in result`). Each query is judged by the loader options written in it: a Result
  local bound to two queries is judged by each that may reach the read, never cleared because
  the other eager-loads the relationship; a statement name bound in branches (`if flag: stmt =
  select(Book, Author)` / `else: stmt = select(Book, Author).where(...)`) by each select that
  may reach the query, and `stmt = stmt.options(...)` only where it runs on every path to the query. An option
  loads only the entity its path starts from (`selectinload(Book.author)` loads nothing of a
  Review in the same select; `Load(Book).selectinload("*")` only Book's), a `lazyload` or
  `raiseload` of it wins over a wildcard, and an `aliased(Book)` entity (a local or the module's
  own top-level name) loads by the options written on the alias (`selectinload(b.author)`); a relationship of the object a relationship
  leads to (`b.author.books`, `a = b.author` then `a.books`, the elements of `for x in a.books`, in
  the handler or a helper handed `b`) loads only by a step along that path
  (`selectinload(Book.author).selectinload(Author.books)`), or by its declared `lazy=` unless that is
  `selectin`/`subquery` back to a class already on the path, where SQLAlchemy stops; a collection
  element's many-to-one back to the object holding the collection (`for b in author.books:
  b.author`) is that object, found in the identity map with no query, only where it is the
  collection's other side (`back_populates`/`backref`, or the one such relationship of its class
  where neither names one) and both join the holder's primary key by one foreign key: SQLAlchemy
  fills no other side on load, and a many-to-one with a `primaryjoin` of its own, one over a
  foreign key naming another column (`ForeignKey("authors.code")`), or, unpaired, either side
  picking its `foreign_keys`, queries (another Author, or the same by another key). An attribute named at run time (`getattr(book, field)`) on an
  object whose class has a relationship or deferred column its query does not load is unverified,
  never cleared; so is a read on an object of a class imported from a project module the tool did
  not read (`from app.model_aliases import ItemModel`, that file missing or outside PATH), where
  some model of the project has a relationship, deferred column or property of that name. A relationship the handler reads on the object an `async def` dependency returns
  (`book: CurrentBook`, `CurrentBook = Annotated[Book, Depends(get_book)]`), loaded on the
  AsyncSession it is given and not eager-loaded there, is the same lazy load, on the request's
  Session. An object the handler builds itself (`user = User(...)`), adds to the AsyncSession and
  flushes or commits is one no query loaded: each relationship it reads there loads on first
  read, one declared eager (`lazy="joined"`, a backref's) as well, unless the handler set it
  (`Item(owner=owner)`, `item.owner = owner`) or a refresh names it (still pending, before the
  flush, nothing loads); so does a relationship of what its relationships lead to (`user.org.items`,
  `org = user.org` then `org.items`), found by key with no query of its class. A response model
  field naming a relationship of such an object the route returns, or of what a project function or
  method hands back that may be one (`product = await repo.add(Product(...))`, a method returning
  the object it is given), loads the same way while the response is serialised,
  unless a refresh naming it (in the route, or in that function before it returns) loaded it. The AsyncSession is one the handler is given, or one it opens (`async with maker() as db:`
  on an `async_sessionmaker`, `AsyncSession(engine)`), recognised through an alias in this module or another, in a
  parameter, a class body (`db: SessionDep`) or a `Depends` default (`db=DbDep`);
- an attribute read after an awaited `commit()` on an object the handler added to the
  AsyncSession or loaded through it (a query of its own; what an awaited project coroutine handed
  it returns, declared a mapped object: `item = await crud.item.get_async(db, id=id)`, a generic
  CRUD object's `-> Optional[ModelType]`; a dependency's object, `current_user: User =
  Depends(get_current_user)` or a callable-class instance's (`Depends(RoleChecker("write"))`, its
  `__call__`), where that dependency, however deep, takes its AsyncSession from the
  handler's own Session dependency, which FastAPI caches per request: unverified where it declares
  a mapped class but the analysis cannot trace its loading; not one opening its own Session),
  when the sessionmaker its dependency (or the handler itself,
  `async with maker() as db:`) opens it from keeps
  `expire_on_commit=True` (the default of a hand-made `async_sessionmaker(engine)`), or after a
  `rollback()`, with no awaited `refresh()` of it between (`obj.attr`, or `getattr(obj, name)`, which
  names one of them whatever it names): the read refreshes the row. The same read in a project function
  the object is handed to after the commit (`return summarize(order)`, sync or async, a method, or a
  function that one hands it on to); handed to a project module the tool cannot read (outside PATH,
  missing, not parsed), or to a method a project class inherits from a library
  (`AuthorOut.model_validate(order)`), the finding says so, unverified, not cleared; returned from a
  route whose response model is a project class, the serialiser reads it the same way. The same
  read after its own commit in a project coroutine the handler awaits, however deep (a function
  handed the AsyncSession, a repository method on the one its instance holds: `u = await
  self.db.get(User, id)`, `await self.db.commit()`, `return u.email`, the repository a dependency's,
  built inline or a service's), or the object it returns to a route whose response model reads it,
  expiring as the handler's Sessions do, or as the sessionmaker of the one it enters through a
  project context manager (`async with get_db_context(db) as db:`). A commit
  or rollback the handler makes through an object holding its AsyncSession counts too: an awaited
  method committing `self.db` (`await repo.restock_all(10)`), `await repo.session.commit()` (or
  `await self.uow.session.commit()` in a class-based view) on the Session it keeps, a project
  function it hands the AsyncSession to that commits, rolls back or expires it (`await
  finish(db, order)` ending `await db.commit()`, `db.expire(obj)` of what it is handed, or
  `db.expire_all()`), the end of `async with uow:` or of
  `async with UnitOfWork(db) as uow:` (built on the `with` line, bound to a name or not) whose
  `__aexit__` commits or rolls back, `await self.db.commit()` in a class-based view keeping the
  request's AsyncSession, and a commit through a module-level Session or holder (`db =
  SessionLocal()`, `crud = CRUD(SessionLocal())`). A rollback expires whatever `expire_on_commit`
  says; where the analysis cannot read the sessionmaker such a commit's Session comes from (the
  handler's own AsyncSession too, opened by a factory outside PATH or kept on the application's
  state), or it commits through another object the holder keeps, the read is unverified, not
  cleared. What a module-level AsyncSession (AM338's) loads through the handler's awaited queries
  (`book = await db.get(Book, id)` on `db = SessionLocal()` at import, or on `db = get_session()`
  where an `@lru_cache` function opens it) is read the same way: lazily, or after a commit expired
  it. A route returning an object it refreshed whole (`await db.refresh(order)`, or a project
  function it hands the AsyncSession to did and returns it) along
  a relationship whose cascade holds refresh-expire (`Order.lines` with `cascade="all"`) refreshes
  what that relationship holds too, which can leave their lazy relationships unloaded whatever
  loader options loaded them: a response model reading one (`OrderOut.lines[].product`) loads it
  while the response is serialised.

Read below the `async with` block that opened the handler's AsyncSession (every one it has), each
of these loads on a closed Session instead: the object is detached, and the read raises
`DetachedInstanceError`, which the finding says (fix: read inside the block, loading there what
the read needs).

Silence one handler with `# async-migrate: ignore[AM314] reason`.

Before:

    @router.get("/stats")
    async def stats(db: AsyncSessionDep):
        ticket = await db.get(Ticket, 1)
        return {"by_status": count_by_status(db.sync_session), "comments": len(ticket.comments)}

After:

    @router.get("/stats")
    async def stats(db: AsyncSessionDep):
        ticket = await db.get(Ticket, 1, options=[selectinload(Ticket.comments)])
        return {"by_status": await db.run_sync(count_by_status), "comments": len(ticket.comments)}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM314",
    name="missing-greenlet",
    summary="an `async def` handler on an AsyncSession queries through its `sync_session` outside `run_sync`, "
    "lazy-loads a relationship or a deferred column, or reads an attribute a commit expired: each raises MissingGreenlet "
    "(DetachedInstanceError below the `async with` block that closed the AsyncSession)",
    fix="run synchronous Session code through `await session.run_sync(helper, ...)` (the helper gets the "
    "synchronous Session first) or give it an async form (phase two); eager-load the relationship in the query "
    "(`selectinload(...)`) or undefer the deferred column (`undefer(...)`), or read it as "
    "`await obj.awaitable_attrs.name`; pass `expire_on_commit=False` to the "
    "`async_sessionmaker`, or `await session.refresh(obj)` after the commit",
    doc=__doc__,
)
