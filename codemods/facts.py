"""Facts the pre-pass collects from one module.

Facts are plain, picklable data: they cross process boundaries, trees never do.
Every name in them is already resolved against the module's imports into an
absolute dotted reference ("sqlalchemy.orm.Session", "services.book_helper.get_db_books"),
so the project index can join modules without looking at source again.

Over 500 lines: one record type per kind of fact, all of which cross the process
boundary together; splitting them would only scatter the cache's one shape.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field
from enum import Enum
from operator import attrgetter
from typing import Any, TypeVar, cast


class _Fact:
    """Pickled as its class and field values: half the bytes and load time of the default. An
    empty list or dict field is pickled as the one empty tuple or `NO_ITEMS`, which every fact
    unpickled shares: most of a project's functions have dozens of such fields, and an empty
    list each would be most of the facts' memory (and of the pages a forked copy writes)."""

    __slots__ = ()

    def __reduce__(self):
        kind = self.__class__
        reading = _FIELD_VALUES.get(kind)
        if reading is None:
            reading = _FIELD_VALUES[kind] = _field_reading(kind)
        values, containers = reading
        found = values(self)
        shared = None
        for index, container, empty in containers:
            value = found[index]
            if not value and value.__class__ is container:
                if shared is None:
                    shared = list(found)
                shared[index] = empty
        return (_rebuilt, (kind, found if shared is None else tuple(shared)))


class _NoItems(dict):
    """The one empty mapping unpickled facts hold in place of an empty dict each: read only."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("the facts' shared empty mapping is read only")

    __setitem__ = __delitem__ = setdefault = update = pop = popitem = clear = __ior__ = _refuse

    def __reduce__(self) -> str:
        return "NO_ITEMS"


NO_ITEMS: dict[Any, Any] = _NoItems()


def _rebuilt(kind: type[_F], values: tuple) -> _F:
    """A fact unpickled, as `kind(*values)`: its strings and tuples the one instance of each value
    this process keeps. A project's facts spell the same names, references and terms in every
    module (`sqlalchemy.orm.Session`, `("call", 3)`), each a new object as unpickled: a third of
    their memory, and of the pages a forked copy writes to."""
    rebuild = _REBUILDS.get(kind)
    if rebuild is None:
        rebuild = _REBUILDS[kind] = _rebuilding(kind)
    return rebuild(kind, values)


def _rebuilding(kind: type[_F]) -> Callable[[type[_F], tuple], _F]:
    """`_rebuilt` for kind: each field's value shared as its annotation says it may need (a
    string, a tuple, a list or dict of them), written out field by field as dataclasses does."""
    arguments = []
    for index, found in enumerate(kind.__dataclass_fields__.values()):  # type: ignore[attr-defined]
        written = found.type
        value = f"v[{index}]"
        if written in ("str", "str | None"):
            arguments.append(f"{value} and _intern({value})")
        elif written.startswith("tuple[") and not written.startswith("tuple[CallArg"):
            arguments.append(f"{value} and _shared_tuple({value})[0]")
        elif written.startswith(("list[str", "list[tuple")):
            arguments.append(f"{value} and _share_items({value})")
        elif written.startswith("dict["):
            arguments.append(f"{value} and _shared_dict({value})")
        elif "str" in written:
            arguments.append(f"_shared({value})")
        else:
            arguments.append(value)
    source = f"def rebuild(kind, v):\n    return kind({', '.join(arguments)})"
    bound = {"_intern": _intern, "_shared_tuple": _shared_tuple, "_share_items": _share_items,
             "_shared_dict": _shared_dict, "_shared": _shared}
    exec(source, bound)  # noqa: S102 - the dataclass's own fields, as dataclasses does
    return cast("Callable[[type[_F], tuple], _F]", bound["rebuild"])


_REBUILDS: dict[type, Callable[[type, tuple], Any]] = {}
# What a shared tuple holds, but tuples: `True == 1` and a `str` enum equals its value, so a
# tuple holding either is never taken for one holding the other.
_PLAIN = frozenset({str, int, type(None)})
# Tuples rebuilt in this process, each the one instance of its value (`_shared_tuple`).
_TUPLES: dict[tuple, tuple] = {}
_intern = sys.intern


def _shared_tuple(value: tuple) -> tuple[tuple, bool]:
    """value's shared instance, and True; or, when it holds anything but exact `str`, `int`,
    `None` and tuples of them, value with its items shared, and False."""
    if {*map(type, value)} <= _PLAIN:  # most are: references, (line, name, attribute)
        found = _TUPLES.get(value)
        if found is None:
            found = tuple([_intern(item) if item.__class__ is str else item for item in value])
            _TUPLES[found] = found
        return found, True
    items = []
    plain = True
    for item in value:
        made = item.__class__
        if made is str:
            item = _intern(item)
        elif made is tuple:
            item, shared = _shared_tuple(item)
            plain = plain and shared
        elif made is not int and item is not None:
            plain = False
            if made is list:
                _share_items(item)
            elif made is dict:
                item = _shared_dict(item)
        items.append(item)
    rebuilt = tuple(items)
    if not plain:
        return rebuilt, False
    return _TUPLES.setdefault(rebuilt, rebuilt), True


def _share_items(items: list) -> list:
    """items, its strings and tuples shared in place (its facts are rebuilt each itself)."""
    made = items[0].__class__
    if made is str:
        items[:] = map(_intern, items)
    elif made is tuple:
        items[:] = [_shared_tuple(item)[0] if item.__class__ is tuple else item for item in items]
    return items


def _shared(value: Any) -> Any:
    """value shared, whatever it is (a field annotated with several kinds of value)."""
    made = value.__class__
    if made is str:
        return _intern(value)
    if made is tuple:
        return _shared_tuple(value)[0]
    return value


def _shared_dict(found: dict) -> dict:
    """A dict of the same items, its string keys and its values' strings and tuples shared."""
    shared = {}
    for key, value in found.items():
        made = key.__class__
        if made is str:
            key = _intern(key)
        elif made is tuple:
            key = _shared_tuple(key)[0]
        made = value.__class__
        if made is str:
            value = _intern(value)
        elif made is tuple:
            value = _shared_tuple(value)[0]
        elif made is list and value:
            _share_items(value)
        shared[key] = value
    return shared


def forget_shared() -> None:
    """Let go of the tuples kept for sharing (the facts rebuilt keep theirs): a process analysing
    one project after another (the tests) would keep every project's."""
    _TUPLES.clear()


def _field_reading(kind: type) -> tuple[Callable[[Any], tuple], tuple[tuple[int, type, Any], ...]]:
    """A function reading kind's field values, in order, as a tuple; and where the fields made
    empty lists and dicts are (their index, that type, the shared empty value pickled instead)."""
    fields = kind.__dataclass_fields__  # type: ignore[attr-defined]
    names = tuple(fields)
    # attrgetter of one name returns the value itself, not a 1-tuple
    values = attrgetter(*names) if len(names) > 1 else lambda fact: (getattr(fact, names[0]),)
    containers = tuple(
        (index, made, () if made is list else NO_ITEMS)
        for index, name in enumerate(names)
        if (made := fields[name].default_factory) is list or made is dict
    )
    return values, containers


# Fact class -> a function reading its field values, in order, as a tuple (pickling runs this
# for every fact of every module, and attrgetter does it in C), and its container fields.
_FIELD_VALUES: dict[type, tuple[Callable[[Any], tuple], tuple[tuple[int, type, Any], ...]]] = {}

_F = TypeVar("_F", bound=_Fact)
_FACTORY = object()  # a field with a default factory, not given


def _sparse(*common: str) -> Callable[[type[_F]], type[_F]]:
    """A dataclass of many fields most of whose values are their defaults, made compact: the
    `common` fields are slots, every other field's default is a class attribute, and an
    instance holds (in its `__dict__`, made only then) just the others it was given a value
    other than its default for. A project has a hundred thousand calls, each of which sets about
    a quarter of its fifty fields: as slots the rest were most of the facts' memory."""

    def compact(kind: type[_F]) -> type[_F]:
        fields = kind.__dataclass_fields__  # type: ignore[attr-defined]
        names = tuple(fields)
        assert set(common) <= set(names), set(common) - set(names)
        namespace = {
            key: value for key, value in kind.__dict__.items()
            if key not in common and key not in ("__dict__", "__weakref__")
        }
        namespace["__slots__"] = (*common, "__dict__")
        namespace["__init__"] = _sparse_init(kind.__qualname__, fields, common)
        made = type(kind.__name__, kind.__bases__, namespace)
        made.__qualname__, made.__module__ = kind.__qualname__, kind.__module__
        return cast("type[_F]", made)

    return compact


def _sparse_init(qualname: str, fields: dict[str, Any], common: tuple[str, ...]) -> Callable[..., None]:
    """The `__init__` of a `_sparse` class: a field not in `common` is stored only when given a
    value that is not its default (the class attribute then answers)."""
    bound: dict[str, Any] = {"_FACTORY": _FACTORY}
    parameters, body = [], []
    for name, found in fields.items():
        assert found.init and found.kw_only is not True, name
        if found.default is not MISSING:
            bound[f"_default_{name}"] = found.default
            parameters.append(f"{name}=_default_{name}")
        elif found.default_factory is not MISSING:
            assert name in common, f"{name}: a field made by a factory is a slot"
            bound[f"_factory_{name}"] = found.default_factory
            parameters.append(f"{name}=_FACTORY")
            body.append(f"self.{name} = _factory_{name}() if {name} is _FACTORY else {name}")
            continue
        else:
            parameters.append(name)
        if name in common:
            body.append(f"self.{name} = {name}")
        else:
            body.append(f"if {name} is not _default_{name}: self.{name} = {name}")
    source = f"def __init__(self, {', '.join(parameters)}):\n    " + "\n    ".join(body)
    exec(source, bound)  # noqa: S102 - the dataclass's own fields, as dataclasses does
    made = bound["__init__"]
    made.__qualname__ = f"{qualname}.__init__"
    return cast("Callable[..., None]", made)


