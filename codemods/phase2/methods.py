"""Phase two through project classes: which method calls carry the Session, what stops a
method from moving, and how twins stay consistent across a class hierarchy.

A method reached with the Session (`crud.user.get(db, id=1)`, `self.helper(db)`,
`super().create(db, ...)`) moves like a function helper: in place when every caller is
known and migrates with it, else as an async twin method beside the original
(`get_async`). Calls are resolved by the value flow (`Project.object_edges`).

Consistency: Python dispatches a method by name on the instance's class, so every
method one call may run, and every override of a moved method in the project's
subclasses, moves the same way (all in place, or all twins under one name). An override
the route does not reach blocks it (AM242): `self.create_async(...)` in the base would
otherwise skip a subclass's synchronous `create`.

Sources: `Project.all_calls_from`/`all_calls_to`, `Flow.classes` (class order,
subclasses), and the application's source text for method names used as values.

Over 500 lines: what stops a method from moving and how its twins stay consistent read the
same dispatch rules (overrides, callers, special methods); apart, each would import the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, cast

from async_migrate.codemods import session_work, twin_names
from async_migrate.codemods.flow import REGISTRY
from async_migrate.codemods.phase2 import attribute_reads, holders, thread_own
from async_migrate.codemods.phase2.dependencies import callable_dependency, injected_class, instance_callers
from async_migrate.codemods.project import Edge, FunctionId, Project

if TYPE_CHECKING:
    from async_migrate.codemods.classes import Classes

# Decorators that leave a method a plain function the tool can make `async def`.
TRANSPARENT_DECORATORS = frozenset(
    {"staticmethod", "classmethod", "abc.abstractmethod", "typing.override", "typing_extensions.override"}
)
PROPERTY_DECORATORS = frozenset({"property", "functools.cached_property"})
MODEL_LIBRARIES = frozenset({"sqlalchemy", "sqlmodel", "pydantic"})
# Bases that add no methods of their own that could call a subclass's: `Generic[ModelT]`, `ABC`.
PLAIN_BASES = frozenset({
    "object", "builtins.object", "typing.Generic", "typing_extensions.Generic", "abc.ABC",
    "typing.Protocol", "typing_extensions.Protocol",
})


def is_method(project: Project, fid: FunctionId) -> bool:
    return project.flow.classes.owner(fid) is not None


def session_edges(project: Project, fid: FunctionId) -> list[Edge]:
    """The calls of `fid` phase two follows: those that hand over the Session or lead to one
    (opened by the callee, or held by an object the callee works on). Kept per project (the
    closures of scan's subsystems share their helpers): read the list, never change it."""
    kept = cast("dict[FunctionId, list[Edge]]", project.derived.setdefault("phase2.session_edges", {}))
    found = kept.get(fid)
    if found is None:
        found = kept[fid] = _find_session_edges(project, fid)
    return found


def _find_session_edges(project: Project, fid: FunctionId) -> list[Edge]:
    found = []
    for edge in project.all_calls_from[fid]:
        if thread_own.runs_own_session_in_thread(project, edge) or thread_own.only_in_threads(project, edge.callee):
            continue  # stays synchronous, in its thread
        if edge.session_args or project.opens_session(edge.callee) or project.opens_directly(edge.callee):
            found.append(edge)
        elif edge.via is not None and edge.callee in project.work_chains:
            found.append(edge)
        elif holders.passes_held(project, edge) or holders.builds_composer(project, edge):
            found.append(edge)
        elif edge.call.index == -1 and project.flow.is_property(edge.callee) and holders.holder_of(
            project, edge.callee
        ) is not None:
            # `self.repo` read in a method of a class holding the Session, `repo` a property building
            # `ItemRepository(self.db)`: the property runs there, with its blockers, though it does no
            # Session work of its own
            found.append(edge)
    return found


def object_work(project: Project, fid: FunctionId) -> bool:
    """Session work reached through objects: a method call on an instance whose class does
    Session work, or work on a Session the function does not receive as a parameter."""
    if held_elsewhere(project, fid):
        return True
    works = [e.callee for e in project.all_calls_from[fid] if e.via is not None and e.callee in project.work_chains]
    return any(not thread_own.only_in_threads(project, callee) for callee in works)


def held_elsewhere(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """Session work on a Session phase two does not replace: held by the instance (`self.db`),
    a module-level global (a `scoped_session`), or opened by something other than the
    sessionmaker (`with get_db() as db` for a `contextmanager`). (line, what)."""
    opened = {o.line for o in project.opens_directly(fid)}
    # `with session_scope() as s`: the opener's async twin is entered there instead.
    entered = project.entered_openers(fid)
    opened |= {o.line for o in project.functions[fid][1].opens if o.index in entered}
    opened |= {line for _, _, line, index, _ in project.functions[fid][1].async_entered if index in entered}
    names = project.session_names(fid)
    # `db = session` is another name for a parameter (AM210 says so), not a Session of its own.
    aliases = tuple(alias for alias, source in project.functions[fid][1].rebinds if source in names)
    return [
        (line, text) for line, text in project.own_work(fid)
        if line not in opened and not text.startswith(tuple(f"{a}." for a in aliases))
        and not any(f"({a})" in text for a in aliases)
    ]


def own_blockers(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """What stops one method from becoming `async def`, on its own: (line, message)."""
    module, function = project.functions[fid]
    found: list[tuple[int, str]] = []
    registered = _route_decorator_lines(project).get(fid, set())
    for decorator in function.decorators:
        name = project.canonical(decorator.callee) or decorator.text
        if name in TRANSPARENT_DECORATORS or name.rsplit(".", 1)[-1] in ("staticmethod", "classmethod"):
            continue
        if decorator.line in registered:
            continue  # `@router.get(...)` on a class-based view's method: FastAPI awaits a coroutine route
        if (name in PROPERTY_DECORATORS or decorator.attr in ("setter", "getter", "deleter")) and (
            built := _builds_on_held(project, fid)
        ):
            # `@cached_property def repo(self): return ItemRepository(self._db)`: the repository is
            # built out of the calls the analysis follows from `__init__` to the routes' Session.
            owner = function.qualname.rpartition(".")[0]
            found.append((decorator.line, f"is a property (`@{decorator.text}`) building `{built[1]}` around the "
                          f"Session {owner} holds: phase two moves such an object with its class only when "
                          f"`{owner}.__init__` builds it, so build it there (`self.{function.name} = ...`)"))
        elif name in PROPERTY_DECORATORS or decorator.attr in ("setter", "getter", "deleter"):
            found.append((decorator.line, f"is a property (`@{decorator.text}`): reading an attribute cannot "
                          "await, so it stays synchronous"))
        else:
            found.append((decorator.line, f"is decorated with `@{decorator.text}`: the tool cannot tell whether "
                          "the decorator works with a coroutine method"))
    holder = holders.holder_of(project, fid)
    if function.name == "__init__" and holder is not None and fid == holder.init and not project.own_work(fid):
        pass  # stores the Session: stays a plain `def`, its parameter becomes AsyncSession
    elif function.name == "__init__" and injected_class(project, fid):
        pass  # an injected class's: stays a plain `def`, its `Depends(...)` defaults move to the twins
    elif callable_dependency(project, fid) and not instance_callers(project, fid):
        pass  # FastAPI runs it for the instance, and awaits an `async def __call__` (AM267)
    elif function.name in CONTEXT_METHODS:
        pass  # a unit of work's `with`: AM297, context_blockers
    elif function.name == "__call__":
        # `Permission("admin")(db)`, `counter(3)`: called like a function, so it could be awaited,
        # but phase two rewrites no direct call of an instance
        owner = function.qualname.rpartition(".")[0]
        found.append((function.line, f"is the `__call__` of {owner}, whose instances are called directly "
                      f"({', '.join(instance_callers(project, fid)) or 'no caller seen'}), which phase two does not move: migrate the route by "
                      "hand (with an async form of the class for it)"))
    elif function.name in _AWAITED_SPECIAL:
        # `async with` and `async for` await these: no caller to rewrite, but the method is not moved
        found.append((function.line, f"is the special method `{function.name}`, which `async "
                      f"{_AWAITED_SPECIAL[function.name]}` awaits and phase two does not move: its synchronous "
                      "Session work stays unawaited; move that work into a method of its own that it awaits"))
    elif function.name.startswith("__") and function.name.endswith("__"):
        found.append((function.line, f"is the special method `{function.name}`: Python calls it without "
                      "`await`"))
    # A Session the method opens itself (`with SessionLocal() as db:`, `.begin()`, or assigned and
    # closed in a `finally`) is no reason of its own: as in a function, its twin opens an
    # AsyncSession from the async sessionmaker, a transaction apart from the request's as before,
    # and what cannot move so (another sessionmaker, arguments, a Session left unclosed, a
    # registry's shared Session) blocks with the function's reasons (closure._openers and after).
    return found


# The special methods Python awaits itself, and the statement that does.
_AWAITED_SPECIAL = {"__aenter__": "with", "__aexit__": "with", "__anext__": "for"}
# The special methods a `with` statement calls without `await`.
CONTEXT_METHODS = ("__enter__", "__exit__")


def context_blockers(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """A method the route reaches that a `with` statement runs (a unit of work's `__enter__` or
    `__exit__`), which cannot become `async def`: (line, message naming the class and the Session
    work the method does, its own or through what it calls)."""
    _, function = project.functions[fid]
    if function.name not in CONTEXT_METHODS or not is_method(project, fid):
        return []
    holder = holders.holder_of(project, fid)
    if holder is not None and fid in holder.methods:
        # The class moves with its Session: its copy is an asynchronous context manager
        # (`__aenter__`/`__aexit__`), entered with `async with` (phase2/unit_of_work.py says where
        # it cannot be); what keeps the class from moving is its own (`HolderClass.problems`).
        return []
    owner = function.qualname.rpartition(".")[0] or function.qualname
    own = project.own_work(fid)
    through = sorted(
        (e.call.line, e.via or project.functions[e.callee][1].qualname)
        for e in project.all_calls_from[fid] if e.callee in project.work_chains
    )
    if own:
        done = f"does Session work (`{own[0][1]}`, line {own[0][0]})"
    elif through:
        done = f"reaches Session work through `{through[0][1]}()` (line {through[0][0]})"
    elif built := _builds_on_held(project, fid):
        # No I/O here, but the object built holds the Session: moved alone, the class would
        # hand the AsyncSession to a repository built in code phase two leaves synchronous.
        return [(built[0], (
            f"`{function.qualname}` builds `{built[1]}` around the Session `{owner}` holds; phase two moves such "
            f"an object with its class only when the class's `__init__` builds it: build it in `{owner}.__init__`"
        ))]
    else:
        done = "reaches Session work through what it calls"
    return [(function.line, (
        f"`{function.qualname}` {done}; a `with` statement calls `{function.name}` without `await`, so none of "
        f"it could be awaited there: `{owner}` would have to become an asynchronous context manager (`async def "
        "__aenter__`/`__aexit__`, `async with` wherever it is entered, its commit awaited), which phase two does "
        "not write"
    ))]


def _builds_on_held(project: Project, fid: FunctionId) -> tuple[int, str] | None:
    """(line, `Repo(self.db)`) where a method hands the Session its instance holds to a class
    that only stores it, or None."""
    holder = holders.holder_of(project, fid)
    if holder is None:
        return None
    paths = {f"${project.functions[fid][1].params[0].name}.{a}" for a in holder.attributes}
    for call in project.functions[fid][1].calls:
        passed = next((arg.expr for arg in call.args if arg.expr in paths), None)
        if passed is not None and project.stores_session(call.callee):
            callee = (call.func or call.callee or "").rpartition(".")[2]
            return call.line, f"{callee}({passed.lstrip('$')})"
    return None


# Decorators of a plain function that leave it one the tool can make `async def` (a generator
# under `contextmanager` is AM216's; a decorator opening the Session, AM262's).
_FUNCTION_DECORATORS_TOLD = frozenset({"contextlib.contextmanager", "contextlib.asynccontextmanager"})


def function_decorators(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """What stops a decorated plain helper from becoming `async def`: (line, message). A decorator
    (`@translate_errors` catching IntegrityError around the call, `@retry`, `@traced`, a cache)
    wraps the call in a synchronous wrapper, which would get the coroutine back unawaited: the
    Session work would run when the caller awaits it, outside what the wrapper does around it."""
    _, function = project.functions[fid]
    if function.is_async or session_work.no_io_only(project, fid):
        return []  # a coroutine function already, or one staying a plain `def` (`db.add()` alone)
    opening = {decorator.line for decorator, _ in project.opening_decorators(fid)}
    found: list[tuple[int, str]] = []
    for decorator in function.decorators:
        name = project.canonical(decorator.callee) or decorator.text
        if name in TRANSPARENT_DECORATORS or name in _FUNCTION_DECORATORS_TOLD or decorator.line in opening:
            continue
        shape, where = project.decorator_shape(decorator)
        if project.decorator_shape(decorator, coroutine=True)[0] == "coroutine":
            continue  # async-aware: a coroutine function gets an `async def` wrapper awaiting it
        if shape == "passthrough" and where not in ("configuration", "Python", "dependency-injector"):
            # No wrapper: the decorator hands the function itself on (a command bus's
            # `@bus.handles(PlaceOrder)`, a registry, a marker), and what it was handed to calls it
            # as a plain function; a coroutine function there would hand back a coroutine unawaited.
            found.append((decorator.line, (
                f"`{function.name}` is decorated with `@{decorator.text}`, which hands on the function itself "
                f"({where}: a registry or marker): made a coroutine function, whatever calls it from there would "
                "get a coroutine back, unawaited, and phase two does not write an undecorated twin beside it; move "
                f"the Session work into an undecorated function that `{function.name}` calls and call that from the "
                "route (phase two then migrates it), or migrate the route by hand"
            )))
            continue
        listed = project.canonical(decorator.callee)
        moved = session_work.moved_by_wrapper(project, fid, decorator)
        found.append((decorator.line, f"`{function.name}` is decorated with `@{decorator.text}`{moved}: as a coroutine its "
                      "decorator's synchronous wrapper would return the coroutine unawaited, so what the wrapper "
                      "does around the call (catching errors, retrying, timing, caching) would no longer cover "
                      "the Session work; make the decorator async-aware (one that already is: list it"
                      + (f' as "{listed}"' if listed else "")
                      + " under `async-safe-decorators`), or move the Session work out of the decorated "
                      "function, and rerun phase two"))
    return found


def _route_decorator_lines(project: Project) -> dict[FunctionId, set[int]]:
    """Lines of the decorators registering each route (`@router.get(...)`)."""
    found = cast("dict[FunctionId, set[int]] | None", project.derived.get("phase2.route_decorators"))
    if found is None:
        found = {}
        for handler in project.handlers:
            for registration in handler.registrations:
                if registration.decorator is not None:
                    found.setdefault(handler.id, set()).add(registration.decorator.line)
        project.derived["phase2.route_decorators"] = found
    return found


def overrides(project: Project, fid: FunctionId) -> list[FunctionId]:
    """Methods of the project's subclasses that override `fid`."""
    return _named_alike(project, fid, lambda classes, owner: classes.subclasses(owner))


def overridden(project: Project, fid: FunctionId) -> list[FunctionId]:
    """Methods of the project's base classes that `fid` overrides: a call the analysis pins to
    the base method may run `fid` at run time."""
    return _named_alike(project, fid, lambda classes, owner: classes.mro(owner)[1:])


def _named_alike(
    project: Project, fid: FunctionId, related: Callable[[Classes, str], Iterable[str]]
) -> list[FunctionId]:
    """The methods named as the method `fid` on the classes `related` to its class, in their order."""
    classes = project.flow.classes
    owner = classes.owner(fid)
    if owner is None:
        return []
    name = project.functions[fid][1].name
    found = []
    for cls in related(classes, owner):
        other = classes.methods.get(cls, {}).get(name)
        if other is not None and other != fid and other not in found:
            found.append(other)
    return found


def uncertain_calls(project: Project, fid: FunctionId) -> list[Edge]:
    """Session-carrying calls of `fid` the value flow cannot pin to one implementation."""
    return [e for e in session_edges(project, fid) if not e.certain]


def dispatch_groups(project: Project, methods: Iterable[FunctionId]) -> list[set[FunctionId]]:
    """Methods that must move the same way: one call may run any of them, or one overrides
    another in the project's class order."""
    chosen = set(methods)
    parent = {fid: fid for fid in chosen}

    def find(fid: FunctionId) -> FunctionId:
        while parent[fid] != fid:
            parent[fid] = parent[parent[fid]]
            fid = parent[fid]
        return fid

    def join(a: FunctionId, b: FunctionId) -> None:
        parent[find(a)] = find(b)

    for fid in chosen:
        for other in overrides(project, fid):
            if other in chosen:
                join(fid, other)
    by_call: dict[tuple[FunctionId, int], list[FunctionId]] = {}
    for edge in project.object_edges:
        if edge.callee in chosen:
            by_call.setdefault((edge.caller, edge.call.index), []).append(edge.callee)
    for targets in by_call.values():
        for other in targets[1:]:
            join(targets[0], other)
    groups: dict[FunctionId, set[FunctionId]] = {}
    for fid in chosen:
        groups.setdefault(find(fid), set()).add(fid)
    return list(groups.values())


def unresolved_callers(project: Project, fid: FunctionId) -> list[str]:
    """Calls anywhere in the project that may run the method but that the analysis could not
    resolve: `x.name(...)` on a value of unknown type. (`module:line`.)"""
    name = project.functions[fid][1].name
    resolved = cast(set, project.derived.get("phase2.resolved_calls"))
    if resolved is None:
        resolved = {(e.caller, e.call.index) for e in (*project.edges, *project.object_edges)}
        project.derived["phase2.resolved_calls"] = resolved
    flow = project.flow
    found = []
    for caller, (module, function) in project.functions.items():
        for call in function.calls:
            written = call.func or call.callee or ""
            if not written.endswith("." + name) or (caller, call.index) in resolved:
                continue
            receiver = written[: -len(name) - 1]
            if receiver == "super()" and not _super_may_run(project, caller, fid):
                continue  # `super().__init__(sku)` in an exception class: another hierarchy's method
            # A dotted reference: only one into the project can name a project method.
            if call.func is None and not any(receiver == m or receiver.startswith(m + ".") for m in project.modules):
                continue
            if flow.holds(caller, receiver) is not None or flow.holds(caller, receiver, REGISTRY) is not None:
                continue  # `db.add(...)`, `db_session.add(...)` on a `scoped_session`: a Session's own method
            found.append(f"{module.path}:{call.line}")
    return found


def _super_may_run(project: Project, caller: FunctionId, fid: FunctionId) -> bool:
    """Whether `super().name(...)` in the method `caller` may run the method `fid`: only where
    an instance's class has the caller's class and, after it, `fid`'s (a subclass of `fid`'s
    class, or of both). Unknown (a nested function, a class the analysis has not) counts."""
    classes = project.flow.classes
    owner, home = classes.owner(fid), classes.owner(caller)
    if owner is None or home is None:
        return True
    return any(home in classes.mro(sub) for sub in classes.subclasses(owner))


def value_uses(read: Callable[[str], str] | None, project: Project, name: str) -> list[str]:
    """Places the method name appears as an attribute that is not called, or as a string in
    `getattr(obj, "name")`: the method may be passed around as a callback. Read from the
    source text, so a dict of callbacks counts too. (`path:line`; with no source: unknown.)"""
    if read is None:
        return ["(source not read)"]
    escaped = re.escape(name)
    # Read outside string literals: `"warehouse.rename"`, an event name, names no method.
    named = re.compile(
        rf"\.{escaped}\b(?!\s*\()"  # `obj.name` not called: `callbacks = [repo.get]`
        rf"|[=(,\[{{]\s*{escaped}\b(?!\s*[(.\[=])"  # `find = name` in a class body, `f(name)`
    )
    looked_up = re.compile(rf"getattr\(.*[\"']{escaped}[\"']")  # `getattr(obj, "name")`
    found = []
    for module in project.modules.values():
        text = _source(read, project, module.path)
        for number, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            if code.lstrip().startswith(("def ", "async def ")):
                continue
            if looked_up.search(code) or named.search(_STRING.sub('""', code)):
                found.append(f"{module.path}:{number}")
    return found


_STRING = re.compile(r"([\"'])(?:\\.|(?!\1).)*\1")  # a one-line string literal's quotes and text


def hierarchy_names(
    project: Project, fids: Iterable[FunctionId], read: Callable[[str], str] | None = None
) -> set[str]:
    """Every method and field name of the classes the methods belong to, their project bases
    and their subclasses, and every word of the modules defining them (class attributes set
    without an annotation are not in the facts): a twin method's name must be free in all."""
    classes = project.flow.classes
    names: set[str] = set()
    for fid in fids:
        owner = classes.owner(fid)
        if owner is None:
            continue
        for cls in {*classes.mro(owner), *classes.subclasses(owner)}:
            names.update(classes.methods.get(cls, {}))
            module, found = classes.by_ref[cls]
            names.update(found.fields)
            names.update(attribute for (ref, attribute) in classes.assigned if ref == cls)
            if read is not None:
                names.update(re.findall(r"\w+", _source(read, project, module.path)))
    return names


def _source(read: Callable[[str], str], project: Project, path: str) -> str:
    cache = cast(dict[str, str], project.derived.setdefault("phase2.sources", {}))
    if path not in cache:
        try:
            cache[path] = read(path)
        except OSError:
            cache[path] = ""
    return cache[path]


def twin_name(project: Project, group: list[FunctionId], read: Callable[[str], str] | None) -> str:
    """`name_async`, or `name_async_2`, ...: the first name free in every class of the group's
    hierarchies, so `super().name_async()` and overrides line up."""
    used = hierarchy_names(project, group, read)
    base = project.functions[group[0]][1].name + project.config.twin_suffix
    return twin_names.free(base, used.__contains__)


def unseen_callers(
    project: Project, helpers: Iterable[FunctionId], read: Callable[[str], str] | None
) -> dict[FunctionId, list[str]]:
    """Methods that may be called where the analysis cannot see: `x.name(...)` on a value of
    unknown type, or the name used as a value (a callback): method -> places."""
    chosen = set(helpers)
    found = {}
    for fid in chosen:
        if not is_method(project, fid):
            continue
        name = project.functions[fid][1].name
        uses = [] if view_init(project, fid) else attribute_reads.drop_reads(
            project, fid, read, value_uses(read, project, name)  # `row.name`: no callback
        )
        places = unresolved_callers(project, fid) + _offloads_left_out(read, project, fid, uses)
        # Moved in place, an override would turn calls made through its synchronous base
        # method into coroutines: the twin leaves the override as it was.
        places += [
            f"{project.functions[base][0].path}:{project.functions[base][1].line} (the overridden "
            f"{project.functions[base][1].qualname})"
            for base in overridden(project, fid) if base not in chosen
        ]
        # A base the tool cannot read may call the method itself (an override of a library's
        # hook): the library would get a coroutine. The twin leaves the method as it was.
        places += [f"{where} (its class inherits from `{base}`, outside PATH)" for where, base in unseen_bases(project, fid)]
        if places:
            found[fid] = places
    return found


def view_init(project: Project, fid: FunctionId) -> bool:
    """The `__init__` of a class-based view (a class with a route among its methods). A class
    decorator registering the view reads it uncalled (`old_init = cls.__init__` in a `@cbv` of
    the project's own, wrapped by an `__init__` passing on what FastAPI gives it, its signature
    read for the dependencies): that `__init__` stays a plain function, run when FastAPI builds
    the view, and the Session it gets is the one its `Depends(...)` default names; the word
    `__init__` in a file the pre-pass never read says no more. A written call
    (`cls.__init__(view, db)`) is still an unresolved caller."""
    if project.functions[fid][1].name != "__init__":
        return False
    owner = project.flow.classes.owner(fid)
    if owner is None:
        return False
    return any(m in project.handlers_by_id for m in project.flow.classes.methods.get(owner, {}).values())


def _offloads_left_out(
    read: Callable[[str], str] | None, project: Project, fid: FunctionId, places: list[str]
) -> list[str]:
    """`places` less the lines where the method is handed, uncalled, only to an offload the call
    graph resolves to it (`await run_in_threadpool(service.deactivate, user_id)`): phase two
    rewrites that call into an awaited call of the method, so it is no callback left behind."""
    if read is None:
        return places
    offloaded: dict[str, int] = {}
    for edge in project.all_calls_to[fid]:
        if edge.call.offloaded:
            where = f"{project.functions[edge.caller][0].path}:{edge.call.line}"
            offloaded[where] = offloaded.get(where, 0) + 1
    if not offloaded:
        return places
    uncalled = re.compile(rf"\.{re.escape(project.functions[fid][1].name)}\b(?!\s*\()")
    kept = []
    for place in places:
        path, _, number = place.rpartition(":")
        if place in offloaded and number.isdigit():
            line = _source(read, project, path).splitlines()[int(number) - 1].split("#", 1)[0]
            if len(uncalled.findall(line)) == offloaded[place] and "getattr" not in line:
                continue
        kept.append(place)
    return kept


def unseen_bases(project: Project, fid: FunctionId) -> list[tuple[str, str]]:
    """Bases of a method's class, or of its project bases, that the tool cannot read:
    (`path:line` of the class, the base as written)."""
    classes = project.flow.classes
    owner = classes.owner(fid)
    if owner is None:
        return []
    found = []
    for cls in classes.mro(owner):
        module, facts_class = classes.by_ref[cls]
        for base in facts_class.bases:
            if is_unseen_base(project, base):
                found.append((f"{module.path}:{facts_class.line}", project.canonical(base) or base))
    return found


def is_unseen_base(project: Project, base: str) -> bool:
    """A base class the tool cannot read that may call methods of its subclasses: not a project
    class, not a plain base, not a mapped or validated model's base (SQLAlchemy, SQLModel and
    pydantic call no method of a subclass by a name it chose), not a project value
    (`Base = declarative_base()`)."""
    if project.flow.classes.resolve(base) is not None:
        return False
    canonical = project.canonical(base) or base
    if canonical in PLAIN_BASES or canonical.split(".", 1)[0] in MODEL_LIBRARIES:
        return False
    target = project.resolve(base)
    return target is None or target.kind == "external"

