"""Calls through a container, joined across modules: what `TABLE[kind]()` may run.

The collector records where a called value comes from (`facts.Call.dispatch`), what each
module-level display holds (`facts.Module.containers`) and which names a module changes in
place or hands on (`facts.Module.mutated`). Here a container is found again through imports
and re-exports; a call through it may run any project function it holds (`Project.object_edges`
follows each, as any implementation of a dispatch). A container the tool cannot read whole
(built at run time, changed or handed on anywhere, imported from outside the project) makes
the call unverified (`Project.own_unverified`), never one that runs nothing. A queue of work
(`job, kwargs = QUEUE.popleft(); job(**kwargs)`) is filled at run time by design: its call is
unverified only where the project hands on functions doing Session work or taking a Session.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.by_name import UNKNOWN
from async_migrate.codemods.astcollect.dispatch import BY_NAME, LAMBDA, LOCAL, READERS, UNREAD

if TYPE_CHECKING:
    from collections.abc import Container

    from async_migrate.codemods.project import FunctionId, Project


# The words of a field's type that name no class of its values: `Optional[type[Iface]]` holds Iface.
_TYPE_WORDS = frozenset({"Optional", "Union", "Type", "type", "None"})
_TYPING = frozenset({"typing", "typing_extensions", "builtins"})


@dataclass(slots=True)
class Dispatch:
    """What one call through containers may run."""

    targets: list[FunctionId]
    unread: str | None = None  # why a container cannot be read whole, naming it


class Containers:
    def __init__(self, project: Project) -> None:
        self.project = project
        self._found: dict[str, tuple[str, str] | None] = {}
        changed: set[tuple[str, str]] = set()
        self.changed = changed
        if not any(module.containers for module in project.modules.values()):
            return
        for module in project.modules.values():
            for ref in module.mutated:
                home = self.home(ref)
                if home is not None:
                    changed.add(home)
            # handed to code that may add to it (`register(TABLE)`); builtins that only read aside
            for function in module.functions:
                for call in function.calls:
                    if call.callee is not None and call.callee in READERS:
                        continue
                    for arg in call.args:
                        home = self.home(arg.ref)
                        if home is not None:
                            changed.add(home)

    def home(self, ref: str | None, depth: int = 0) -> tuple[str, str] | None:
        """(module, name) of the module-level display `ref` names, through imports and aliases."""
        if ref is None or depth > 25:
            return None
        if ref in self._found:
            return self._found[ref]
        self._found[ref] = None  # cycle guard
        found = self._home(ref, depth)
        self._found[ref] = found
        return found

    def _home(self, ref: str, depth: int) -> tuple[str, str] | None:
        modules = self.project.modules
        parts = ref.split(".")
        for split in range(len(parts) - 1, 0, -1):
            module = modules.get(".".join(parts[:split]))
            if module is None:
                continue
            rest = parts[split:]
            if len(rest) != 1:
                return None
            name = rest[0]
            if name in module.containers:
                return module.name, name
            if name in module.imports:
                return self.home(module.imports[name], depth + 1)
            value = module.values.get(name)
            if value is not None and value.kind == "name" and value.ref is not None:
                return self.home(value.ref, depth + 1)
            for star in filter(None, module.imports.get("*", "").split(",")):
                found = self.home(f"{star}.{name}", depth + 1)
                if found is not None:
                    return found
            return None
        return None

    def declared_targets(self, module: facts.Module, name: str) -> list[FunctionId] | None:
        """What calling a value of the table `name` may run by its declaration, whatever code
        elsewhere puts in it: `DEPS: Deps` for a `TypedDict` whose fields are `Optional[type[Iface]]`
        or project objects (`type[Iface]` constructs Iface or a subclass: their `__init__`; an
        object runs its class's `__call__`). None where a field's type is anything else (a
        `Callable`, a library type, an undeclared table): what it runs is then unread."""
        from async_migrate.codemods.classes import project_classes

        declared = module.declared.get(name, ())
        classes = project_classes(self.project)
        typed = classes.resolve(declared[0]) if len(declared) == 1 else None
        if typed is None or not any(
            base.rsplit(".", 1)[-1] == "TypedDict" for cls in classes.mro(typed) for base in classes.by_ref[cls][1].bases
        ):
            return None
        found: list[FunctionId] = []
        for _, refs in classes.fields(typed):
            for ref in refs:
                if ref in _TYPE_WORDS or ref.rsplit(".", 1)[0] in _TYPING and ref.rsplit(".", 1)[-1] in _TYPE_WORDS:
                    continue
                cls = classes.resolve(ref)
                if cls is None:
                    return None
                for kind in (cls, *classes.subclasses(cls)):
                    for method in ("__init__", "__call__"):
                        found.extend(fid for fid in classes.method(kind, method)[0] if fid not in found)
        return found

    def dispatch(self, call: facts.Call) -> Dispatch:
        targets: list[FunctionId] = []
        unread: str | None = None
        for source in call.dispatch:
            if source.startswith("="):
                if not self._add(source[1:], targets):
                    unread = unread or f"`{source[1:].rsplit('.', 1)[-1]}`, a value the analysis cannot follow"
                continue
            if source == UNREAD:
                unread = unread or "an element of the display it loops over, which the analysis cannot read"
                continue
            if source == LAMBDA:
                continue  # its calls are the caller's own; what the call hands it, `Project` judges
            if source.startswith(BY_NAME):
                # `getattr(crud, name)(db)`: any function the module holds may be the one that runs
                self._looked_up(source, targets)
                continue
            if source.startswith(("self.", LOCAL)):
                registered = self.registered_table(source)
                for fid in registered or ():
                    if fid not in targets:
                        targets.append(fid)
                continue  # otherwise the instance's or a local name's table: `unreadable_table` judges it
            home = self.home(source)
            written = source.rsplit(".", 1)[-1]
            registered = self.registered_table(source)
            if registered is not None and (home is None or not self.project.modules[home[0]].containers[home[1]]):
                # `HANDLERS = {}` filled only by a registering decorator: it holds what that decorates
                for fid in registered:
                    if fid not in targets:
                        targets.append(fid)
                continue
            if home is None:
                unread = unread or f"`{written}`, which is no dict, list or tuple display of the project"
                continue
            module = self.project.modules[home[0]]
            held = module.containers[home[1]]
            if home not in self.changed and home[1] in module.async_maker_tables:
                continue  # an async_sessionmaker: calling it opens an AsyncSession and runs nothing else
            if home in self.changed:
                declared = self.declared_targets(module, home[1])
                if declared is None:
                    unread = unread or f"`{written}`, which code elsewhere changes or is handed to"
                targets.extend(fid for fid in declared or () if fid not in targets)
            elif UNREAD in held:
                unread = unread or f"`{written}`, which holds values the analysis cannot read"
            for ref in held:
                if ref.startswith(BY_NAME):  # `TABLE = [getattr(crud, name)]`
                    self._looked_up(ref, targets)
                elif ref != UNREAD and not self._add(ref, targets):
                    unread = unread or f"`{written}`, which holds values the analysis cannot follow"
        return Dispatch(targets, unread)

    def unread(self, call: facts.Call) -> str | None:
        """Why the analysis cannot tell all a call through containers may run (`Dispatch.unread`),
        None where it can. A queue of work (`job, kwargs = QUEUE.popleft(); job(**kwargs)`) is
        filled at run time by design: what it runs is open only where the project hands on
        functions doing Session work (`handed_work`), and the reason names them."""
        unread = self.dispatch(call).unread
        if unread is None or not call.popped:
            return unread
        handed = self.handed_work(queued=True)
        if handed is None:
            return None
        queue = next((s for s in call.dispatch if s not in (UNREAD, LAMBDA) and not s.startswith(("=", BY_NAME))), None)
        return f"`{queue.lstrip(LOCAL).rsplit('.', 1)[-1]}`, filled at run time; {handed}" if queue else f"{unread}; {handed}"

    def handed_work(self, queued: bool = False) -> str | None:
        """`the project hands on functions doing synchronous Session work (record, handed on as
        `record` at jobs.py:12 and 1 more), and any of them may be what it runs`; None where it
        hands on none (`registered_work`). `queued`: for a value a queue of work gives, whose
        Session is queued beside it (`enqueue(record, db=db)`), functions taking one count too
        (`registered_takers`)."""
        registered = self.registered_takers if queued else self.registered_work
        if not registered:
            return None
        fid, where = registered[0]
        more = f" and {len(registered) - 1} more" if len(registered) > 1 else ""
        what = "doing synchronous Session work or taking a Session" if queued else "doing synchronous Session work"
        return (
            f"the project hands on functions {what} ({self.project.functions[fid][1].qualname}, "
            f"{where}{more}), and any of them may be what it runs"
        )

    def unreadable_table(self, call: facts.Call) -> str | None:
        """A call of a value out of a table no module-level display holds (`self._handlers[type(m)]`,
        `cls.registry.get(type(m))`, a parameter's `handlers[kind]`), when the project hands on a
        function doing synchronous Session work (a registering decorator, `bus.register(M, h)`): it
        may be in that table, as the analysis cannot tell what the table holds. A table holding a
        Session-carrying object is judged first (`Project._held_table`)."""
        tables = [
            source.lstrip(LOCAL) for source in call.dispatch
            if source.startswith(("self.", LOCAL)) and self.registered_table(source) is None
        ]
        handed = self.handed_work(queued=call.popped) if tables else None
        if handed is None:
            return None
        return f"`{call.spelled}()` runs a value taken from `{tables[0]}`, a table the analysis cannot read; {handed}"

    @cached_property
    def registered_work(self) -> list[tuple[FunctionId, str]]:
        """Project functions doing synchronous Session work that the code hands on as values, so
        that a table filled at run time may hold them: decorated by a project decorator (a bus's
        `@bus.handles(PlaceOrder)`, `@subscribe(OrderPlaced)`), or used as a value (`bus.register(M,
        handler)`, `{M: handler}`, `partial(handler, x)`); with where, `path:line`. A handler FastAPI
        calls (a route, a dependency) is no such value: its decorator registers it with FastAPI."""
        return self._handed_on(self.project.work_chains)

    @cached_property
    def registered_takers(self) -> list[tuple[FunctionId, str]]:
        """`registered_work` and the functions handed on so that take a synchronous Session as a
        parameter (`def record(db: Session, x)`; `Project.session_params`): a queue of work holds
        one with the Session its caller queues beside it (`QUEUE.append((record, {"db": db}))`)."""
        taking = {fid for fid, found in self.project.session_params.items() if found}
        return self._handed_on(taking | set(self.project.work_chains))

    def _handed_on(self, work: Container[FunctionId]) -> list[tuple[FunctionId, str]]:
        """Those of `work` the code hands on as values (`registered_work`), with where."""
        project = self.project
        handlers = {handler.id for handler in project.handlers}
        found: dict[FunctionId, tuple[str, int, str]] = {}
        for module in project.modules.values():
            for function in module.functions:
                fid = (module.name, function.key)
                if fid in work and fid not in handlers:
                    decorator = next((d for d in function.decorators if self._in_project(d.callee)), None)
                    if decorator is not None:
                        written = decorator.text or decorator.callee
                        found.setdefault(fid, (module.path, decorator.line, f"registered by `@{written}` at {module.path}:{decorator.line}"))
            for ref, line, written in module.escapes:
                target = project.function(ref)
                # `bus.on("created", audit.on_created)`: a bound method of a module-level instance
                # is handed on as a function is
                fids = [(target[0].name, target[1].key)] if target is not None else project.flow.ref_functions(ref)
                for fid in fids:
                    if fid in work and fid not in handlers:
                        found.setdefault(fid, (module.path, line, f"handed on as `{written}` at {module.path}:{line}"))
        return [(fid, where) for fid, (_path, _line, where) in sorted(found.items(), key=lambda item: item[1])]

    def registered_table(self, source: str) -> list[FunctionId] | None:
        """The functions a table filled only by a registering decorator holds, for a call's source
        (`shop.bus.HANDLERS`, `self._handlers`, `~cls.registry`); None for any other table, or
        one written, handed on or used otherwise anywhere (`astcollect/registries.py`)."""
        source = source.lstrip(LOCAL)
        head, _, rest = source.partition(".")
        if head in ("self", "cls"):
            key = "." + rest if rest and "." not in rest else None
        else:
            home = self.home(source)
            # `REGISTRY = defaultdict(list)`, no display: its own reference
            key = f"{home[0]}.{home[1]}" if home is not None else source
        return self.registered_tables.get(key) if key is not None else None

    @cached_property
    def registered_tables(self) -> dict[str, list[FunctionId]]:
        """Each table read whole (`registered_table`): its key -> the functions decorated with the
        decorators storing into it. Names compare by their last part (`registries.read`)."""
        project = self.project
        loose: set[str] = set()
        sites: dict[str, list[tuple[str, str]]] = {}
        for module in project.modules.values():
            loose.update(module.loose_names)
            for key, qualname, _line in module.registering_stores:
                if not key.startswith("."):
                    home = self.home(key)
                    key = f"{home[0]}.{home[1]}" if home is not None else key
                sites.setdefault(key, []).append((module.name, qualname))
        if not sites:
            return {}
        whole: dict[str, list[FunctionId]] = {}
        # the decorator (a function, or the factory returning it) -> the tables it stores into
        storing: dict[tuple[str, str, bool], list[str]] = {}
        named: dict[str, list[str]] = {}  # the decorators' names -> the tables they store into
        for key, held in sites.items():
            if key.rsplit(".", 1)[-1] in loose:
                continue  # written, handed on or rebound somewhere
            for module_name, qualname in held:
                factory, nested, level = qualname.rpartition(".<locals>.")
                used = [level, factory.rsplit(".", 1)[-1]] if nested else [level]
                if any(name in loose for name in used) or (nested and ".<locals>." in factory):
                    break
                for name in used:
                    named.setdefault(name, []).append(key)
                registrar = (module_name, factory, True) if nested else (module_name, level, False)
                storing.setdefault(registrar, []).append(key)
            else:
                whole[key] = []
        for module in project.modules.values():
            for function in module.functions:
                for index, decorator in enumerate(function.decorators):
                    written = (decorator.callee or decorator.text.partition("(")[0]).rsplit(".", 1)[-1]
                    if written not in named:
                        continue
                    found = project.decorator_function(decorator.callee)
                    tables = storing.get((found[0].name, found[1].qualname, decorator.is_call), []) if found else []
                    if found is None or found[1].wraps != "passthrough" or not tables:
                        # a decorator of the same name the analysis cannot tie to its registering
                        # function: what it stores is unknown
                        for key in named.get(written, ()):
                            whole.pop(key, None)
                        continue
                    for key in tables:
                        if key not in whole:
                            continue
                        if index + 1 < len(function.decorators):
                            # applied first, another decorator hands the registering one a
                            # wrapper, not the function
                            whole.pop(key)
                            continue
                        fid = (module.name, function.key)
                        if fid not in whole[key]:
                            whole[key].append(fid)
        return whole

    def _in_project(self, ref: str | None) -> bool:
        """Whether a reference names something a project module defines (`shop.bus.bus.handles`)."""
        parts = (ref or "").split(".")
        return any(".".join(parts[:end]) in self.project.modules for end in range(len(parts) - 1, 0, -1))

    def _looked_up(self, source: str, targets: list[FunctionId]) -> None:
        """Add every function a lookup by name on a project module may find (BY_NAME + the module)."""
        for module, function in module_functions(self.project, source[len(BY_NAME):]) or ():
            if (module.name, function.key) not in targets:
                targets.append((module.name, function.key))

    def _add(self, ref: str, targets: list[FunctionId]) -> bool:
        """Add the project function a held reference names (a class: its `__init__`). False for a
        value something built (`partial(f, x)`, an instance): what calling it runs is unknown."""
        project = self.project
        found = project.function(ref) or project.function(f"{ref}.__init__")
        if found is None:
            inherited = self._inherited_init(ref)
            if inherited is None:
                return False
            found = project.functions[inherited] if inherited else None
        if found is None:
            target = project.resolve(ref)
            return target is None or target.value is None or target.value.kind != "call"
        fid = (found[0].name, found[1].key)
        if fid not in targets:
            targets.append(fid)
        return True

    def _inherited_init(self, ref: str) -> tuple[str, str] | tuple[()] | None:
        """The `__init__` a project class inherits from a project base (`class BookRepo(BaseRepo)`),
        which building it runs; () for none (not a project class, or no base defines one); None
        when the class order leaves it open (an abstract one, several implementations)."""
        from async_migrate.codemods.classes import project_classes

        classes = project_classes(self.project)
        cls = classes.resolve(ref)
        if cls is None:
            return ()
        methods, certain = classes.method(cls, "__init__")
        if not methods:
            return ()
        return methods[0] if certain and len(methods) == 1 else None


def module_functions(project: Project, looked_up: str) -> list[tuple[facts.Module, facts.Function]] | None:
    """The project functions a lookup by name on `looked_up` may find: those a project module
    defines or imports (`from crud import *` too, followed); every project function for a module
    named at run time (`import_module(name)`). None for an object that is no project module."""
    if looked_up == UNKNOWN:
        return [(module, function) for module in project.modules.values() for function in module.functions]
    if looked_up not in project.modules:
        return None
    found: list[tuple[facts.Module, facts.Function]] = []
    seen: set[str] = set()
    todo = [looked_up]
    while todo:
        name = todo.pop()
        module = project.modules.get(name)
        if module is None or name in seen:
            continue
        seen.add(name)
        found += [(module, function) for function in module.functions]
        for local, ref in module.imports.items():
            if local == "*":
                todo += ref.split(",")
                continue
            target = project.function(ref)
            if target is not None:
                found.append(target)
    return found


def may_be_plain(project: Project, fid: FunctionId, call: facts.Call) -> bool:
    """A call of a value picked at run time (`getattr(crud, name)(db)`, `TABLE[kind]()`) in `fid`
    where one of the functions it may run is no coroutine function: not awaiting it may be right."""
    if not call.dispatch:
        return False
    return any(
        edge.call is call and not project.functions[edge.callee][1].is_async
        for edge in project.all_calls_from.get(fid, ())
    )