@dataclass(slots=True)
class Arg(_Fact):
    """One argument of a call, reduced to what the session data flow needs."""

    position: int | None  # None for keyword arguments
    keyword: str | None
    name: str | None  # the local name passed, when the argument is a bare name
    ref: str | None = None  # the resolved reference, when the argument names a function
    # The argument as an expression (see `Function.bindings`), when it is an attribute path
    # on a local name (`self.db`) or a call with no arguments (`self.uow()`, `current_session()`,
    # `db_session.get()`): None for bare names (`name`) and module-level references.
    expr: str | None = None
    # The local names and attribute paths on them (see `Function.bindings`: `$db`, `$ctx.db`) a
    # tuple, list or set display given as this argument holds as items, or a dict display as
    # values (`report({"db": db})`, `f((ctx.db, user))`): handed on inside it.
    displayed: tuple[str, ...] = ()
    # The name argument of `getattr(obj, ...)`/`setattr(obj, ..., value)` when it is computed
    # (`"count_" + kind`, `f"count_{kind}"`, `names[i]`), as written: a name known only at run
    # time, like a bare local, where a string constant names one attribute the graph follows.
    computed: str | None = None
    # Plain data by its shape (`deepcopy(current.meta or {})`, a display of literals): the names of
    # the attributes whose values it holds (`data_args.data_reads`); None for any other argument.
    data: tuple[str, ...] | None = None
    # An attribute of what a module-rooted call returns, in that notation (`store.store().create_tag`
    # for `store().create_tag`): a bound method of the object a getter hands out, passed as a value
    # (`handed_functions`). Kept apart from `expr`, which the Session analyses read as a carrier.
    returned_attribute: str | None = None


# The fields most calls set or most analyses read; the rest (rarely set) take no room when unset.
@_sparse(
    "line", "callee", "index", "receiver", "method", "args", "func", "literals", "chained", "statement", "top",
    "argument_of", "argument_at", "discarded", "awaited", "nested", "offloaded",
)
@dataclass
class Call(_Fact):
    line: int
    callee: str | None  # resolved reference of the called expression
    index: int = 0  # the n-th call in the function body, in tree order
    receiver: str | None = None  # `session` in `session.execute(...)`, when a bare local name
    method: str | None = None  # `execute` in `session.execute(...)`
    # `sessions["ro"].scalars(...)`: a method called on an item taken by subscript, which the
    # value-flow notation cannot spell: (the container as spelled, or UNSPELLED; the method)
    item: tuple[str, str] | None = None
    # A method called through subscripts anywhere in its called expression, which the notation
    # cannot spell (`hub.ROOMS[name].changed.set`, `self.rooms[a][b].q.put_nowait`): the expression
    # before the first subscript, then the attribute path after each ("" between two subscripts);
    # empty where that first expression cannot be spelled either.
    subscripted: tuple[str, ...] = ()
    args: list[Arg] = field(default_factory=list)
    # Bare local names written as items of a tuple, list or set display, or as values of a dict
    # display, given as an argument (`Thread(target=f, args=(db, 1))`): handed on inside it.
    contained: tuple[str, ...] = ()
    awaited: bool = False
    nested: bool = False  # inside a nested function, lambda or class
    offloaded: bool = False  # the function run_in_threadpool/to_thread/run_in_executor(...) runs
    # Of a call in the body of a lambda an offloading call runs (`to_thread(lambda: f(db))`): the
    # offloading call's index, which is where the call runs beside the rest (`concurrent_offloads`).
    offloaded_by: int | None = None
    # Dropping the offloading call leaves the same call, awaited in place: of the function handed to
    # an awaited `run_in_threadpool`/`to_thread`/`run_sync` at its first place (or as `func=`), or to
    # `run_in_executor` at its second, given every keyword (or none); and of the call that is the
    # whole body of a parameterless lambda handed so with no arguments, holding no other call
    # (`await run_in_threadpool(lambda: repo.get(id))` is `await repo.get(id)` once it is a coroutine).
    unwrap: bool = False
    # Of a call marked offloaded inside a nested plain function the body only hands to an offloading
    # call (`def load(): ...` then `await run_in_threadpool(load)`): that function's name.
    thread_def: str | None = None
    # In a lambda or nested function handed to an awaited `x.run_sync(...)` (AsyncSession,
    # AsyncConnection): SQLAlchemy runs it with a synchronous Session on a worker greenlet, whose
    # IO the event loop awaits. Sync Session work there is the intended use, not blocking.
    greenlet: bool = False
    # `TypeAdapter(list[Out]).validate_python(rows)` (the adapter built in place or kept in a local
    # name) and `parse_obj_as(list[Out], rows)`: every reference in the type validated from the
    # object argument, which reads its attributes as `Out.model_validate` does.
    adapted: tuple[str, ...] = ()
    # `Page[Out](items=rows)`: every reference in the type arguments of the class it builds
    type_args: tuple[str, ...] = ()
    # In a nested plain generator the function hands straight to a `StreamingResponse` and uses no
    # other way (`return StreamingResponse(rows())`): Starlette iterates it in the threadpool.
    streamed: bool = False
    # Execution options given as a dict or unpacked (`execution_options={"yield_per": 100}`,
    # `.execution_options(**STREAM)`) that stream rows from a server-side cursor: (as written, the
    # option that streams, or None when the collector cannot read them); see `astcollect.streaming`.
    streams: tuple[str, str | None] | None = None
    # In a nested generator, plain or async, that only a `StreamingResponse` runs: after the
    # function returned, when a dependency with `scope="function"` has closed its Session.
    late: bool = False
    # Offloaded as `await run_in_threadpool(f, *args, **kwargs)` (or asyncio.to_thread):
    # dropping the wrapper leaves `await f(*args, **kwargs)`.
    offload_direct: bool = True
    statement: bool = False  # a call that is a whole expression or the value of an assignment
    # A template rendered (`templates.TemplateResponse(request, "x.html", {"book": book})`,
    # `env.get_template("x.html").render(book=book)`): each value handed to it as written, but
    # string constants and the response's own keywords (`status_code=`); see `phase2/templates.py`.
    rendered: tuple[str, ...] | None = None
    discarded: bool = False  # a whole expression statement: nothing reads what it returns
    # A call that is a whole statement of the function's own body, outside any compound statement
    # (an expression, the value of an assignment or of a `return`): it runs on every path past it.
    top: bool = False
    # A call whose value only a test reads: the test of an `if`, `elif`, `while` or `assert`, or an
    # operand of `not`, `and`/`or` or a comparison there (`if crud.get(db, 1) is None:`).
    condition: bool = False
    # A call of the function's own scope read in place by the statement or expression around it (a
    # whole statement, an assigned or returned value, a test, an operand, a conditional expression's
    # part, a walrus's value, an argument): `await` can wrap it as written. Not a receiver
    # (`f(db).name`), nor in a lambda, a comprehension or a generator expression.
    in_place: bool = False
    in_generator: bool = False  # inside a generator expression, where `await` changes its type
    # The innermost generator expression holding the call is what an `async for` or an async
    # comprehension iterates: `async for b in (await repo.get(i) for i in ids)` runs as written.
    async_iterated: bool = False
    argument_of: int | None = None  # index of the call this one is a direct argument of: `create_task(f())`
    receiver_of: int | None = None  # index of the call made on this one's result: `f(x).save()`'s `save`
    # where it stands in that call: its position, or its keyword (None after a `*` unpacking, or in one)
    argument_at: int | str | None = None
    # index of the call one of whose arguments is a tuple, list, set or dict display holding this
    # call as an item: `Thread(target=f, args=(sku, UnitOfWork(db)))`
    displayed_in: int | None = None
    # Other ways a coroutine reaches a scheduler (`codemods.astcollect.handoff`): the indexes of the
    # scheduler-like calls it sits deeper inside (`gather(*[f(db) for i in ids])`), and the local
    # name it is put in (`coros = [f(db)]`, `coros.append(f(db))`).
    within: tuple[int, ...] = ()
    held_in: str | None = None
    # The coroutine this call makes, held in a local name, is awaited or handed to what runs it on
    # every path after, before the name is bound again (`codemods.astcollect.awaited_later`).
    consumed: bool = False
    # The coroutine this call makes is given to a local name that nothing reads (`c = f(db)`, and
    # not a read again, in the function or a scope nested in it), or reads only as what never runs
    # it (`print(c)`, `if c:`): lost as a discarded one is (`astcollect.awaited_later.unread_holds`).
    dropped: bool = False
    # Of a dropped call whose name is read, only by what never runs a coroutine: those reads
    # (`print(pending) at line 12`, `a truth test at line 9`).
    unrun_reads: tuple[str, ...] = ()
    # Of a scheduler-like call: the local names read in its arguments, and its starred arguments (or
    # the iterable `wait` takes) whose elements the function does not build itself, as written.
    handed: tuple[str, ...] = ()
    unread: tuple[str, ...] = ()
    # Of a scheduler-like call not awaited in place: the indexes of the calls that may run while
    # what it was handed still runs (up to its join), its own among them when it runs again first
    # (`codemods.astcollect.beside`). Of every call, in a function that may schedule: the loops and
    # comprehensions around it, numbered, outermost first.
    beside: tuple[int, ...] = ()
    loops: tuple[int, ...] = ()
    # Of `var.set(x)` with one argument: the callees of the calls inside x, resolved as written
    # (`uuid.uuid4` for `uuid4().hex`; `str`, `uuid.uuid4` for `str(uuid4())`; `next(_ids)` adds
    # `next:` and the iterator's reference), and `$name` for a
    # bare local name: what tells a registry key new for each request from one that may repeat
    # (`flow.per_request_key`). Empty for a set of an argument reading no call (`set("req")`),
    # None for any other call.
    stored: tuple[str, ...] | None = None
    # The outermost call of a legacy `X.query(...)...` chain carries the chain's root name, or
    # path (`self.db`: a Session an instance holds, `phase2.holders.held_query`);
    # the chain's `X.query(...)` call carries the whole chain as written, for phase two to
    # judge (`phase2.legacy_query.blocker`).
    query_root: str | None = None
    query_chain: str | None = None
    # The chain is only iterated (`for b in session.query(B)`, `list(...)`): without a
    # terminal method it runs as a whole there, and nowhere else.
    query_iterated: bool = False
    chained: str | None = None  # `join` in `select(A).join(B)`: a method called on a call's result
    # The nested `async def` (coroutine or async generator) the call sits in: it runs on the
    # event loop whatever the enclosing function is.
    coroutine: str | None = None
    # The called expression (see `Function.bindings`) when `callee` cannot name it: a path on a
    # local name (`$self.db.query`, `$repo.get`), a call's result (`pkg.SessionLocal().query`)
    # or `super().get`.
    func: str | None = None
    # `func` read through the `await`s in the called expression, where `func` cannot spell it:
    # `$db.connection().execute` for `(await db.connection()).execute(...)`, a method called on
    # what an awaited call returns (phase two writes Session-derived objects so). `func` stays
    # None there: what is called is a method of the awaited result, not of the coroutine.
    through_await: str | None = None
    # `set` in `(a or b).set()`: a method called on an expression no notation here spells (not
    # `func`, `through_await`, `item` nor `subscripted`), read by phase one's AM138 (unverified)
    unspelled_method: str | None = None
    # A call of a value taken out of a container (`TABLE[kind]()`, `TABLE.get(kind)()`, `fn()` for
    # `fn` a loop or comprehension variable over it, or bound to `TABLE[kind]`): any of its values
    # may run. Resolved references of module-level containers (see `Module.containers`), `=ref`
    # for a function an inline display offers (`for fn in (a, b)`), `?` for one it cannot read.
    dispatch: tuple[str, ...] = ()
    spelled: str = ""  # a dispatch call's called expression as written
    # The value called is only ever taken out by a pop (`job, kw = QUEUE.popleft()`, `fn = JOBS.pop()`):
    # a queue of work filled elsewhere, unread only where the project hands on Session work
    # (`Containers.dispatch`).
    popped: bool = False
    # A call of a bare name `f` under `if iscoroutinefunction(f):` (True) or its `else` (False):
    # of what `f` may be, only the coroutine functions (or only the others) run there.
    coroutine_side: bool | None = None
    # The local names a `*` or `**` argument unpacks, directly or through one call converting it
    # (`f(*ctx)`, `f(**ctx._asdict())`, `f(**asdict(ctx))`, `f(**vars(ctx))`): their parts become
    # the callee's arguments, by position or by field name.
    splatted: tuple[str, ...] = ()
    # A `**` argument: the keywords it hands are read, where they can be, into `args` (`unpacked`).
    unpacks_keywords: bool = False
    # `fn(provide_db(), *args, **kwargs)`: (the name the first `*` unpacks, the positional arguments
    # before it); a wrapper forwarding its own `*args` so puts them first (`Project.injected_arguments`).
    forwarded: tuple[str, int] | None = None
    # The constant arguments, by position or keyword (`create_session(scoped=False)`: the keyword
    # and `repr(False)`); None where the call unpacks `*` or `**` (`astcollect.param_branches`).
    literals: tuple[tuple[int | str, str], ...] | None = None
    # A call written over several lines: its last line (0: one line). What its arguments read
    # there runs before it does (`finish(db, item,\n    note=item.note)`).
    last_line: int = 0


