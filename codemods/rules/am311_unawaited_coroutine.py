"""AM311 unawaited-coroutine: a handler calls a project coroutine function without `await`

The call only creates a coroutine: nothing in it runs (its Session work is lost), Python warns
"coroutine ... was never awaited", and a response built from it holds the coroutine, not its
result. It happens when code written against a helper before phase two made it `async def`
(or a new route) calls it as before. A `def` handler cannot await: it becomes `async def`, or
calls a synchronous version. A coroutine kept in a local name (`c = f(db)`, a list of them)
is run when, on every path after, the name is awaited or handed to what runs it (`create_task`,
`gather`, `shield`, an awaited `wait_for`) before it is bound again; a path that returns,
raises or rebinds it first leaves the finding. So does one handed straight to an
`asyncio.wait_for(...)` that nothing awaits: `wait_for` is itself a coroutine function.

The async form of a library call phase two maps (fastapi-pagination's `apaginate`, and the
targets of `call-mappings`) counts too: returned without `await`, the response is no page.

An AsyncSession's own coroutine methods count too (`session.commit()`, `execute`, `scalars`,
`flush`, `refresh`, `delete`, `run_sync`, ...) on a parameter declared to receive one, on one
the function opens (`async with maker() as s`, `maker.begin()`, `s = AsyncSession(engine)`,
`await stack.enter_async_context(maker())`), on an unannotated parameter of an `async def`
helper the AsyncSession is handed to, and on what an instance keeps as `self.session` from its
`__init__`, annotated or not (`def __init__(self, session)`, where every construction the project
makes hands it an AsyncSession), in the handler and in every project function it calls:
code moved to AsyncSession by hand keeps a call written for the synchronous Session, and
nothing is written, with a 200. So do the coroutine methods of what an awaited `stream()` or
`connection()` gives, held in a name or called through the `await` (`(await
db.stream(q)).scalars().all()`, `(await db.connection()).execute(q)`). So does one a nested plain
function or lambda calls on the AsyncSession it is handed as a parameter's default (`(lambda s=db:
s.commit())()`, `def save(s=db): return s.commit()` called as `save()`): the scope cannot await it,
and nothing awaits what it hands back; awaited where it is called (`await save()`) it runs.
So does either kind called in a function a worker thread runs (`await run_in_threadpool(lambda:
repo.get(id))`, `to_thread(lambda: db.scalar(q))`, a nested `def` handed to `run_in_executor`, the
coroutine function itself or a `functools.partial` of it handed there): the thread hands back the
coroutine and nothing awaits it (a 204, nothing deleted); one it runs itself (`asyncio.run(...)`
there) does not count. So does one a project decorator's plain wrapper calls on the AsyncSession it
hands the function it wraps (`@transactional` committing `session` after `fn(*args, session=session)`,
read as its own parameter, `kwargs["session"]` or `args[0]`, or handed to a helper committing it):
around a plain `def` handed the AsyncSession, whose own body may only add, and around an `async def`
when the decorator gives coroutine functions that same wrapper; a decorator giving them an awaiting
one past `iscoroutinefunction(fn)` runs the commit, and one whose coroutine side cannot be read is
reported unverified, not cleared. So does one the `async def` wrapper a project decorator gives a
coroutine function calls without `await` on the AsyncSession it hands it (`kwargs["db"].commit()`
after `await fn(*args, **kwargs)`, written for the synchronous Session), or hands to a plain `def`
doing Session work on it (`commit(db)`); taken from its arguments without saying which, unverified.
So does the coroutine a library offloader returns (`asyncio.to_thread(f, db)`, `run_in_threadpool(f,
db)`, `anyio.to_thread.run_sync(f, db)`) when nothing awaits it: `f` never reaches a thread, and
phase one does not count its work as done there. A future `loop.run_in_executor(None, f, db)` returns
that nothing awaits, holds or hands on is reported too, when `f` is handed the handler's Session or
does Session work: `f` does run, in a thread nobody joins, beyond the handler, on the request's
Session, which the session dependency closes meanwhile, and what it raises is lost.
A method called on an item of a module-level container the analysis does
not type (`REPOS["task"].save(task)` on `REPOS = {"task": Repo(...)}`), where a project class has a
coroutine method of that name, is reported unverified, not cleared.

Before:

    @router.get("/users/count")
    async def count(db: AsyncSessionDep):
        return {"n": crud.count_users(db)}

After:

    @router.get("/users/count")
    async def count(db: AsyncSessionDep):
        return {"n": await crud.count_users(db)}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM311",
    name="unawaited-coroutine",
    summary=(
        "a handler calls a project coroutine function (or a thread offloader) without `await`: nothing in it "
        "runs"
    ),
    fix="`await` the call (in an `async def` handler), or call a synchronous version from a `def` one",
    doc=__doc__,
)
