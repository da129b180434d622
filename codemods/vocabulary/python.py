"""The standard library's and AnyIO's names the tool knows: typing, context managers, the event
loop, worker threads and tasks."""

from __future__ import annotations

ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
# A function type: the types in its parameter list are what the function takes, never what the
# annotated value is (`make_repo: Callable[[Session], Repo]` holds no Session).
# What an annotation may name besides the types it admits: `Optional[Session]`, `Session | None`,
# `Annotated[Session, ...]` admit a Session and nothing else.
TYPE_FORMS = frozenset({
    "typing.Optional", "typing.Union", "typing_extensions.Optional", "typing_extensions.Union",
    "typing.Annotated", "typing_extensions.Annotated", "None",
})
CALLABLE_TYPES = frozenset({"typing.Callable", "collections.abc.Callable", "typing_extensions.Callable"})
ASYNC_ITERATOR = frozenset({"collections.abc.AsyncIterator", "typing.AsyncIterator"})
# Asynchronous iterator generics a generator made `def` is re-annotated from (`phase1/sync_annotations.py`).
SYNC_ITERATORS = {"AsyncIterator": "Iterator", "AsyncIterable": "Iterable", "AsyncGenerator": "Generator"}
PROTOCOL_TYPES = frozenset({"typing.Protocol", "typing_extensions.Protocol"})
CONTEXT_MANAGER_DECORATORS = frozenset({"contextlib.contextmanager", "contextlib.asynccontextmanager"})

# Calls that run the function they are given in a worker thread, beside the frameworks'
# `run_in_threadpool` (`loop.run_in_executor` is recognised by its method name: the loop is a
# local object).
TO_THREAD = frozenset({"asyncio.to_thread", "anyio.to_thread.run_sync"})

# `scoped_session(..., scopefunc=X)` keys: these give each thread (or greenlet, which in a
# worker thread is the thread's own) its Session, as no `scopefunc=` does; a task key needs a
# running event loop, which a threadpool worker does not have.
THREAD_IDENTS = frozenset({
    "threading.get_ident", "threading.get_native_id", "threading.current_thread", "_thread.get_ident",
    "greenlet.getcurrent", "greenlet.greenlet.getcurrent",
})
TASK_IDENTS = frozenset({"asyncio.current_task", "asyncio.tasks.current_task"})
# Calls returning a value no other call returns while it lives: a context variable set to one in
# each request (`request_scope.set(uuid4().hex)`, `set(object())`, `set(id(request))`) keys a
# `scoped_session` on that request alone. A constant, a header or a timestamp may repeat.
PER_CALL_VALUES = frozenset({
    "uuid.uuid1", "uuid.uuid4", "uuid.uuid6", "uuid.uuid7", "object", "id",
    "secrets.token_hex", "secrets.token_urlsafe", "secrets.token_bytes", "os.urandom",
})
# Iterators whose `next()` never returns a value twice: a module-level `itertools.count()`.
PER_CALL_ITERATORS = frozenset({"itertools.count"})