@dataclass(slots=True)
class Param(_Fact):
    name: str
    line: int
    annotation: tuple[str, ...] = ()  # references in the annotation, outside Depends(...)
    depends: str | None = None  # target of Depends()/Security() in the annotation or default
    text: str = ""  # the annotation as written, for reasons
    default: str = ""  # a Depends(...) default as written
    positional: bool = True  # can be passed by position (not keyword-only, not *args/**kwargs)
    variadic: str = ""  # "*" for *args, "**" for **kwargs
    default_ref: str | None = None  # a default that is a dotted name (`db=db_dependency`), resolved
    literal: str | None = None  # a string constant default (`prefix: str = "/items"`), as its value
    # A default that is plain data by its shape (`None`, `3`, `"x"`, `{}`, `("a", 1)`): a call
    # omitting the parameter hands it no ORM object (`phase2/plain_params.py`).
    plain_default: bool = False
    # A Depends() argument that is no dotted name (`lambda: next(get_db())`, `partial(get_db)`,
    # `make_dep()`): as written, and every reference it names, resolved.
    opaque_depends: str = ""
    opaque_refs: tuple[str, ...] = ()
    # `Provide[Container.x]` (dependency-injector) in the default or annotation: the resolved
    # reference of what it names (`Provider[...]` adds `.provider`), "?" when no dotted name.
    provide: str = ""
    provide_text: str = ""  # the marker as written, for reasons


@dataclass(slots=True)
class WrapperUse(_Fact):
    """A Session method called, or a function called, by a decorator's plain wrapper on a value it
    hands the function it wraps (`session.commit()` after `fn(*args, **kwargs)`, the Session read
    as `kwargs["session"]`): which argument of the wrapped call it is, by position (the instance
    counted, for a method) or keyword; neither where the wrapper's code does not say which
    (`session = find_session(args)`)."""

    line: int
    text: str  # as written: `session.commit()`, `finish(session)`
    position: int | None = None
    keyword: str | None = None
    method: str | None = None  # the method called on the value
    # or the function it is handed to (its reference, None where it cannot be told), and where that
    # function gets it: by position or keyword
    callee: str | None = None
    handed_position: int | None = None
    handed_keyword: str | None = None
    # `await db.commit()`, `await finish(db)`, `async with db.begin()`: an `async def` wrapper runs
    # it; on an AsyncSession one it does not await is a coroutine nothing runs
    awaited: bool = False


@dataclass(slots=True)
class Decorator(_Fact):
    line: int
    callee: str | None  # resolved reference of the decorator (of its function, for calls)
    base: str | None = None  # `api.books.router` for `@router.get(...)`
    attr: str | None = None  # `get` for `@router.get(...)`
    is_call: bool = False
    path: str | None = None
    methods: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()
    text: str = ""
    # A called decorator's keyword arguments, by name (`lock` for `@cached(cache, lock=LOCK)`).
    keywords: tuple[str, ...] = ()
    # `@app.on_event("shutdown")`: the event, when it is a string constant.
    event: str | None = None
    # Route decorators: `response_model=` as a resolved reference when it is a dotted name
    # ("None" for `response_model=None`), and every reference in it (`list[BookDetail]`).
    response_model: str | None = None
    response_refs: tuple[str, ...] = ()
    # `@r.get(...)` on a router made in the enclosing function (`r = APIRouter()`): the
    # resolved reference of what made it.
    router_call: str | None = None
    # `@self.router.get(...)` (or `@router.get` for `router = self.router`) in a method of a
    # class: `module.Class.router`, read with the class's `held` attributes.
    held: str | None = None


def is_classmethod(decorators: list[Decorator]) -> bool:
    """Whether `decorators` make a method a classmethod (`@classmethod`, abc's `@abstractclassmethod`),
    by the reference they resolve to or, unresolved, as written."""
    return any((d.callee or d.text).endswith("classmethod") for d in decorators)


def is_staticmethod(decorators: list[Decorator]) -> bool:
    """Whether `decorators` make a method a staticmethod, as `is_classmethod` reads them."""
    return any((d.callee or d.text).endswith("staticmethod") for d in decorators)


@dataclass(slots=True)
class SessionOpen(_Fact):
    """`with X() as s:` or `s = X()`: `X` may turn out to be a sessionmaker."""

    name: str | None
    callee: str
    line: int
    index: int = -1  # the opening call's index, when it is a `with` item
    given_to: str = ""  # opened right in a call's arguments: that call's resolved reference
    alone: bool = True  # a `with` item: the statement enters nothing else
    # entered without a `with` statement: `s = X().__enter__()`, `s = stack.enter_context(X())`,
    # or `cm = X.begin()` then `s = cm.__enter__()`
    by_hand: bool = False


# A `with` item's value that the expression notation cannot spell (`REGISTRY["default"]()`).
UNSPELLED = "?"


@dataclass(slots=True)
class Binding(_Fact):
    """A local name bound to an expression: `name = expr`, or `with expr as name` (entered;
    `expr` is UNSPELLED when the notation cannot spell it)."""

    name: str
    expr: str
    line: int = 0
    entered: bool = False  # `with expr as name`: the name holds what `__enter__` returns
    asynchronous: bool = False  # `async with expr as name`: what `__aenter__` returns
    end: int = 0  # `async with expr as name`: the last line of its block, where `__aexit__` runs
    # `name = await run_in_threadpool(f)`: bound to what `f()` returns (`expr`), made in a worker thread
    offloaded: bool = False


@dataclass(slots=True)
class QueryVar(_Fact):
    """A legacy Query kept in a local name, extended, then run (`codemods/astcollect/query_vars.py`):
    phase two writes it as a `select()` and runs that where the Query ran."""

    name: str  # `q`
    session: str  # the Session name of its head, `db` in `q = db.query(User)`
    line: int  # of the head assignment
    head: int  # call index of the head's outermost call (`db.query(User).filter(...)`)
    root: int  # call index of the head's `db.query(...)` call, which carries `Call.query_chain`
    query: str  # that call as written, `db.query(User)`: what a run returns follows from it
    extensions: tuple[int, ...]  # call index of the value of each `q = q.filter(...)`
    runs: tuple[int, ...]  # call index of the outermost call of each `q.offset(n).all()`
    chains: tuple[str, ...]  # each run as one legacy chain, every extension in it, as written


@dataclass(slots=True)
class Load(_Fact):
    """A query that loads ORM objects, in a shape phase two can add loader options to.

    `get`: `s.get(Model, pk)` (index: that call; options go in `options=[...]`); `select`:
    `s.scalars(select(Model)...)` and friends (index: the outermost call of the statement,
    inline or bound to a local name; it becomes `stmt.options(...)`); `query`: a legacy
    `s.query(Model)...` chain (index: the `query(...)` call, followed by `.options(...)`).
    """

    line: int
    index: int
    form: str  # get, select, query, merge (`s.merge(Book(...))`)
    session: str  # the local name the query runs on
    model: str | None  # the entity's resolved reference
    entity: str  # the entity as written (`Book`, `models.Book`)
    receiver: bool = False  # the entity is a classmethod's `cls`; `model` is the class defining it
    # what the loader options written in the query say of its entities: (the entity, the attribute
    # or "*" for a wildcard, whether it loads with the query), the entity a class ref, "=" and a
    # local name as written (an alias), "" any entity of the query (`astcollect.objects`); None
    # when they cannot be read there (`options=opts`, `.options(*OPTIONS)`): an awaited query's
    # own, to judge its objects by, not a name some other query of the closure loads
    options: tuple[tuple[str, str, bool], ...] | None = None
    # `entity` is an `aliased(model)` local: the key of its rows' column ("" none: no `name=`)
    alias: str | None = None
    # the statement is what a function builds (`s.scalars(by_id(pid))`, `by_id` returning
    # `select(Project)...`): its reference; `model` is None until the index reads that
    # function's `returns_select`
    builder: str | None = None


