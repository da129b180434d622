"""AM138 loop-bound-primitive: an `async def` handler (or a plain helper it calls) uses an asyncio primitive bound to the event loop

`asyncio.Queue`, `asyncio.Event`, `asyncio.Lock` and their kind are not thread-safe: their
methods wake waiters through the event loop's own thread. FastAPI runs a `def` handler in a
worker thread, where `EVENTS.put_nowait(...)` or `CHANGED.set()` wakes no consumer: the task
awaiting the queue or the event hangs. A handler that calls a method of such a primitive held
in a module-level global (built at import, declared with an annotation, `WAKEUP: asyncio.Event |
None = None`, or bound by a function of its module under a `global` statement, `global WAKEUP;
WAKEUP = asyncio.Event()` in the lifespan, or by a function of any module as an attribute,
`signals.WAKEUP = asyncio.Event()`), an item of a module-level collection declared to hold them
(`WAITERS: dict[int, asyncio.Future]`, resolved by a broker's acknowledgement as
`WAITERS.pop(event_id).set_result(True)`), the
application's state (`app.state.wakeup = asyncio.Event()` in the lifespan, read as
`request.app.state.wakeup`, or through a dependency returning it), a class attribute, a `self.` attribute, a local or a parameter
annotated with it (directly, or through the plain helpers it calls) stays `async def`.
A task (`PUBLISHER = asyncio.create_task(...)`, cancelled by a route) is such a primitive too.
So is an item of a container declared or filled with them (`for q in self._subscribers:
q.put_nowait(msg)` in a bus's method, `self._subscribers: list[asyncio.Queue]` or
`self._subscribers.append(asyncio.Queue())`), reached through any depth of helpers, methods of a
module-level instance or of one a dependency provides. Where the analysis cannot read what such
a container holds (a parameter appended, no annotation) and the method is one only asyncio's
primitives and `queue.Queue` have (`put_nowait`, `set_result`, `notify`, ...), the handler stays
`async def`, unverified: annotate the container (`list[queue.Queue]`) to let phase one convert it.
`queue.Queue` and `threading.Event` are thread-safe and keep nothing.

Task groups, nurseries and event loops are bound to the loop alike: `tg.start_soon(...)` on the
anyio task group a lifespan entered and kept (`async with anyio.create_task_group() as tg:
app.state.tg = tg`), `create_task` on an `asyncio.TaskGroup` kept in a module global or a
`self.` attribute, `call_soon` on what `asyncio.get_running_loop()` returned, raise or touch the
loop from a worker thread (`call_soon_threadsafe` is the safe one). The holder is read wherever
it is typed: a dataclass, attrs or pydantic field's annotation (`changed: asyncio.Event =
field(default_factory=asyncio.Event)`), a local bound to a project class (`r = room(name)`,
`for r in ROOMS.values()` on `ROOMS: dict[str, Room]`), a copy of an annotated container
(`for q in list(self.subscribers)`). Where nothing types it (`request.app.state.jobs`, set
nowhere the analysis reads), `start_soon`, `call_soon`, `call_later`, `call_at` and
`create_task` (no project method of that name) keep the handler, unverified.

A chain of items and attributes is read to any depth, step by step (`ROOMS[name].changed.set()`
on a dict `add_room` fills with `Room()`, `OUTER.inner.q.put_nowait(x)`, `room(name).changed.set()`
on what an unannotated function returns): through what a class body builds or a field
specifier's factory calls with no annotation saying so (`changed = attr.ib(factory=asyncio.Event)`,
`q: object = field(default_factory=asyncio.Queue)`), what `__init__` assigns (`self.q =
asyncio.Queue()`), what functions put into a module-level container (`ROOMS[name] = Room()`,
`CHANNELS.setdefault(name, Channel())`). anyio's memory object streams are bound to the loop
too: `send, recv = anyio.create_memory_object_stream()`, kept anywhere, then `send.send_nowait(x)`.
Where a step cannot be read (an unannotated parameter, `holder.inner.q.put_nowait(x)`),
`put_nowait`, `send_nowait`, an argumentless `set()` and the other methods only such objects and
`queue.Queue` have keep the handler, unverified; so do they called on an expression the analysis
cannot read at all (`(a or b).set()`).

Holders are read wherever the project builds them: an instance of a project subclass of a
primitive (`class Mailbox(asyncio.Queue)`) is one, a `@property` handing one back
(`HOLDER.changed.set()`) gives one, a local bound through subscripts (`x = OUTERS[k].inner`) holds
what the chain reaches. A plain method of a project class that needs the loop keeps the handler
that runs it on an object the call graph does not follow: what the application's state keeps
(`request.app.state.bus.publish(x)`, the lifespan or a startup handler setting `app.state.bus =
Bus()` or what a factory returns), what a dependency returns (`bus=Depends(get_bus)`). Where
that object cannot be typed (handed in through an unannotated parameter), a call of a method of
that name keeps the handler, unverified.

Before:

    EVENTS: asyncio.Queue = asyncio.Queue()

    def publish(name):
        EVENTS.put_nowait({"created": name})

    @router.post("/items")
    async def create(name: str, session: SessionDep):
        session.add(Item(name=name))
        session.commit()
        publish(name)

After:

    @router.post("/items")
    async def create(name: str, session: SessionDep):  # kept: publish puts on an asyncio.Queue
        session.add(Item(name=name))
        await run_in_threadpool(session.commit)
        publish(name)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM138",
    name="loop-bound-primitive",
    summary=(
        "an `async def` handler (or a plain helper it calls) calls a method of an object bound to the "
        "event loop (an asyncio Queue, Event, Lock, ..., a task group, the loop), which is not thread-safe"
    ),
    fix=(
        "keep it async and offload the Session work (`await run_in_threadpool(...)`), or use a "
        "thread-safe primitive (`queue.Queue`, `loop.call_soon_threadsafe`)"
    ),
    doc=__doc__,
)
