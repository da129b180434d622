"""AM132 thread-scoped-session: an `async def` handler uses a thread-local `scoped_session`, which as `def` would keep a Session open on every threadpool worker

A `scoped_session(SessionLocal)` without `scopefunc=` gives each thread its own Session. An
`async def` route uses the event loop thread's, and code on that thread (an HTTP middleware
or an async dependency calling `ScopedSession.remove()`) closes it after each request. As a
plain `def` the route runs on a threadpool worker: that `remove()` never reaches the
worker's Session, so it keeps its transaction and connection from one request to the next
(connections "idle in transaction", locks held, the pool exhausted). Phase one keeps the
handler; offloading its calls would do the same harm. A `scopefunc=` naming the thread's
identity (`threading.get_ident`, or greenlet's `getcurrent` as Flask-SQLAlchemy used) is the
same thread-local registry; one naming the asyncio task (`asyncio.current_task`) is worse: a
threadpool worker runs no task, so the call raises RuntimeError and the request fails. One
naming a context variable that nothing in the project sets keys every request on its
default: one Session for all of them, which `def` routes would share across workers; so does one
that only plain `def` dependencies or a startup handler set, since FastAPI runs the first in a
worker thread, where the value stays in that thread's copy of the request's context, and the second
once, for no request. One set to a value that may be the same for two requests (a constant, a
header the client sends, anything but a value made for the request: `uuid4()`, `object()`,
`id(request)`) hands those requests one Session, which as `def` they would use from two workers
at once. The registry is found wherever the value flow's `registry` value reaches: a module-level
name, an attribute of a module-level instance (set in `__init__`, in the class body, handed out
by a property), `self.session` in the methods; a registry whose `scopefunc=` the analysis cannot
read is reported as possibly thread-local, never taken for a request-scoped one.

A route removing the registry itself converts only where the `remove()` runs however the work
is left: in the `finally` of a `try` around all of it (directly, or as the first thing a helper
called there does), or in the `finally` around the `yield` of a `@contextmanager` the work runs in
(`with scope() as session:`). A `remove()` at the end of the body, in an `except`, or under an
`if` is skipped by an exception or an early return: as `def`, a failed request would leave the
worker thread's Session, often mid-transaction, to the next request on that thread.

A dependency handing out the registry's Session (`db = db_session(); yield db`) is the same
harm twice over. It keeps its own `async def` even with `remove()` after the `yield`: FastAPI
runs a plain generator's two halves in two threadpool calls, perhaps on two workers. And the
routes it hands that Session to stay `async def`: every request it serves on one thread gets
that thread's one Session, which `def` routes would use from several workers at once. So do
the routes reading the registry's Session a middleware keeps on the request's state
(`request.state.db = RequestSession()`): an `async def` middleware hands every request the
event loop thread's one Session.

Before:

    ScopedSession = scoped_session(SessionLocal)

    @router.get("/pets/{id}")
    async def read_pet(id: int):
        return ScopedSession.get(Pet, id)

After:

    request_scope: ContextVar[object] = ContextVar("request_scope")
    ScopedSession = scoped_session(SessionLocal, scopefunc=request_scope.get)

    @router.get("/pets/{id}")
    def read_pet(id: int):
        return ScopedSession.get(Pet, id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM132",
    name="thread-scoped-session",
    summary=(
        "an `async def` handler uses a thread-local `scoped_session`, which as `def` would keep a Session "
        "open on every threadpool worker"
    ),
    fix=(
        "scope the registry to the request (`scopefunc=` a context variable set per request), or take the "
        "Session from a dependency; then rerun phase one"
    ),
    doc=__doc__,
)