@dataclass(slots=True)
class Function(_Fact):
    name: str
    qualname: str
    key: str  # qualname, plus "#n" for the n-th redefinition in the same module
    line: int
    is_async: bool
    is_generator: bool = False
    params: list[Param] = field(default_factory=list)
    returns: tuple[str, ...] = ()
    # the return annotation names only scalar types, in builtin or typing containers
    # (`-> list[str]`; not a bare `-> list`, which may hold ORM objects)
    returns_no_object: bool = False
    # the return annotation says it returns a coroutine function: its form (`astcollect.coroutine_returns`)
    coroutine_return: str = ""
    decorators: list[Decorator] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    query_vars: list[QueryVar] = field(default_factory=list)  # legacy Queries kept in a local name
    awaits: list[tuple[int, str]] = field(default_factory=list)  # own body only
    name_uses: dict[str, list[int]] = field(default_factory=dict)  # params and session locals
    opens: list[SessionOpen] = field(default_factory=list)
    # lines of the openings by assignment closed on every path after (a `finally`, a `with`)
    closed_always: tuple[int, ...] = ()
    # Each call that is a whole statement of a `finally` block of the own body, outside any compound
    # statement there: it runs however the `try` is left. (Its line, the first and last line of what
    # the `try` runs before it, whether a `yield` is among that: a `@contextmanager`'s `with` exit.)
    finally_calls: tuple[tuple[int, int, int, bool], ...] = ()
    # Each item of a `with` statement of the own body that is a call (`with scope() as s:`): its
    # line, the statement's first and last line, over which its `__exit__` runs however it is left.
    with_calls: tuple[tuple[int, int, int], ...] = ()
    # Each call that is a whole statement of an `except` clause of the own body catching everything
    # (bare, `Exception`, `BaseException`): its line, the first and last line of the `try` body it
    # covers, the first and last line of that `try`'s `except` clauses (which the normal path skips).
    except_calls: tuple[tuple[int, int, int, int, int], ...] = ()
    # Each call that is a whole statement of an `except` clause of the own body, whatever it catches:
    # its line, the first and last line of the last statement of the `try` body it covers (a commit
    # there is the statement that raised), the last line of the clause.
    caught_calls: tuple[tuple[int, int, int, int], ...] = ()
    # `conn = await db.connection()` in the own body: (conn, db), the AsyncConnection a name holds
    awaited_connections: list[tuple[str, str]] = field(default_factory=list)
    # `lambda s=db: s.commit()`, `def save(n, s=db)`: (line, parameter, name) for each parameter of a
    # nested function or lambda whose default is a bare name, which the nested scope then holds
    scope_defaults: list[tuple[int, str, str]] = field(default_factory=list)
    # `(lambda s=db: s.commit())()`, `def save(s=db): s.commit()`: (line, parameter, name, method) for
    # each call of a method on such a default that nothing can run (`astcollect.default_scopes`)
    default_calls: list[tuple[int, str, str, str]] = field(default_factory=list)
    # lines of the items of a `with` statement entering more than one (`with db.begin(), lock:`), own body
    shared_withs: tuple[int, ...] = ()
    yields: tuple[str, ...] = ()  # bare names yielded or returned
    wraps: str | None = None  # decorator shape: passthrough, sync, coroutine, loop, unknown
    # its shape for an `async def` it decorates, where a branch on `iscoroutinefunction(func)`
    # gives coroutines another wrapper than `wraps` reads (None: the same)
    wraps_coroutine: str | None = None
    # of a `sync` shape: its plain wrapper returns only `func(...)`, a coroutine function's
    # coroutine unrun (`check.makes_coroutine`), not what it may run in place
    returns_call: bool = False
    # the decorator's parameter holding the function it decorates (its factory's inner decorator's)
    wrapped: str | None = None
    # the lines of the `async def` wrapper it returns for a coroutine function: on the event loop
    loop_wrapper: tuple[int, int] | None = None
    # what that `async def` wrapper does around each call with the values it hands the function, as
    # `plain_wrapper` (`await db.commit()` after `await fn(*args, db=db, **kwargs)`): None where none
    # was read
    loop_wrapper_uses: tuple[WrapperUse, ...] | None = None
    # what the plain wrapper it returns for a plain function (past a branch on
    # `iscoroutinefunction(func)`; a factory's, of the decorator it returns) does around each call
    # with the values it hands that function (`astcollect.wrapper_sessions`): None where no plain
    # wrapper calling it was read
    plain_wrapper: tuple[WrapperUse, ...] | None = None
    # a decorator whose body only hands the function on to another decorator: `return timed(fn)`
    # (that decorator's reference, False) or `return translate_errors(409)(fn)` (the factory's,
    # True); it wraps as that one does, which may be in another module (`Project.decorator_function`)
    delegates: tuple[str, bool] | None = None
    # Names bound to `x.get(M, pk)` without options=: objects with no relationship loaded.
    plain_gets: list[str] = field(default_factory=list)
    rebinds: list[tuple[str, str]] = field(default_factory=list)  # `alias = name` in the body
    # A parameter or Session local put where `rebinds` does not follow it: `(s := db)`, a display
    # bound or looped over (`s, n = db, name`, `ctx = {"db": db}`, `for s in (db,)`): (line, name, how).
    held_in: list[tuple[int, str, str]] = field(default_factory=list)
    pragma: str | None = None  # `# async-migrate: ignore[...]` reason on the def line
    # A method overriding a route registration (`add_api_route`, `api_route`, a route class's
    # `__init__`) that hands the endpoint to the base class's own untouched (`astcollect.route_overrides`).
    hands_to_super: bool = False
    # Each `prefix=` keyword of a call, as written, and each other use of the word (""): what a
    # router factory or an `APIRouter` subclass's method does to a prefix (`astcollect.router_prefixes`).
    router_prefixes: tuple[tuple[int, str], ...] = ()
    # A decorator handing on the function it decorates, or its wrapper, other than by returning
    # it (`JOBS.append(fn)`): the line and statement (`astcollect.handed_wrapped`).
    hands_wrapped: tuple[int, str] | None = None
    # Lines where a method reads its instance's endpoint (`self.endpoint`, `self.dependant.call`).
    endpoint_reads: tuple[int, ...] = ()
    # Lazy-load analysis (phase two). Eager loads named anywhere in the body, nested scopes
    # included: (class reference, attribute) from selectinload/joinedload/subqueryload/
    # immediateload/contains_eager(X.rel), ("", attribute) where the class is not resolved
    # (an aliased class). A string path or wildcard (`selectinload("items")`, `"*"`) loads on
    # the query it is written in only: `Load.options` has it, this does not.
    eager: list[tuple[str, str]] = field(default_factory=list)
    # What loads on one object: `refresh(obj, attribute_names=[...])` and `obj.awaitable_attrs.name`,
    # anywhere in the body: (line, the object's local name, attribute); the name "" for what is no
    # bare name, in a nested scope, where some path skips it or after a `return` of a value.
    # It credits reads on that object only (`codemods/phase2/refreshed.py`).
    refreshed: list[tuple[int, str, str]] = field(default_factory=list)
    # `db.expire(obj, ["status"])` anywhere in the body: (line, the object's local name, attribute),
    # each attribute of a list of string literals; the other attributes stay loaded. An expiry
    # naming its attributes otherwise is not here: it may expire any of them.
    expired_attributes: list[tuple[int, str, str]] = field(default_factory=list)
    # Options that leave columns unloaded, anywhere in the body: (class reference, "load_only" or
    # "defer", the columns named) from `load_only(X.a, X.b)` / `defer(X.c)`.
    narrowed: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    # `name.attr` reads and writes on a bare local name (not on imports or module-level names,
    # not on self/cls, not the callee of a call): (line, receiver, attribute), in tree order.
    attributes: list[tuple[int, str, str]] = field(default_factory=list)
    # Lines whose every attribute read is in the callable an awaited `x.run_sync(...)` runs (a
    # lambda given to it, a nested function handed to it and not called otherwise): it runs on
    # the worker greenlet, where a lazy load or an expired attribute loads as on a sync Session.
    greenlet_lines: tuple[int, ...] = ()
    # (line, name) of an `attributes` read in the body's own code on a local name every binding
    # of which is a plain `name = value` and that is bound more than once -> the term of the
    # bindings that may reach the read (`codemods/astcollect/objects.py`); `holds` has them all.
    read_terms: dict[tuple[int, str], tuple] = field(default_factory=dict)
    # Of those, the writes (`order.status = x`, `order.total += 1`), and `self.attr` writes: they
    # run the class's `@validates` methods, setters and listeners for the attribute on the object.
    stores: list[tuple[int, str, str]] = field(default_factory=list)
    # Of those, the augmented ones (`order.total += 1`, `doc.body += text`): each reads the
    # attribute before it writes it, so it loads what a plain write would leave unloaded.
    updates: list[tuple[int, str, str]] = field(default_factory=list)
    # Attribute writes on a receiver the value-flow notation spells, any head (`settings.theme = x`
    # on a module-level instance, `request.app.state.config.NAME = x`, `self.x = y`): (line, the
    # receiver's expression, attribute). A property setter or the class's `__setattr__` runs there.
    writes: list[tuple[int, str, str]] = field(default_factory=list)
    # Attribute reads `attributes` leaves out, on a receiver the value-flow notation spells
    # (`self.total`, `stats.count` on a module-level instance, `svc.repo.count`, `Repo(db).count`),
    # outside nested scopes and not the callee of a call: (line, the receiver's expression,
    # attribute), each receiver and attribute once, at its first line. A property read there runs it.
    receiver_reads: list[tuple[int, str, str]] = field(default_factory=list)
    # Value flow (codemods/flow.py). An *expression* is a string: a head, then `.attr` and `()`
    # steps. The head is `$name` for a local name or parameter, `super()`, or an absolute
    # reference: `$self.db.query`, `app.db.SessionLocal()`, `sqlalchemy.orm.sessionmaker()()`.
    bindings: list[Binding] = field(default_factory=list)  # `name = expr`, `with expr as name`
    # `with uow:` / `async with self.uow as u:` on a value, not a call: (expr, line, async)
    entered: list[tuple[str, int, bool]] = field(default_factory=list)
    assigns: list[tuple[str, str]] = field(default_factory=list)  # `self.attr = expr`, in order
    # `ROOMS[name] = Room()` on a name the function does not bind: (the container, the value)
    item_puts: tuple[tuple[str, str], ...] = ()
    assign_lines: tuple[int, ...] = ()  # the line of each of `assigns`
    # `self.attr: T = expr` (or with no value): the attribute and the references in T
    # (`self.session: Session | None = None`: a Session once something sets it)
    declared_assigns: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    # Attribute stores on any other object (`repo.session = db`, `REGISTRY["x"].session = db`,
    # `setattr(repo, "session", db)`) whose value the notation spells: (line, the receiver, or
    # UNSPELLED, the attribute, "" when a name computed at run time picks it, the value, the
    # receiver's root through attributes, items and calls: `$name` for a local, else a reference).
    attribute_stores: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    # `request.state.attr = expr` (any head): (line, head, attribute, expr), head and expr
    # UNSPELLED when the notation cannot spell them (a tuple target's element, `x[0].state.db`).
    state_assigns: list[tuple[int, str, str, str]] = field(default_factory=list)
    returned: tuple[str, ...] = ()  # expressions returned (own body), in order
    # `return self.managers[name]`: the container each returned subscript reads an item of
    returned_items: tuple[str, ...] = ()
    # Each `return name` of the own body: (line, name, whether it may run after any line (in a loop's
    # body, before a `finally`), the line spans of the branches it excludes) (`astcollect.returns`)
    name_returns: tuple[tuple[int, str, bool, tuple[tuple[int, int], ...]], ...] = ()
    ends_in_return: bool = False  # the own body's last statement is a `return`
    # The line spans of the own body's statement lists that end the function (`returns.exits`): an
    # `except` ending in `raise HTTPException(...)`, an `if` ending in `return`.
    exits: tuple[tuple[int, int], ...] = ()
    # Each `except` handler of a `try` of the own body: (the line its body's last statement starts
    # on, the handler's first and last lines) (`returns.failed_into`): a commit ending the body
    # raised or never ran when the handler runs.
    failed_into: tuple[tuple[int, int, int], ...] = ()
    # A `__getattr__(self, name)` whose every return is `getattr(X, name)`: X, the expression
    # it forwards each attribute its class does not declare to (`current_session()`).
    forwards: str | None = None
    yielded: tuple[str, ...] = ()  # expressions yielded (own body), in order
    # The line of the own body's first `yield` in source order (0: none): a lifespan's shutdown
    # code is below it.
    yield_line: int = 0
    yielded_from: tuple[str, ...] = ()  # `yield from X`: each X (own body), in order
    # The `if` statements of the own body a parameter nothing binds again decides alone (`if scoped:`,
    # `if mode == "x":`), each with the parameter's constant default (`astcollect.param_branches`)
    param_tests: tuple[tuple[str, str | None, str, str, int, int, int, int], ...] = ()
    abstract: bool = False  # @abstractmethod, or a body of only `...`, `pass`, a docstring, `raise`
    # Object flow for eager loads (codemods/astcollect/objects.py): the queries that load ORM
    # objects, what each local name holds and what the function returns, as value terms.
    loads: list[Load] = field(default_factory=list)
    holds: dict[str, tuple[tuple, ...]] = field(default_factory=dict)
    # Of `holds`, the names bound only inside nested functions and lambdas the body shows no value
    # for (`lambda profile: profile.name` handed on): what they hold is what the scope is called with.
    scoped_only: tuple[str, ...] = ()
    results: tuple[tuple, ...] = ()
    # Each `return value` of the own body, in order, duplicates kept: the value as `returned`
    # spells it ('' where it cannot) and its term. `results` drops repeated terms, so it cannot
    # be paired with `returned` (`return False` ... `return True`: two spelled, one term).
    returned_terms: tuple[tuple[str, tuple], ...] = ()
    # Calls given keyword arguments only (`Report(owner=owner, total=n)`), whose term the flow
    # read: call index -> the keywords as a dict term, for a schema the call may construct.
    keywords: dict[int, tuple] = field(default_factory=dict)
    # Calls whose first positional argument is a dict display or a `dict(k=v)` call of plain values
    # (names, attributes of them, literals): call index -> that dict as a dict term, for a model
    # validating it (`Out.model_validate({"id": a.id, "items": n})` reads keys, not attributes).
    given_dicts: dict[int, tuple] = field(default_factory=dict)
    # A method's queries on a Session its instance holds (`await self.db.get(Book, 1)`): the call
    # index of the `("call", i)` term the query's value is -> the Load, `session` spelled
    # `self.db`. Kept apart from `loads`, whose terms and options phase two reads and writes
    # for Sessions a function is handed; `check` reads these for an AsyncSession attribute.
    held_loads: dict[int, Load] = field(default_factory=dict)
    # Queries on a local Session whose statement a function builds (`s.scalars(by_id(pid))`): the
    # `("built", n)` terms. Kept apart from `loads` too: phase two adds no option to what it cannot
    # see built; `check` reads the builder's `returns_select` for their entity and options.
    built_loads: list[Load] = field(default_factory=list)
    # The select of one entity every `return` of the function builds (`return select(Project)
    # .where(...)`), its options as written: what a statement builder hands its callers.
    returns_select: Load | None = None
    # Of a select of several entities run there (`await self.db.execute(select(Book, Author))`), or
    # a statement name bound to several selects: (the session call's index, which select, the
    # column) -> the entity's query, but for the first column of the first (`held_loads` has
    # that one): a row's term names them `("column", i, select, k)`.
    held_columns: dict[tuple[int, int, int], Load] = field(default_factory=dict)
    # `b.author.books`, `get_book(s, 1).author`: reads on an expression rooted at a local name or
    # a call that is not itself a bare name: (line, the expression as written, its term, attribute).
    chains: list[tuple[int, str, tuple, str]] = field(default_factory=list)
    # What may run a model's own code on an object (its properties, methods, `__str__`):
    # (line, the receiver as written, its term, member name, how), how being `call`
    # (`book.describe()`), `str` (`f"{book}"`, `str(book)`, `print(book)`, a logging call's
    # arguments; member `__str__` or `__repr__`), `read` (reads rooted at `self`, which
    # `attributes` and `chains` leave out), `getattr` (`getattr(book, "x")`, and each name
    # along an `attrgetter("author.name")` applied to it; member "" for a name computed at run time) and `pass` (`self` handed to a call; member: the callee).
    uses: list[tuple[int, str, tuple, str, str]] = field(default_factory=list)
    # `name.attr` reads on an object the function built (`name = Callee(...)`, bound once) that
    # run before it is handed to anything (codemods/astcollect/fresh.py): (line, name, attr).
    fresh: list[tuple[int, str, str]] = field(default_factory=list)
    # `db = sessions["rw"]`: locals bound to an item taken by subscript, with the container as
    # spelled (or UNSPELLED); the notation of `bindings` cannot spell it
    items: dict[str, str] = field(default_factory=dict)
    # `repos = {"users": self.users}`, `[a, b]`: locals bound to a dict, list, tuple or set display,
    # with every element (a dict's values) each binding holds as spelled, or UNSPELLED (`**x`, `*x`,
    # what the notation cannot spell): what an item taken from the name may be
    displays: dict[str, list[str]] = field(default_factory=dict)
    # `inner = hub.OUTERS[k].inner`, `q = hub.ROOMS[a][b]`: locals bound to a value read through
    # subscripts that `items` cannot spell, each as `Call.subscripted` spells a path (no method at
    # its end); read by phase one's AM138 (`loop_chains`)
    item_paths: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    # Locals bound to an element of a value, unpacked or looped over (`db, user = ctx`, `for s in
    # sessions`), with that value as spelled: what the value holds (a Session put in a tuple by code
    # the analysis cannot follow) its elements may hold. `a, b = x, y` binds as `a = x` does instead.
    unpacked: dict[str, list[str]] = field(default_factory=dict)
    # `global n` then `n += 1` (or `n = n + 1`) in the own body: the module-level names it
    # updates from their own value, with the line (codemods/astcollect/body.py).
    global_updates: list[tuple[str, int]] = field(default_factory=list)
    # The names a `global` statement of the own body declares: its bindings of them bind the
    # module-level name (`global _wakeup; _wakeup = asyncio.Event()` in a start-up function).
    declared_globals: tuple[str, ...] = ()
    # `self.hits += 1`, `self.seen[key] = self.seen.get(key, 0) + 1` in the own body, on the
    # first positional parameter: the attributes updated from their own value, with the line.
    self_updates: list[tuple[str, int]] = field(default_factory=list)
    # `COUNTS[k] += 1`, `Stats.total += 1`, `stats.hits[k] = stats.hits.get(k, 0) + 1` in the own
    # body, on a name it does not bind (a module-level object or class): the path, with the line.
    free_updates: list[tuple[str, int]] = field(default_factory=list)
    # `request.app.state.hits += 1`, `hits[k] = hits.get(k, 0) + 1` in the own body, on a name it
    # binds (a parameter, a local): the path, with the line; shared where that name stands for
    # state every request shares.
    bound_updates: list[tuple[str, int]] = field(default_factory=list)
    # `post.likes += 1`, `post.likes = post.likes + 1`, `row.meta = {**(row.meta or {}), k: v}` in the
    # own body, on a name it binds: the value written computed from the attribute's own (an operand of
    # an operator, a `**`/`*` unpacking), not merely falling back to it (`x.a = new or x.a`,
    # `x.a = d.get("a", x.a)`, which write it back unchanged): (line, name, attribute); AM169 reads them.
    derived_stores: tuple[tuple[int, str, str], ...] = ()
    # `event.published = True`, `job.status = "sent"` (any value, `+=` too) in the own body, on a name
    # it binds: (line, name, attribute); AM170 reads them against the columns a query's WHERE tests.
    column_stores: tuple[tuple[int, str, str], ...] = ()
    # The columns a `.where(...)`/`.filter(...)`/`.filter_by(...)` call tests, by the call's index:
    # (the class as written, `OutboxEvent` or `models.OutboxEvent`, "" for `filter_by`'s keywords;
    # the attribute): `published` for `.where(OutboxEvent.published == False)` or
    # `.filter(Job.claimed_by.is_(None))`; AM170 reads them.
    filtered: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # `CACHE[k] = v`, `del CACHE[k]`, `CACHE.pop(k)` in the own body on a name it does not bind:
    # the path written to, with the line (what a plain dict takes atomically, a cachetools cache not).
    free_writes: list[tuple[str, int]] = field(default_factory=list)
    # `self.cache[k] = v`, `del self.cache[k]`, `self.cache.pop(k)` in the own body, on the first
    # positional parameter, in a module naming a cache class: the attribute, with its first line.
    self_writes: list[tuple[str, int]] = field(default_factory=list)
    # `with LOCK:`, `with self.lock:` (a name or an attribute, outside nested scopes): the value-flow
    # expression entered, with the first and last line of the block (a `threading.Lock` guards it).
    locked: list[tuple[str, int, int]] = field(default_factory=list)
    # `async with LOCK:` likewise (an `asyncio.Lock` guards it on the event loop, across awaits).
    async_locked: list[tuple[str, int, int]] = field(default_factory=list)
    # `async with UnitOfWork(db):`, a call bound to no name: the item's line and the block's last
    # line, where the `__aexit__` of what it built runs (`held_commits`).
    async_built: tuple[tuple[int, int], ...] = ()
    # A path the own body both reads and changes (`key in SEEN` ... `SEEN.add(key)`): each read and
    # change as (kind: "free", "bound" or "self", path, line, statement ordinal, changes, code as
    # written, the container method called or ""), see `codemods/astcollect/check_then_act.py`;
    # paired by `codemods.phase1.shared_updates`.
    check_then_act: list[tuple[str, str, int, int, bool, str, str]] = field(default_factory=list)
    # Of an `async def`: the parameters its own body awaits in place on every path and reads no
    # other way (`return await coro`, `await wait_for(coro, 5)`), see `astcollect.awaited_later`.
    awaited_params: tuple[str, ...] = ()
    # Of a decorated `def` generator (a `@contextmanager` opener): "" when its body is only the
    # lifecycle of the Session it opens and yields once, else the first other statement
    # (codemods/astcollect/lifecycle.py); None when not read.
    lifecycle: str | None = None
    # Of a `def` generator taking parameters: `lifecycle` read as if a parameter were the Session
    # it works on (`def transaction(session): try: yield session; session.commit() ...`): "" or the
    # first other statement, and the parameters it yields or works on; None when not read.
    handed_lifecycle: tuple[str, tuple[str, ...]] | None = None
    # The calls that are the one item of a `with` statement of the own body binding no name
    # (`with transaction(db):`): their indexes.
    entered_alone: tuple[int, ...] = ()
    # `async with opener() as name:` items of the own body, on a call of a (dotted) name:
    # (name, the call's reference, its line, its index, the statement enters nothing else). An
    # `@asynccontextmanager` opener of a synchronous Session is entered so (phase2/scope_openers.py).
    async_entered: tuple[tuple[str, str, int, int, bool], ...] = ()
    # Local names that only ever hold a method of a local value to call later, and how:
    # `finish = db.commit`, `partial(db.commit)`, `lambda: db.commit()`, `for step in [db.flush, db.commit]`
    # -> (name, receiver as the flow spells it, `$db` or `$self.session`, method)
    # (codemods/astcollect/deferred.py).
    deferred: list[tuple[str, str, str]] = field(default_factory=list)
    # Local names that only ever hold a project or library function to call later, resolved:
    # `runner = functools.partial(run_in_session, count)`, `runner = crud.count` -> (name, ref).
    held_functions: list[tuple[str, str]] = field(default_factory=list)
    # Module-level names (defined or imported) the body uses other than by calling them, and
    # attributes read or set on them (`_local.tenant`), resolved, each once: thread-local state.
    module_reads: tuple[str, ...] = ()
    # What the own body iterates synchronously, in the value-flow notation read through `await`s
    # (`$db.stream()` for `for r in await db.stream(q)`, `$result.scalars()`): a plain `for` or
    # comprehension source, an argument of `list()`, `sorted()`, ... -> (line, as spelled).
    sync_iterated: tuple[tuple[int, str], ...] = ()
    # The special methods the own body runs without naming them, on a value the flow notation
    # spells: (line, the value, the protocol: `iter` for `for x in v`, `len`, `bool` for `if v:`,
    # `getitem`, `setitem`, `delitem`, `contains` for `k in v`, `eq` / `ne` for `v == x`, `next`,
    # `reversed`, `str`, `repr`, `format`) (`astcollect.implicit`); `Project.object_edges` reads
    # them as calls.
    implicit: tuple[tuple[int, str, str], ...] = ()

    def sole_binding(self, name: str) -> Binding | None:
        """The binding of local `name` (`name = expr`) when the body binds it exactly once, not by
        a `with ... as`, and no parameter has that name: what the name holds wherever it is read.
        None otherwise."""
        bound = [b for b in self.bindings if b.name == name]
        if len(bound) != 1 or bound[0].entered or any(p.name == name for p in self.params):
            return None
        return bound[0]


