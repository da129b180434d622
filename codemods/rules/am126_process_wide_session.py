"""AM126 process-wide-session: the handler uses one Session object the whole process shares

A module global `db = SessionLocal()`, or `self.db = SessionLocal()` on an object the module
creates once, is safe while every route using it is `async def`: they all run on the event
loop thread, one at a time. As `def`, FastAPI runs them in its threadpool, so concurrent
requests use that one Session from several threads at once; a `Session` is not thread-safe,
and requests fail or interleave their transactions ("This session is provisioning a new
connection; concurrent operations are not permitted", flushes colliding). Phase one keeps the
handler, and `--offload-mixed` offloads none of its calls.

Found from a handler down every function it reaches (`Project.all_calls_from`):

- a Session method called on a module-level reference that holds one Session object: a global
  assigned `SessionLocal()`, `Session(engine)`, or an attribute of a module-level instance that
  holds one (`repo.db.query(...)` with `repo = Repo()`);
- a Session method called on `self.attr` in a method of a class that assigns `self.attr` a
  Session it opens itself (not one passed in: in `__init__`, or in a unit of work's `__enter__`
  on each use), when the handler works on an instance of that class that lives as long as the
  process: a module-level one it names or a dependency hands it (`_uow`), or one a module-level
  object keeps (`bus.uow`, also through `bus.handle()`), or one the application's state keeps
  (`request.app.state.bus.uow`, set in the lifespan), or one an `@lru_cache` / `@cache` function
  returns or keeps (`Depends(get_bus)` then `bus.uow`), or one a provider hands every caller (a
  dependency-injector `providers.Singleton`, injected by `Provide[Container.uow]` or called; a
  project provider whose `__call__` keeps what it built first in `self._instance`), or one a
  `@cached_property` of a module-level container keeps (`container.uow`), or the one the handler
  itself is a bound method of (`add_api_route("/count", h.count)`, `router.get("/count")(h.count)`,
  `Depends(h.count)`, a method an instance adds to its own router): FastAPI calls that one
  instance for every request. Another module-level instance of the class does not make the
  handler's own per-request one shared;
- a Session method called on `self.attr` where the class receives that Session and an instance
  of it is built with a Session opened right there by code that keeps what it returns: a
  `@cached_property` of a module-level instance (a container), an `@lru_cache` function
  (possibly: other instances of the class may get a Session per request);
- a Session method called on what a function under `@lru_cache` / `@cache` returns: called
  directly (`shared_session().query(...)`), bound to a local first, or given as a dependency
  (`db: Session = Depends(get_cached_db)`): the cache hands every caller the one Session it
  opened first;
- Session work on what a dependency-injector provider makes when that is, or works on, one Session
  for the whole process (`provided_sessions.py`), injected (`svc = Depends(Provide[Container.users])`:
  a Session method called on it, or a method of it or a function handed it reaching Session work) or
  called (`container.users()`): a Session a `providers.Singleton` (`ThreadSafeSingleton`, the
  `Delegated` ones) makes once, or a `providers.Resource` initialises once and hands every injection
  until it is shut down (a `Closing[...]` marker shuts it down after one call, while other requests
  may hold it still); an object a provider of any kind builds on such a one (`users =
  providers.Factory(UserService, session=session_factory)`, also through other providers, or a
  provider written in place); an object a single-instance provider builds once with a Session from
  any provider (`providers.Singleton(UserService, session=per_call_session)`); a Session the
  container's class body opens (`session=SessionLocal()`), or a `providers.Object` hands as it is
  (`providers.Object(SessionLocal())`, or of a module-level Session). Possibly shared (the reason
  says the analysis cannot tell): what a provider is given at run time, a `providers.Dependency()`,
  an abstract provider or a selector, which the application or a test may fill with one Session
  for the process. Not shared: a `providers.Factory` of the
  sessionmaker (one per call), a `ThreadLocalSingleton` (one per worker thread) or a
  `ContextLocalSingleton` (one per context) of it, a singleton of a class given no Session;
- any of these behind a local name (`s = db`) or a project function's result
  (`current_session()` returning `db`), followed to the expressions that made them.

Not shared: what a `ContextVar` the project sets to a Session holds (`_session.get()`, also
through a property handing it out, fastapi-sqlalchemy's `db.session`): a worker thread runs a
`def` route in a copy of the request's context, so it reads that request's Session. Nor is a
`scoped_session(...)`, thread-local, each thread getting its own Session (AM132's harm instead).

Before:

    SessionLocal = sessionmaker(engine)
    db = SessionLocal()

    @app.post("/counter")
    async def bump():
        db.execute(insert(Counter))
        db.commit()

After:

    # a Session per request, by hand; phase one then converts the route

    def get_db():
        with SessionLocal() as db:
            yield db

    @app.post("/counter")
    async def bump(db: Session = Depends(get_db)):
        db.execute(insert(Counter))
        db.commit()

A `scoped_session(SessionLocal)` global scoped to the request (`scopefunc=`) converts as usual;
one scoped to the thread (the default) is AM132.
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM126",
    name="process-wide-session",
    summary="the handler uses one Session object shared by the whole process: as `def` it would be "
    "used from several threadpool threads at once",
    fix="give each request its own Session (a dependency yielding `SessionLocal()`), or make the global "
    "a `scoped_session(SessionLocal, scopefunc=...)` scoped to the request; then run phase one again",
    doc=__doc__,
)