# APIs that need a running event loop in the calling thread: a `def` route runs in a
# worker thread, where they raise or silently do nothing. Not `anyio.from_thread.run`: that is how
# a worker thread reaches the loop (`LOOP_THREAD_CALLS`), and on the loop's own thread it raises.
EVENT_LOOP_ONLY = frozenset(
    {
        "asyncio.get_running_loop",
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.timeout",
        "asyncio.timeout_at",
        "asyncio.current_task",
        "asyncio.all_tasks",
        "asyncio.get_event_loop",
        "asyncio.TaskGroup",
        "asyncio.gather",
        "asyncio.wait_for",
        "asyncio.shield",
        "anyio.create_task_group",
    }
)
# Of those, the ones that raise RuntimeError when called where no loop runs (a worker thread);
# the others fail only once entered or awaited.
RAISE_WITHOUT_LOOP = frozenset(
    {
        "asyncio.get_running_loop",
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.current_task",
        "asyncio.all_tasks",
        "asyncio.get_event_loop",
        "asyncio.gather",
        "asyncio.shield",
    }
)
# Synchronisation primitives bound to the event loop that uses them: their methods are not
# thread-safe, so called from a worker thread they wake no waiter (or wake it on the wrong
# thread). `queue.Queue` and `threading.Event` are the thread-safe ones.
LOOP_BOUND_PRIMITIVES = frozenset(
    {
        *(
            f"{module}.{name}"
            for module in ("asyncio", "asyncio.queues")
            for name in ("Queue", "PriorityQueue", "LifoQueue")
        ),
        *(
            f"{module}.{name}"
            for module in ("asyncio", "asyncio.locks")
            for name in ("Event", "Condition", "Lock", "Semaphore", "BoundedSemaphore")
        ),
        "asyncio.Future",
        "asyncio.futures.Future",
        "asyncio.Task",
        "asyncio.tasks.Task",
        "anyio.Event",
        "anyio.Condition",
        "anyio.Lock",
        "anyio.Semaphore",
        "anyio.CapacityLimiter",
        "asyncio.Barrier",
        # Task groups and the loop itself: starting a task or scheduling a callback from a worker
        # thread raises (anyio's NoEventLoopError) or touches the loop from the wrong thread.
        "asyncio.TaskGroup",
        "asyncio.taskgroups.TaskGroup",
        "anyio.abc.TaskGroup",
        "anyio.abc._tasks.TaskGroup",
        "trio.Nursery",
        *(f"asyncio.{name}" for name in ("AbstractEventLoop", "BaseEventLoop")),
        "asyncio.events.AbstractEventLoop",
        "asyncio.base_events.BaseEventLoop",
        # Memory object streams and channels: `send_nowait` wakes a receiver through the loop's
        # own event, as `put_nowait` on an asyncio.Queue does.
        *(f"anyio.streams.memory.MemoryObject{end}Stream" for end in ("Send", "Receive")),
        *(f"trio.Memory{end}Channel" for end in ("Send", "Receive")),
    }
)
# Calls making both ends of such a stream at once (`send, recv = anyio.create_memory_object_stream()`):
# each end unpacked from one is such an object, named so in reasons.
LOOP_BOUND_PAIRS = {
    "anyio.create_memory_object_stream": "anyio memory object stream",
    "trio.open_memory_channel": "trio memory channel",
}
# Calls handing back such an object (`app.state.loop = asyncio.get_running_loop()`), and the
# context managers whose entered value is one (`async with anyio.create_task_group() as tg`).
LOOP_BOUND_FACTORIES = {
    **LOOP_BOUND_PAIRS,
    "asyncio.get_running_loop": "asyncio.AbstractEventLoop",
    "asyncio.events.get_running_loop": "asyncio.AbstractEventLoop",
    "asyncio.get_event_loop": "asyncio.AbstractEventLoop",
}
LOOP_BOUND_ENTERED = {
    "anyio.create_task_group": "anyio.abc.TaskGroup",
    "asyncio.TaskGroup": "asyncio.TaskGroup",
    "asyncio.taskgroups.TaskGroup": "asyncio.TaskGroup",
    "trio.open_nursery": "trio.Nursery",
}
# Thread locks: a read-modify-write of shared state inside `with lock:` on one is safe from any thread.
# Classes whose instances hold a value per thread: what one thread sets, another does not see.
THREAD_LOCALS = frozenset({"threading.local", "_threading_local.local"})
THREAD_LOCKS = frozenset(
    {f"threading.{name}" for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition")}
)
# Objects other threads or processes wake: the methods that wait for that (by default), called on
# the event loop, hold every request there until the other side acts (`pool.submit(job).result()`
# for the whole job, a bounded `queue.Queue`'s `put()` until a consumer takes an item).
_THREAD_LOCK_WAITS = {"acquire"}
THREAD_WAITS: dict[str, frozenset[str]] = {
    **{f"concurrent.futures{m}.Future": frozenset({"result", "exception"}) for m in ("", "._base")},
    **{
        f"concurrent.futures{m}.{pool}": frozenset({"map", "shutdown"})
        for m in ("", ".thread", ".process")
        for pool in ("ThreadPoolExecutor", "ProcessPoolExecutor")
    },
    "threading.Thread": frozenset({"join"}),
    "threading.Event": frozenset({"wait"}),
    "threading.Barrier": frozenset({"wait"}),
    **{f"threading.{name}": frozenset(_THREAD_LOCK_WAITS) for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore")},
    "threading.Condition": frozenset({"acquire", "wait", "wait_for"}),
    **{f"queue.{name}": frozenset({"get", "put", "join"}) for name in ("Queue", "LifoQueue", "PriorityQueue")},
    "queue.SimpleQueue": frozenset({"get"}),
    "multiprocessing.Process": frozenset({"join"}),
    "multiprocessing.Queue": frozenset({"get", "put"}),
    "multiprocessing.JoinableQueue": frozenset({"get", "put", "join"}),
    "multiprocessing.Event": frozenset({"wait"}),
    **{f"multiprocessing.{name}": frozenset(_THREAD_LOCK_WAITS) for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore")},
    **{f"multiprocessing{m}.Pool": frozenset({"apply", "map", "starmap", "join"}) for m in ("", ".pool")},
    "multiprocessing.pool.AsyncResult": frozenset({"get", "wait"}),
    "multiprocessing.pool.ApplyResult": frozenset({"get", "wait"}),
}
# What a method of such an object hands back (`pool.submit(job)`: a Future), and what `with` on it
# binds (`with ThreadPoolExecutor() as pool`: the executor).
THREAD_WAIT_RETURNS = {
    **{
        (f"concurrent.futures{m}.{pool}", "submit"): "concurrent.futures.Future"
        for m in ("", ".thread", ".process")
        for pool in ("ThreadPoolExecutor", "ProcessPoolExecutor")
    },
    **{(f"multiprocessing{m}.Pool", method): "multiprocessing.pool.AsyncResult"
       for m in ("", ".pool") for method in ("apply_async", "map_async", "starmap_async")},
}
# Functions that wait for the futures they are handed (`as_completed` as its iterator is read).
THREAD_WAIT_FUNCTIONS = frozenset({"concurrent.futures.wait", "concurrent.futures.as_completed"})
# Of those objects, the ones a `with` block waits on: to acquire a lock as it starts, for an
# executor's jobs as it ends.
THREAD_WAIT_ENTERED = {
    **{
        f"{module}.{name}": "waits to acquire it"
        for module in ("threading", "multiprocessing")
        for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition")
    },
    **{
        f"concurrent.futures{m}.{pool}": "waits for its jobs as the block ends"
        for m in ("", ".thread", ".process")
        for pool in ("ThreadPoolExecutor", "ProcessPoolExecutor")
    },
}
# Where a waiting method takes its flag to wait (`q.get(False)`, `lock.acquire(blocking=False)`,
# `pool.shutdown(wait=False)`): False never waits.
THREAD_WAIT_BLOCK_FLAG = {"get": (0, "block"), "put": (1, "block"), "acquire": (0, "blocking"), "shutdown": (0, "wait")}
# asyncio locks: a check-then-act inside `async with lock:` on one is safe across awaits.
ASYNC_LOCKS = frozenset({f"asyncio.{name}" for name in ("Lock", "Semaphore", "BoundedSemaphore", "Condition")})
# Their methods that only read state, or are made to be called from any thread: harmless there.
LOOP_BOUND_READS = frozenset(
    {"qsize", "empty", "full", "is_set", "locked", "done", "cancelled", "statistics", "get_loop",
     "result", "exception", "get_name", "get_coro", "get_context", "get_stack",
     "call_soon_threadsafe", "is_running", "is_closed", "time", "get_debug"}
)
# Methods no common value besides asyncio's primitives and `queue.Queue` has: called on an
# item of a container the analysis cannot read (`for q in self._subscribers: q.put_nowait(m)`),
# the handler stays async, unverified, rather than run it in a worker thread.
LOOP_PRIMITIVE_METHODS = frozenset(
    {"put_nowait", "get_nowait", "set_result", "set_exception", "notify", "notify_all", "send_nowait",
     "receive_nowait"}
)
# Methods of asyncio's primitives that take no argument there, and an argument on the common
# values that share the name (a cache's or a `ContextVar`'s `set(value)`): called without one on
# what the analysis cannot read (`holder.changed.set()`), the handler stays async, unverified.
LOOP_PRIMITIVE_BARE_METHODS = frozenset({"set"})
# Methods only task groups, nurseries and event loops have: called on what the analysis cannot
# type (`request.app.state.tasks.start_soon(...)`, the state set nowhere it reads), the handler
# stays async, unverified; a project method of that name (`crud.create_task`) is no such call.
LOOP_ONLY_METHODS = frozenset({"start_soon", "call_soon", "call_later", "call_at", "create_task", "create_future"})
# Collection types whose annotation's other references are the items' types (`list[asyncio.Queue]`).
COLLECTION_TYPES = frozenset(
    {
        *(f"{prefix}{name}" for prefix in ("", "builtins.") for name in ("list", "set", "frozenset", "tuple", "dict")),
        *(f"typing.{name}" for name in ("List", "Set", "FrozenSet", "Tuple", "Dict", "Deque", "Sequence",
                                         "MutableSequence", "Mapping", "MutableMapping", "Iterable")),
        *(f"collections.abc.{name}" for name in ("Sequence", "MutableSequence", "Mapping", "MutableMapping",
                                                  "Iterable", "Set", "MutableSet")),
        "collections.deque", "collections.defaultdict", "collections.OrderedDict", "weakref.WeakSet",
    }
)

# A context variable: set in a worker thread, the value stays in that thread's copy of the context.
CONTEXT_VARIABLES = frozenset({"contextvars.ContextVar"})
# werkzeug's `LocalProxy(session_ctx)` / `LocalProxy(get_session)`: every attribute read goes to
# what the context variable holds in the reading context, or to what the function returns then.
LOCAL_PROXIES = frozenset({"werkzeug.local.LocalProxy", "werkzeug.LocalProxy"})
# Method decorators that hand the function on unchanged (an endpoint `Handlers.count` registered
# with add_api_route): async stays async, def stays def.
METHOD_DECORATORS = frozenset({"staticmethod", "classmethod", "builtins.staticmethod", "builtins.classmethod"})
CONTEXT_VARIABLE_WRITES = frozenset({"set", "reset"})
# Methods of an event loop object that only work on the loop's own thread (not
# `call_soon_threadsafe`, which exists for calls from other threads).
LOOP_METHODS = frozenset(
    {"call_soon", "call_later", "call_at", "create_task", "create_future", "run_until_complete"}
)

# Calls that take a coroutine object and schedule or await it themselves.
TASK_WRAPPERS = frozenset(
    {
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.gather",
        "asyncio.wait_for",
        "asyncio.shield",
        "asyncio.wait",
        "asyncio.as_completed",
        "asyncio.run",
        "asyncio.run_coroutine_threadsafe",
        "anyio.run",
    }
)
TASK_METHODS = frozenset({"create_task", "start_soon", "start", "ensure_future", "run_until_complete", "gather"})
# Of those, the ones that run the coroutine beside the caller's own code, not in its place:
# `gather(f(), g())`, `create_task(f())`, a task group's `start_soon(f, ...)`.
CONCURRENT_WRAPPERS = frozenset(
    {"asyncio.create_task", "asyncio.ensure_future", "asyncio.gather", "asyncio.wait", "asyncio.as_completed",
     # submitted to a loop as a task of its own: on the running loop it starts once the caller yields
     "asyncio.run_coroutine_threadsafe"}
)
# Wraps the coroutine in a task: run in place only when the wrapper itself is awaited.
SHIELD = "asyncio.shield"
# Calls that start an event loop of their own and run it to the end in the calling thread: fine in
# a worker thread, a RuntimeError on a thread whose loop is running.
LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run"})
LOOP_RUNNER_METHODS = frozenset({"run_until_complete", "run_forever"})
# Calls a worker thread makes to run a function on the event loop's own thread, and wait for it
# (`loop.call_soon_threadsafe(f)` is read with the loop's other callbacks, `engine_work.py`).
LOOP_THREAD_CALLS = frozenset({"anyio.from_thread.run", "anyio.from_thread.run_sync"})
# What `engine_work.py` reads as starting a task of a coroutine it is handed (AM306, AM128).
TASK_STARTERS = frozenset({"asyncio.create_task", "asyncio.ensure_future", "asyncio.tasks.create_task"})
CONCURRENT_METHODS = frozenset({"create_task", "start_soon", "start", "ensure_future", "gather"})

# Decorators that make a method run when the attribute is read.
PROPERTY_DECORATORS = frozenset({"property", "functools.cached_property", "builtins.property"})
# Bases that bring no attribute of their own that reads a mapped class's relationships.
PLAIN_BASES = frozenset({"object", "abc.ABC", "typing.Generic", "typing_extensions.Generic", "enum.Enum"})

# `functools.partial(f, ...)`: calling it calls `f`.
PARTIALS = frozenset({"functools.partial"})
# Calls returning a copy of the function they are handed (`types.FunctionType(f.__code__, ...)`,
# what `functools.update_wrapper(g, f)` returns): a project helper returning only such a copy or
# its argument hands back the same function, with the same parameters, for FastAPI to call.
FUNCTION_COPIES = frozenset({"types.FunctionType", "copy.copy", "copy.deepcopy", "functools.update_wrapper"})
# Calls copying the object they are handed into a new instance of its class, with the fields
# the keywords name changed (`dataclasses.replace(ctx, user_id=2)`, `attrs.evolve(ctx, ...)`).
OBJECT_COPIES = frozenset({"dataclasses.replace", "copy.replace", "attrs.evolve", "attr.evolve"})
# Objects holding whatever attributes they are given (`SimpleNamespace(user=user)`), none mapped.
NAMESPACE_TYPES = frozenset({"types.SimpleNamespace", "argparse.Namespace"})
# Decorators that keep what a function returns, per arguments, for the life of the process.
CACHES = frozenset({"functools.lru_cache", "functools.cache"})
# A method whose first result is kept on the instance and read back on every later access.
CACHED_PROPERTIES = frozenset({"functools.cached_property"})
# Decorators keeping results in the cache object they are given, read and written with no lock
# unless one is passed as `lock=` (cachetools' own `cachetools.func.ttl_cache` & co. take one).
UNLOCKED_CACHES = frozenset({"cachetools.cached", "cachetools.cachedmethod"})
# cachetools' caches: a write updates their size, order and expiry bookkeeping in several steps.
CACHE_CLASSES = frozenset({
    "cachetools.Cache", "cachetools.FIFOCache", "cachetools.LFUCache", "cachetools.LRUCache",
    "cachetools.MRUCache", "cachetools.RRCache", "cachetools.TTLCache", "cachetools.TLRUCache",
})
# Class decorators that generate `__init__` from the class's annotated fields.
# Class decorators writing an `__init__` whose parameters are the annotated fields, in order.
GENERATED_INIT = frozenset({
    "dataclasses.dataclass", "attr.define", "attrs.define", "attrs.frozen", "attr.frozen",
    "attr.mutable", "attrs.mutable",
})
# Class decorators whose generated `__init__` only stores what it is handed (pydantic's dataclass
# validates, which may run project code, so it is not one), and the bases writing such a `__new__`.
STORING_INIT_DECORATORS = frozenset({
    "dataclasses.dataclass", "attr.s", "attr.attrs", "attr.define", "attrs.define", "attrs.frozen", "attr.frozen",
    "attr.mutable", "attrs.mutable",
})
NAMED_TUPLES = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})
DATACLASS_DECORATORS = frozenset({
    "dataclasses.dataclass", "pydantic.dataclasses.dataclass", "attr.s", "attr.attrs", "attr.define",
    "attrs.define", "attrs.frozen", "attr.frozen",
})
# Attributes of a (decorated) function whose call does not run it in this process: a task
# queue's enqueue methods (Celery, Dramatiq, Huey, taskiq) and functools' cache bookkeeping.
# Any other (`task.run()`, `task.apply()`, `f.__wrapped__()`) may run its body here.
NOT_RUNNING_ATTRIBUTES = frozenset({
    "delay", "apply_async", "s", "si", "signature", "send", "send_with_options", "kiq", "schedule",
    "cache_clear", "cache_info", "cache_parameters",
})

# `T = TypeVar("T")`: a type parameter, which a generic class's fields name (`items: list[T]`).
TYPE_VARS = frozenset({"typing.TypeVar", "typing_extensions.TypeVar"})

# Coroutine functions that run the coroutine they are handed only when they are awaited
# themselves (`await wait_for(c, 5)`); unawaited, nothing in it ran.
RUN_WHEN_AWAITED = frozenset({"asyncio.wait_for", "asyncio.tasks.wait_for", "asyncio.wait"})

# Types whose values hold no ORM object: a function annotated to return one (or containers of
# them, below) hands back nothing a commit expires.
SCALAR_TYPES = frozenset({
    "int", "str", "float", "bool", "bytes", "None", "builtins.int", "builtins.str", "builtins.float",
    "builtins.bool", "builtins.bytes", "decimal.Decimal", "datetime.datetime", "datetime.date", "uuid.UUID",
})
# Generic containers and unions whose arguments name all they may hold; unsubscripted, anything.
CONTAINER_TYPES = frozenset(
    {f"{head}{name}" for head in ("", "builtins.") for name in ("list", "tuple", "dict", "set", "frozenset")}
    | {
        f"{head}.{name}" for head in ("typing", "collections.abc")
        for name in ("Sequence", "MutableSequence", "Iterable", "Collection", "Mapping", "MutableMapping", "AbstractSet")
    }
    | {f"typing.{name}" for name in ("List", "Tuple", "Dict", "Set", "FrozenSet", "Optional", "Union")}
)


# `cast(T, x)` hands back `x` itself: the value flow reads `x` through it, whatever type it names.
CASTS = frozenset({"typing.cast", "typing_extensions.cast"})


# Builtins that take a coroutine object as any other object: nothing of it runs.
NEVER_RUN = frozenset({
    "list", "tuple", "set", "frozenset", "dict", "sorted", "reversed", "len", "print", "str", "repr", "bool",
    "iter", "next", "enumerate", "zip", "sum", "min", "max", "any", "all", "int", "float", "format", "hash",
    "id", "type", "isinstance", "map", "filter",
})

# Callables that call a function they are handed in the caller's own thread (when iterated, for
# the lazy ones): `map(run_in_session, fns)`, `sorted(rows, key=load)`, `functools.reduce(f, xs)`;
# each with where it takes that function: (its position, its keyword), either None where it has none.
CALLS_IN_PLACE: dict[str, tuple[int | None, str | None]] = {
    **{f"{head}{name}": (None, "key") for head in ("", "builtins.") for name in ("sorted", "min", "max")},
    **{f"{head}{name}": (0, None) for head in ("", "builtins.") for name in ("map", "filter")},
    "functools.reduce": (0, None),
    **{f"itertools.{name}": (0, None) for name in ("starmap", "filterfalse", "takewhile", "dropwhile")},
    "itertools.groupby": (1, "key"),
    "itertools.accumulate": (1, "func"),
    "heapq.nsmallest": (2, "key"),
    "heapq.nlargest": (2, "key"),
    "heapq.merge": (None, "key"),
    **{f"bisect.{name}": (None, "key") for name in ("bisect", "bisect_left", "bisect_right", "insort", "insort_left",
                                                     "insort_right")},
}
CALL_IN_PLACE = frozenset(CALLS_IN_PLACE)

# `@overload` signatures, and the `Literal[...]` parameter types by which a call selects one.
OVERLOAD_DECORATORS = frozenset({"typing.overload", "typing_extensions.overload"})
LITERAL_TYPES = frozenset({"typing.Literal", "typing_extensions.Literal"})
# Decorators that hand back the function they are given: a coroutine function stays one.
KEEPS_FUNCTION = frozenset({
    "abc.abstractmethod", "typing.overload", "typing_extensions.overload", "typing.override",
    "typing_extensions.override", "typing.final", "typing_extensions.final", "typing.no_type_check",
})