@dataclass(slots=True)
class CallArg(_Fact):
    """One argument of a module-level call or of an engine construction, as written."""

    keyword: str | None  # None for a positional argument; "*" and "**" for unpacking
    text: str  # the expression as written
    ref: str | None = None  # the resolved reference, when the expression is a dotted name
    local: bool = False  # names something local to the enclosing function


class ValueKind(str, Enum):
    """What a module-level value (`Value.kind`) is. The facts keep the plain string (they are
    pickled by the million); a `str`, as `HandlerKind`, compares equal to it."""

    ANNOTATED = "annotated"  # `Db = Annotated[Session, Depends(get_db)]`
    DEPENDS = "depends"  # `db_dep = Depends(get_db)`
    CALL = "call"  # `SessionLocal = sessionmaker(...)`
    NAME = "name"  # `get_session = get_db`

    def __str__(self) -> str:
        return self.value


@dataclass(slots=True)
class Value(_Fact):
    """A module-level assignment the index may need: an alias, a router, a sessionmaker."""

    kind: str  # a ValueKind's value
    line: int
    ref: str | None = None  # annotated: the type; depends: the target; call: the callee; name: the target
    depends: str | None = None  # annotated: the Depends() target
    # annotated: every reference in the type part; call of `TypeAdapter(T)`: every reference in T
    annotation: tuple[str, ...] = ()
    # annotated: the Depends() keywords besides the dependency (`scope="function"`,
    # `max_concurrency=5`, `use_cache=False`), each (keyword, its value as written)
    depends_options: tuple[tuple[str, str], ...] = ()
    args: tuple[CallArg, ...] = ()  # call: the arguments, as written
    # call: the call its first positional argument makes (`sessionmaker(...)` in
    # `scoped_session(sessionmaker(...))`), when it is one
    inner: Value | None = None


@dataclass(slots=True)
class EngineCall(_Fact):
    """A `create_engine(...)` (or async, or from-config) call: how an engine is built."""

    line: int
    callee: str  # resolved reference of the constructor
    args: tuple[CallArg, ...] = ()
    scope: str | None = None  # key of the enclosing function; None at module level
    target: str | None = None  # module level: the name it is assigned to
    conditional: bool = False  # under if/try/for/while/with, or a conditional expression


@dataclass(slots=True)
class Configure(_Fact):
    """`X.configure(...)` on a module-level or imported name: a sessionmaker (or the
    scoped_session around one) given its engine, or other keywords, after it was built."""

    line: int
    target: str  # resolved reference of X
    args: tuple[CallArg, ...] = ()
    scope: str | None = None  # key of the enclosing function; None at module level


@dataclass(slots=True)
class Row(_Fact):
    """One element of a module-level list or tuple display (`(users.router, "/users")`): per
    item (one for an element that is no tuple display), its resolved reference or its string
    literal, None where it is neither."""

    refs: tuple[str | None, ...]
    strings: tuple[str | None, ...]


@dataclass(slots=True)
class LoopInclude(_Fact):
    """`for router, prefix in ROUTERS: app.include_router(router, prefix=prefix)` over a display
    another module defines: which item of each element is the router (-1: the element itself,
    then `attributes` read on it) and the prefix (the item at `prefix_at`, else `prefix`)."""

    over: str  # resolved reference of the display
    router_at: int
    attributes: tuple[str, ...] = ()
    prefix_at: int | None = None
    prefix: str | None = ""


@dataclass(slots=True)
class Registration(_Fact):
    """`router.add_api_route("/x", endpoint, methods=[...])` and friends."""

    line: int
    base: str | None
    attr: str
    endpoint: str | None
    path: str | None
    methods: tuple[str, ...] = ()
    written: str | None = None  # the endpoint as written (`self.level`, `partial(f, "x")`)
    pragma: str | None = None  # `# async-migrate: ...` on the registration (text after the colon)
    # An endpoint that is a loop variable (`for path, fn in ROUTES.items(): add_api_route(path, fn)`),
    # read from the display the loop goes over: the module-level container it names (resolved), whose
    # display may be changed elsewhere; "?" for a loop over something the tool cannot read (then
    # `endpoint` is None).
    sources: tuple[str, ...] = ()
    # `dependencies=[Depends(f), ...]` of `include_router(...)` or `add_api_route(...)`: the
    # targets of that list's `Depends`.
    depends: tuple[str, ...] = ()
    # `add_api_route(..., response_model=...)`: as `Decorator.response_model` and `response_refs`.
    response_model: str | None = None
    response_refs: tuple[str, ...] = ()
    # The router as written when it is no reference the analysis can read (`self.router`, a local
    # or a parameter): its prefix is unknown, unless `held` names it.
    receiver: str | None = None
    # `self.router.add_api_route(...)` in a method (or on a local bound to `self.router`):
    # `module.Class.router`, as `Decorator.held`.
    held: str | None = None
    # An include in a loop over a display of another module: how each element of it is included.
    looped: LoopInclude | None = None
    # `app.add_api_route(...)` on a local the registering function builds (`app = FastAPI()` in an
    # application factory): the resolved reference of what made it, as `Decorator.router_call`.
    router_call: str | None = None
    # `router.add_api_route(..., route.endpoint)` for `route` taken from `router.routes` (a
    # class-based-view decorator registering a class's methods again): the endpoint is a route the
    # same router already serves, analysed where it was registered first.
    reregisters: bool = False
    # `def decorator(func): self.add_api_route(path, func); return func` in a method: the endpoint is
    # whatever the decorator it defines is applied to; the method's qualname (`AppRouter.api_route`).
    decorates: str | None = None
    # `router.get("/x")(endpoint)`: the route decorator applied by hand, as written
    # (`router.get("/x")`), recorded as the `add_*` call it amounts to.
    applied: str | None = None
    # `include_router(make_router("/users"))`: the call that builds the included router (its
    # callee and arguments as written), for a router factory's prefix parameter.
    made: Value | None = None

    def shown(self) -> str:
        """The registering call as the user wrote it: `router.get("/x")(...)`, `add_api_route(...)`."""
        return f"{self.applied}(...)" if self.applied else f"{self.attr}(...)"


@dataclass(slots=True)
class ImperativeMapping(_Fact):
    """What `registry.map_imperatively(Class, table, properties=...)` calls map onto one class."""

    # relationship() properties as `ClassFacts.relationships` and `ClassFacts.targets` have them
    relationships: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)
    # the primary key columns of the module-level `Table` it maps, when each is an attribute of
    # the same name
    primary: tuple[str, ...] = ()
    # deferred column properties (`deferred(t.c.body)`, `column_property(..., deferred=True)`)
    deferred: tuple[str, ...] = ()
    # and those declared `active_history=True` (`facts.ClassFacts.history`)
    history: tuple[str, ...] = ()
    # the column names of that `Table(...)`: attributes the mapping makes plain columns
    columns: tuple[str, ...] = ()
    # `properties=` as written where it cannot be read (a call, a name bound otherwise): which
    # attributes are relationships is unknown; "" when read
    unread: str = ""


@dataclass(slots=True)
class ClassFacts(_Fact):
    """A class statement at module level (or nested in if/try/with blocks, or in a class)."""

    name: str
    qualname: str
    line: int
    bases: tuple[str, ...] = ()  # resolved references of the positional bases
    # A subscripted base's resolved reference -> its subscript's elements as resolved references
    # ("" for one that is no name): `Repository[AsyncSession]` binds Repository's type parameter.
    base_args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    end: int = 0  # the last line of the class body
    # relationship() attributes -> the `lazy=` strategy as written ("select" when absent;
    # True/False/None normalised to "select"/"joined"/"noload"; other expressions as code;
    # absent under a `WriteOnlyMapped[...]`/`DynamicMapped[...]` annotation: "write_only"/"dynamic").
    relationships: dict[str, str] = field(default_factory=dict)
    # backref="name" / backref=backref("name", lazy=...): defined on the *other* class.
    backrefs: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()  # annotated attribute names, in order (ClassVar excluded)
    annotations: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> refs in its type
    # The items a field declared a collection holds (`_state: dict[str, PersistentConfig]`):
    # field -> their types, as `Module.declared_items`; what `self._state[key]` gives.
    declared_items: dict[str, tuple[str, ...]] = field(default_factory=dict)
    depends: dict[str, str] = field(default_factory=dict)  # field -> Depends() target of its default
    decorators: tuple[str, ...] = ()  # resolved references of the class decorators (`@cbv(router)`)
    names: tuple[str, ...] = ()  # every name the class body binds (assignments, annotations, defs)
    # Names the class body binds once to a display of literals and builtin types (`KEYS = {"a": "b"}`,
    # `{"top_k": int}`): plain data, never a Session nor anything holding one.
    literal_tables: tuple[str, ...] = ()
    # Attributes assigned a descriptor that runs code when read: `association_proxy("rel", "attr")`
    # -> ("proxy", "rel", "attr"); `property(...)`, `hybrid_property(...)` and other descriptors
    # built by a call the tool cannot read -> ("opaque", the callee).
    descriptors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Columns that load on first read (`deferred(...)`, `mapped_column(..., deferred=True)`).
    deferred: tuple[str, ...] = ()
    # Column properties declared `active_history=True` (or with keywords unpacked, which may say
    # so): setting one loads the value it replaces at once, where a plain column's set loads nothing.
    history: tuple[str, ...] = ()
    # `@validates("a", "b")` methods: attribute -> the methods a write of it runs on the object.
    validators: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # relationship() attributes -> the target class as its first argument names it (classic
    # declarative has no `Mapped[...]` annotation): resolved refs, or a bare class name the
    # mapper registry resolves (`relationship("Comment")` with Comment never imported).
    targets: dict[str, str] = field(default_factory=dict)
    # relationship() attributes -> the relationship of the target class it is the other side of,
    # as written (`back_populates="books"`, or the `backref="author"` it creates there).
    inverses: dict[str, str] = field(default_factory=dict)
    # relationship() attributes -> the keywords that shape its join, as given (`primaryjoin`,
    # `secondary`, `secondaryjoin`, `foreign_keys`; "**" for keywords unpacked from a mapping), or
    # what makes setting it load the value it replaces (`active_history`), with
    # those of the `backref(...)` it creates: whether a many-to-one back to a collection's holder
    # joins on the holder's primary key by the same foreign key (AM314's identity-map lookup).
    joins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # relationship() attributes whose `cascade=` holds refresh-expire (`"all"`, or a value the
    # collector cannot read): refreshing the object refreshes what they hold (AM314, AM291).
    cascading: tuple[str, ...] = ()
    # The column each foreign key of the class body names, as written (`ForeignKey("authors.id")`,
    # `ForeignKey(Author.id)`, sqlmodel's `Field(foreign_key="authors.id")`: "id"); "?" for one
    # that cannot be read there (a `ForeignKeyConstraint` in `__table_args__`, a computed target).
    references: tuple[str, ...] = ()
    # Fields validation reads under another name: `Field(alias="x")` / `validation_alias="x"` ->
    # "x"; `AliasPath("author", "name")` -> "author.name"; an `AliasPath` with an index,
    # `AliasChoices` or any other expression -> "?"; `"*"` -> "?" for a
    # `model_config` with an `alias_generator`.
    aliases: dict[str, str] = field(default_factory=dict)
    # How its own configuration has a pydantic model validate an object that is no dict nor one of
    # its instances: "yes" reading its attributes (`from_attributes=True`, v1's `orm_mode = True`),
    # "?" a configuration the collector cannot read (`model_config = BASE_CONFIG`), "" none said.
    from_attributes: str = ""
    # Class attributes assigned a call at class level -> the resolved callee (`lock =
    # asyncio.Lock()` -> "asyncio.Lock"): objects every instance shares.
    built: dict[str, str] = field(default_factory=dict)
    # Attributes a field specifier builds on each instance (`changed = attr.ib(factory=asyncio.Event)`,
    # `q: Any = field(default_factory=asyncio.Queue)`, `default=attr.Factory(...)`, a lambda
    # calling one) -> the resolved reference of what the factory calls.
    factories: dict[str, str] = field(default_factory=dict)
    # Class attributes assigned a module-level name (`session = SessionLocal`, the registry an
    # active-record base keeps for `cls.session.add(self)`) -> its resolved reference.
    named: dict[str, str] = field(default_factory=dict)
    # Of those built by a dependency-injector provider (`user_service = providers.Factory(
    # UserService, ...)`): the resolved reference of its first positional argument, "" when it
    # is no dotted name.
    provides: dict[str, str] = field(default_factory=dict)
    # Of those, the line of the provider's call and its other arguments (`session=session_factory`),
    # each as written when a dotted name (a sibling provider, `Container.x`, `x.provided.y`), as
    # `callee(first)` when a provider call written in place (`providers.Singleton(SessionLocal)`:
    # the resolved references), "" for any other expression: what the object it makes is handed.
    provider_lines: dict[str, int] = field(default_factory=dict)
    provider_args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Instance attributes the class's methods assign (`self.router = APIRouter(prefix="/x")`),
    # in modules whose text names a router: the call, as a module-level value; None for an
    # attribute assigned more than once or anything but a call.
    held: dict[str, Value | None] = field(default_factory=dict)
    # Instance attributes the class's methods bind to a call, in modules naming a cache or lock
    # class (`self.cache = TTLCache(...)`, `self.lock = threading.Lock()`): the callee's resolved
    # reference; "" for an attribute also bound to anything else. Not changed by an item write.
    instance_built: dict[str, str] = field(default_factory=dict)
    # Instance attributes a method binds to an empty or literal container (`self._state = {}`):
    # attribute -> (the storing method's line, the store's, each value put in, in the value-flow
    # notation, "?" where it cannot be spelled): what `self._state[key]` may give
    # (`astcollect/item_stores.py`).
    item_stores: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    # Those of them whose contents cannot be read whole (bound again, handed on, `update(...)`),
    # with the first line making them so.
    item_unread: dict[str, int] = field(default_factory=dict)
    # Attributes assigned a column constructor called with `primary_key=True` (`mapped_column`,
    # `Column`, sqlmodel's `Field`): what a `select` in place of `session.get` filters on.
    primary_keys: tuple[str, ...] = ()
    # The class sets `__mapper_args__` to something other than a dict display whose keys are
    # strings and leave out "primary_key" (a `declared_attr`, a variable, `primary_key=`): the
    # mapper's key may then not be the columns above.
    opaque_mapper_args: bool = False
    # `"polymorphic_load": "inline"` / `"selectin"` in a plain `__mapper_args__`: a query of a
    # base class loads this subclass's columns too.
    polymorphic_load: str = ""
    # A plain `__mapper_args__` naming `polymorphic_on`: a query of this class returns rows of its
    # mapped subclasses (without their own columns). Without it (nor opaque mapper arguments in
    # the class order) a query of the class returns the class only, however it is subclassed.
    polymorphic_on: bool = False
    # Columns the database computes on UPDATE (`onupdate=func.now()`, `server_onupdate=`,
    # `Computed(...)`: `astcollect/generated.py`), which the flush of a change expires; and whether
    # `__mapper_args__` fetches them with the flush (`"eager_defaults": True`).
    generated: tuple[str, ...] = ()
    eager_defaults: bool = False
    # Mapped imperatively (`classes.Classes` adds these from `Module.mapped`): the Table's column
    # names, and `properties=` as written where it cannot be read.
    mapped_columns: tuple[str, ...] = ()
    unread_properties: str = ""


@dataclass(slots=True)
class Module(_Fact):
    path: str  # posix, relative to the project root
    name: str  # dotted module name
    imports: dict[str, str] = field(default_factory=dict)
    values: dict[str, Value] = field(default_factory=dict)
    # `COUNT = lambda: run_in_session(count)` bound once at module level: name -> what the lambda calls
    lambdas: dict[str, str] = field(default_factory=dict)
    functions: list[Function] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    # Module-level names bound to a list or tuple display -> its elements (`Row`), for an include
    # in another module's loop over it; absent when an element cannot be read (`*rest`).
    rows: dict[str, tuple[Row, ...]] = field(default_factory=dict)
    # Calls with arguments module-level code makes anywhere in an expression, not only as the value
    # of `name = Call(...)` (`app.include_router(ItemRoutes(SessionLocal).router)`, `[Repo(maker)]`):
    # what a project class built there hands its `__init__` (`Flow._constructed_with`).
    constructions: list[Value] = field(default_factory=list)
    # Module-level names bound to an annotation saying it is a coroutine function (`Check =
    # Callable[..., Awaitable[None]]`) -> its form, or "?" (`astcollect.coroutine_returns.aliases`).
    coroutine_aliases: dict[str, str] = field(default_factory=dict)
    depends: list[str] = field(default_factory=list)  # every Depends() target in the module
    # `app.dependency_overrides[key] = override`: (key, override) by reference, the override also
    # in `depends`; FastAPI runs it only for the routes whose dependency tree names the key
    overrides: list[tuple[str, str]] = field(default_factory=list)
    engines: list[EngineCall] = field(default_factory=list)  # engine constructions, in order
    configures: list[Configure] = field(default_factory=list)  # `X.configure(...)` calls, in order
    # Module-level names bound to a string literal naming a URL (`DATABASE_URL = "sqlite://"`): the
    # literal; "" for a name also bound to anything else.
    urls: dict[str, str] = field(default_factory=dict)
    classes: list[ClassFacts] = field(default_factory=list)  # class statements, in order
    # Module-level names (imports, definitions) used as values rather than called, resolved:
    # a function listed here may be called from places the call graph cannot see.
    references: list[str] = field(default_factory=list)
    # Module-level names assigned a dict, list, tuple or set display -> the resolved references
    # among its keys, values and elements (constants left out; `?` for an element the tool cannot
    # read, or a name bound more than once), what a call through it may run (`Call.dispatch`).
    containers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Of those, each dict value or element as the value-flow notation spells it (`m.Room()`), `?`
    # where it cannot: what the container holds from the start.
    displayed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Module-level names bound once, to a dict, list, set or tuple display or comprehension: a
    # collection, whose own methods (`TABLE.get(key)`) are no Session's whatever it is called.
    collections: list[str] = field(default_factory=list)
    # Module-level names declared with an annotation (`WAKEUP: asyncio.Event | None = None`, or
    # no value at all) -> the references in it: what the name holds once something binds it.
    declared: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The same of the items a declared collection holds (`WAITERS: dict[int, asyncio.Future]`:
    # asyncio.Future, what `WAITERS.pop(k)` and `WAITERS[k]` give).
    declared_items: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Module-level names declared `ContextVar[T]` -> the references in T (`ContextVar[Session |
    # None]`: the Session): what the variable's `.get()` is declared to give.
    context_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Another module's name (or this one's) a function here binds as an attribute to what a call
    # builds (`signals.WAKEUP = asyncio.Event()` in the lifespan): its resolved reference -> the
    # resolved callees.
    rebound: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Module-level dict, list or tuple displays or comprehensions (also in `containers`) whose every
    # value is an `async_sessionmaker(...)`: calling one taken out opens an AsyncSession, nothing more.
    async_maker_tables: list[str] = field(default_factory=list)
    # The same of `sessionmaker(...)` calls: `T.get(key)` is a sessionmaker, `T.get(key)()` a Session.
    sync_maker_tables: list[str] = field(default_factory=list)
    # Resolved references of module-level names this module changes in place or hands to other
    # code (`TABLE["x"] = f`, `TABLE.update(...)`, `register(TABLE)`): their displays are not all.
    mutated: list[str] = field(default_factory=list)
    # Those of them this module changes with a value that may be an object (`POOL[k] = Repo(db)`,
    # `POOL.append(repo)`, handed to a call, bound anew by a `global`), not only with constants,
    # displays or lambdas (`dispatch.inert`): what a module-level container's items may be.
    stocked: list[str] = field(default_factory=list)
    # Module-level `X.attr = f(...)` on a dotted name: (X resolved, attr, f resolved, line).
    set_attributes: list[tuple[str, str, str, int]] = field(default_factory=list)
    # Module-level `setattr(X, name, value)` with a name computed at run time (`setattr(repo, ATTR,
    # SessionLocal())`, in a loop over a table) and a value that is no constant: (X resolved, line).
    computed_sets: list[tuple[str, int]] = field(default_factory=list)
    # Module-level `X.state.attr = value` (`app.state.config = AppConfig()`): (X resolved, attr,
    # the value in the value-flow notation, line); what every request reading `request.app.state.attr`
    # gets, as `Function.state_assigns` in a lifespan is.
    state_sets: list[tuple[str, str, str, int]] = field(default_factory=list)
    # The arguments of the call such a set assigns, by its line (`app.state.registry =
    # scoped_session(maker, scopefunc=request_scope.get)`): a registry's scope is read off them.
    state_set_args: dict[int, tuple[CallArg, ...]] = field(default_factory=dict)
    # Module-level `X.method(a, ...)` and `X.attr = a` on a dotted name X, where an argument (the
    # value) is a dotted name: (X resolved, `method` or `=attr`, the arguments' resolved references,
    # line). A Session handed to a library base this way (`BaseModel.set_session(session)`) is read
    # by `codemods/library_bound.py`.
    class_handoffs: list[tuple[str, str, tuple[str, ...], int]] = field(default_factory=list)
    # `event.listen(Model.attr, "set", handler)` calls, module-level or in a function's own body
    # (`astcollect/listeners.py`: registered once it runs) (any callee named `listen`;
    # readers check it is SQLAlchemy's): (callee, target, event name, handler, line), each
    # resolved; the handler `?` when not a name (a lambda, a call).
    listens: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    # Imperative mappings (`registry.map_imperatively(Product, products, properties={"batches":
    # relationship(Batch)})`, anywhere in the module, `start_mappers()` included): the mapped
    # class, resolved, -> what they map onto it, which `classes.Classes` adds to the class's own.
    mapped: dict[str, ImperativeMapping] = field(default_factory=dict)
    # Stores of the function a registering decorator is handed into a table
    # (`astcollect/registries.py`): (the table: a resolved module-level reference or `.attr` of
    # `self.attr`/`cls.attr`, the qualname of the function storing it, line).
    registering_stores: list[tuple[str, str, int]] = field(default_factory=list)
    # The last part of every name the module uses other than as a registration, a table read, an
    # empty binding or a decorator (`registries.read`): a table or decorator so named elsewhere
    # may hold more than the functions it decorates.
    loose_names: list[str] = field(default_factory=list)
    # Module-level names used as values anywhere in the module outside the places FastAPI takes a
    # function itself (a Depends() argument, a registered endpoint or hook, a dependency override):
    # (resolved, line, as written). A coroutine function listed here may be awaited, iterated or
    # wrapped (`asynccontextmanager(f)`) by whatever receives it.
    escapes: list[tuple[str, int, str]] = field(default_factory=list)
    # Calls of module names by module-level code whose result is a value handed on: not taken where
    # FastAPI takes a function (a Depends() argument, a registered endpoint), not called at once,
    # not the whole value a single name is bound to (the name's uses are that value's): (resolved,
    # line). What a dependency factory returns (`CHECKS = [requires("admin")]`) may be awaited there.
    made_values: list[tuple[str, int]] = field(default_factory=list)
    # Names of the module (defined or imported) called by code outside any function: a script's
    # statements, an `if __name__ == "__main__":` block, a module-level lambda, a class body, a
    # default or decorator argument: (resolved, line). The call graph holds calls made by
    # functions only, and such a caller runs synchronously: a helper it calls keeps its original.
    # Whether nothing reads what the call returns (a whole expression statement, or the test of an
    # `if`/`while`, where any coroutine is true) or only a builtin that never runs a coroutine
    # (`print(f(db))`) is the third: an unawaited coroutine lost (AM330).
    called: list[tuple[str, int, bool]] = field(default_factory=list)
    # Of those, the calls whose value a global name keeps that nothing in the module reads but
    # what never runs it (`pending = f(db)` ... `print(pending)`): (resolved, line, the name, those
    # reads). Lost unless another module reads the name (`astcollect.awaited_later.module_level`).
    kept_called: list[tuple[str, int, str, tuple[str, ...]]] = field(default_factory=list)
    # Functions handed to a GraphQL schema by call, anywhere in a module naming ariadne or graphene:
    # (what registers it, resolved, the form, the function, resolved, line). Forms: "set_field"
    # (`query.set_field("books", f)`, the receiver), "bindings" (`ObjectType("Query", {"books": f})`,
    # the callee), "resolver" (`graphene.Field(Book, resolver=f)`, the callee).
    schema_callables: list[tuple[str, str, str, int]] = field(default_factory=list)
    # Objects a name is looked up in at run time, anywhere in the module: (resolved reference, the
    # lookup as written), from `vars(crud)`, `crud.__dict__`, `getattr(crud, name)`,
    # `attrgetter(name)(crud)`, `import_module("app.crud")` (bound to a local first, too), and
    # `globals()` (this module's own name). `?` for `import_module(name)`: any module.
    by_name: list[tuple[str, str]] = field(default_factory=list)
    # Whether the module may name `scoped_session` at all (its text, identifiers normalised as
    # Python reads them, has the word): in a project where no module does, the value flow makes
    # no registry, and the analysis asks no expression whether it holds one.
    scoped: bool = True
    # Every name the module binds at its top level (`phase2.shadowed_imports.bindings`), read off
    # the tree its facts came from, so that naming a twin parses no module again; None where that
    # tree may not be the one `sources.tree_of` would give (a file not in UTF-8, newer syntax).
    # Sorted: a set would pickle in the order of the process's string hashes, and facts pickled
    # otherwise than last time are new facts to the warm cache unless compared field by field.
    top_bound: tuple[str, ...] | None = None

    def function(self, key: str) -> Function | None:
        for function in self.functions:
            if function.key == key:
                return function
        return None


class DefinitionKeys:
    """Stable keys for definitions: the qualified name, then `name#2`, `name#3`...

    The collector and the rewriters number definitions the same way, so a key
    names one `def` even when a module defines the same name twice.
    """

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def next(self, qualname: str) -> str:
        count = self._seen.get(qualname, 0) + 1
        self._seen[qualname] = count
        return qualname if count == 1 else f"{qualname}#{count}"

    def peek(self, qualname: str) -> str:
        """The key `next` would give, without taking it."""
        count = self._seen.get(qualname, 0) + 1
        return qualname if count == 1 else f"{qualname}#{count}"


def module_name(path: str) -> tuple[str, bool]:
    """Dotted module name for a posix path relative to the root, and whether it is a package."""
    parts = path[: -len(".py")].split("/") if path.endswith(".py") else path.split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def parameter_of(function: Function, arg: Arg) -> str | None:
    """The parameter of `function` an argument of a call to it lands in, by keyword or by
    position (`self` and `cls` are not given positionally), or None."""
    if arg.keyword is not None:
        return arg.keyword if any(p.name == arg.keyword for p in function.params) else None
    positional = [p.name for p in function.params if p.positional and p.name not in ("self", "cls")]
    return positional[arg.position] if arg.position is not None and arg.position < len(positional) else None
