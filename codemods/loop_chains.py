"""What a chain of attributes, items and calls reaches from a name, for phase one's AM138: the
loop-bound object (`asyncio.Event`, a memory object stream, ...) at its end, through any depth
(`hub.ROOMS[name].changed.set()`, `r.inner.q.put_nowait(x)`, `OUTER.room.waiting.put_nowait(x)`,
`room(name).changed.set()`).

Each step is read from what the project declares or builds: annotations (a collection's items
too), what a class body builds or a field specifier's factory calls (`attr.ib(factory=...)`),
what its methods assign to `self.x`, what a property returns, what functions put into a
module-level container (`ROOMS[name] = Room()`, `ROOMS.setdefault(name, Room())`), what a
project function or method is annotated to return or returns, what a dependency hands a parameter.
An instance of a project subclass of a primitive (`class Mailbox(asyncio.Queue)`) is that
primitive. Where a step cannot be read (an unannotated parameter, a container nothing seen
fills), the chain is unknown: a method only loop-bound objects and `queue.Queue` have
(`put_nowait`, `send_nowait`, an argumentless `set()`, ...) called at its end keeps the handler,
unverified; so does one called on an expression no notation spells (`(a or b).set()`).

The chain also types the receivers of method calls the call graph follows nowhere
(`request.app.state.bus.publish(x)`, the lifespan keeping `app.state.bus = Bus()`):
`held_method_needs` adds to `Project`'s event-loop needs the callers of a plain method needing
the loop on such an object, and, where the receiver is unknown, those calling one by its name
(unverified).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.flow import app_state_assigned
from async_migrate.codemods.project import _TASK, TargetKind, one_of
from async_migrate.codemods.vocabulary.python import (
    COLLECTION_TYPES,
    LOOP_BOUND_ENTERED,
    LOOP_BOUND_READS,
    LOOP_PRIMITIVE_BARE_METHODS,
    LOOP_PRIMITIVE_METHODS,
)

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.project import FunctionId, LoopNeed, Project

# Methods handing back one of a container's items (`ROOMS.get(name)`), or the container again.
_TAKES = frozenset({"get", "pop", "setdefault", "popleft", "popitem", "__getitem__"})
_SAME = frozenset({"values", "copy", "items"})
# Methods putting a value in a container: the position of the value.
_PUTS = {"append": 0, "add": 0, "appendleft": 0, "setdefault": 1, "insert": 1}
_DEPTH = 8  # steps of following bindings, returns and assignments before the chain is unknown


@dataclass(frozen=True, slots=True)
class Held:
    """What an expression may hold: a loop-bound object, project classes' instances, a container
    of what `items` holds, or what the analysis cannot read."""

    primitive: str | None = None
    classes: frozenset[str] = frozenset()
    items: Held | None = None
    unknown: bool = False

    def __or__(self, other: Held) -> Held:
        items = self.items if other.items is None else other.items if self.items is None else self.items | other.items
        return Held(self.primitive or other.primitive, self.classes | other.classes, items, self.unknown or other.unknown)


NOTHING = Held()
UNKNOWN = Held(unknown=True)


def chains(project: Project) -> Chains:
    found = project.derived.get("loop_chains")
    if found is None:
        found = project.derived["loop_chains"] = Chains(project)
    return found  # type: ignore[return-value]


def _method_calls(project: Project) -> list[tuple[FunctionId, facts.Call, str]]:
    """Calls that run where they stand of a method some project class has, which the call graph
    follows to no project function (`request.app.state.bus.publish(x)`): (caller, call, method)."""
    found = project.derived.get("loop_method_calls")
    if found is not None:
        return found  # type: ignore[return-value]
    classes = project_classes(project)
    names = {name for methods in classes.methods.values() for name in methods}
    calls: list[tuple[FunctionId, facts.Call, str]] = []
    for fid, (_, function) in project.functions.items():
        for call in function.calls:
            if call.nested or call.offloaded or call.awaited:
                continue
            written = call.func or call.callee or ""
            holder, _, method = written.rpartition(".")
            if call.subscripted:  # `ROOMS[k].publish(x)`: the method ends the last path
                holder, method = call.subscripted[0], call.subscripted[-1].rpartition(".")[2]
            if holder and method in names and not project.project_callees.get(id(call)):
                calls.append((fid, call, method))
    project.derived["loop_method_calls"] = calls
    return calls


def held_method_needs(project: Project, needs: dict[FunctionId, LoopNeed]) -> list[FunctionId]:
    """Add to `needs` the functions calling, on an object the call graph does not type, a plain
    method that needs the event loop: `request.app.state.bus.publish(x)` where the lifespan keeps
    `app.state.bus = Bus()`, the chain read step by step (`Chains`). Where a step cannot be read,
    the call may run any project method of that name: one needing the loop makes the need
    unverified. The functions added."""
    classes = project_classes(project)
    functions = project.functions
    named: dict[str, list[FunctionId]] = {}
    for fid in needs:
        if classes.owner(fid) is not None and not functions[fid][1].is_async:
            named.setdefault(functions[fid][1].qualname.rpartition(".")[2], []).append(fid)
    if not named:
        return []
    found = chains(project)
    added: list[FunctionId] = []
    for fid, call, method in _method_calls(project):
        if fid in needs or method not in named:
            continue
        held, written = found.receiver(fid, call)
        targets = [t for cls in sorted(held.classes) for t in classes.method(cls, method)[0]]
        hit = next((t for t in targets if t in needs and not functions[t][1].is_async), None)
        unverified = ""
        if hit is None and held.unknown and held.primitive is None:
            hit = min(named[method])
            module, function = functions[hit]
            unverified = (
                f"unverified: the analysis cannot type what `{written}` is called on at "
                f"{functions[fid][0].path}:{call.line}, and {module.name}.{function.qualname} is the project "
                "method of that name"
            )
        if hit is None:
            continue
        need = needs[hit]
        needs[fid] = replace(need, line=call.line, helpers=[hit, *need.helpers], unverified=need.unverified or unverified)
        added.append(fid)
    return added


class Chains:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.classes = project_classes(project)
        self._depth = 0
        self._attributes: dict[tuple[str, str], Held] = {}
        self._puts: dict[str, list[tuple[FunctionId, str]]] | None = None
        self._method_names: frozenset[str] | None = None
        self._expressions: dict[tuple[FunctionId, str], Held] = {}

    def call_primitive(self, fid: FunctionId, call: facts.Call) -> str | None:
        """The call as a reason writes it and the loop-bound object it is a method of, or None:
        `ROOMS[...].changed.set() on an asyncio.Event`; unverified where the chain is unknown."""
        if call.subscripted:
            head, *paths = call.subscripted
            method = paths[-1].rpartition(".")[2]
            # the call is spelled only for a verdict: most calls are on nothing loop-bound
            verdict = self._verdict(self._after(fid, head, paths), method, call)
            if verdict is None:
                return None
            written = self.project.written(head) + "".join(f"[...]{'.' if path else ''}{path}" for path in paths)
            return f"{written}(){verdict}"
        called = call.func or call.callee
        holder, _, method = (called or "").rpartition(".")
        if not holder or call.item is not None or self.project._primitive_built(holder) is not None:
            return None  # `asyncio.Lock().release()`: a temporary the route builds, held nowhere
        verdict = self._verdict(self.expression(fid, holder), method, call)
        return None if verdict is None else f"{self.project.written(called or '')}(){verdict}"

    def receiver(self, fid: FunctionId, call: facts.Call) -> tuple[Held, str]:
        """What a method call's receiver may hold, and the call as a reason writes it."""
        if call.subscripted:
            head, *paths = call.subscripted
            written = self.project.written(head) + "".join(f"[...]{'.' if path else ''}{path}" for path in paths)
            return self._after(fid, head, paths), f"{written}()"
        called = call.func or call.callee or ""
        return self.expression(fid, called.rpartition(".")[0]), f"{self.project.written(called)}()"

    def _after(self, fid: FunctionId, head: str, paths: list[str], method: bool = True) -> Held:
        """What the receiver of the subscripted call holds: `head`, then an item and the
        attributes of each path (the last path's last name is the method, with `method`)."""
        held = self.expression(fid, head)
        for index, path in enumerate(paths):
            held = self.item(held)
            names = path.split(".") if path else []
            if method and index == len(paths) - 1:
                names = names[:-1]
            for attribute in names:
                held = self.attribute(held, attribute)
        return held

    def _verdict(self, held: Held, method: str, call: facts.Call) -> str | None:
        """What the reason says after the call (` on an asyncio.Event`), or None."""
        if method in LOOP_BOUND_READS:
            return None
        if held.primitive is not None:
            return f" on {one_of(held.primitive)}"
        # a project method of that name (`notifier.notify(user)`) is no primitive's
        if held.unknown and self._primitive_method(method, call):
            return (
                " on what the analysis cannot type (unverified: it may be an object bound to the "
                "event loop; annotate what holds it if it is thread-safe)"
            )
        return None

    def unread_receiver(self, call: facts.Call) -> str | None:
        """`(a or b).q.put_nowait(x)`: a primitive's method called on an expression no notation
        spells, as a reason writes it; unverified."""
        method = call.unspelled_method
        if method is None or not self._primitive_method(method, call):
            return None
        return (
            f"(...).{method}() on an expression the analysis cannot read (unverified: it may be an object "
            "bound to the event loop; bind it to an annotated name if it is thread-safe)"
        )

    def _primitive_method(self, method: str, call: facts.Call) -> bool:
        """Whether `method`, called as `call` is, is one only loop-bound objects (and their
        thread-safe counterparts) have: `put_nowait(x)`, an argumentless `set()`."""
        if method not in LOOP_PRIMITIVE_METHODS and (method not in LOOP_PRIMITIVE_BARE_METHODS or call.args):
            return False
        return not self._project_method(method, call)

    def _project_method(self, method: str, call: facts.Call) -> bool:
        if self._method_names is None:
            self._method_names = frozenset(name for methods in self.classes.methods.values() for name in methods)
        return method in self._method_names or bool(self.project.project_callees.get(id(call)))

    # ------------------------------------------------------------------ expressions

    def expression(self, fid: FunctionId, expression: str) -> Held:
        """What a flow expression read in `fid` may hold."""
        key = (fid, expression)
        found = self._expressions.get(key)
        if found is not None:
            return found
        if self._depth > _DEPTH:
            return UNKNOWN
        # each expression is read once: a cycle (a function returning what it is handed back)
        # reads as unknown, and the walk stays linear in what the project spells
        self._expressions[key] = UNKNOWN
        self._depth += 1
        try:
            found = self._expression(fid, expression)
        finally:
            self._depth -= 1
        self._expressions[key] = found
        return found

    def _expression(self, fid: FunctionId, expression: str) -> Held:
        steps = expression.split(".")
        if "state" in steps[1:-1]:
            # `request.app.state.hub.inner.q`: what the project keeps there (`app.state.hub = Hub()`)
            cut = steps.index("state", 1) + 2
            held = NOTHING
            assigned = app_state_assigned(self.project.flow, fid, ".".join(steps[:cut]))
            for holder, value in assigned:
                held |= self.expression(holder, value)
            return self._steps(held if assigned else UNKNOWN, steps[cut:])
        if steps[0].startswith("$"):
            if steps[0].endswith("()"):
                return UNKNOWN
            held = self._local(fid, steps[0][1:])
            steps = steps[1:]
        else:
            held, steps = self._module_head(steps)
        return self._steps(held, steps)

    def _steps(self, held: Held, steps: list[str]) -> Held:
        for step in steps:
            name = step.removesuffix("()")
            if "(" in name or not name:
                return UNKNOWN
            held = self._called(held, name) if name != step else self.attribute(held, name)
        return held

    def _local(self, fid: FunctionId, name: str) -> Held:
        project = self.project
        _, function = project.functions[fid]
        owner = self.classes.owner(fid)
        if owner is not None and function.params and function.params[0].name == name:
            return Held(classes=frozenset({owner}))
        param = next((p for p in function.params if p.name == name), None)
        if param is not None and param.annotation:
            return self._annotated(param.annotation)
        if param is not None:
            # `bus=Depends(get_bus)`: what FastAPI fills it with, the dependency's return
            depends = project.param_dependency(param)
            held, rest = self._module_head(f"{depends}()".split(".")) if depends and "(" not in depends else (UNKNOWN, [])
            return held if not rest else UNKNOWN
        held = NOTHING
        bound = [b for b in function.bindings if b.name == name]
        for binding in bound:
            if binding.entered:
                callee = binding.expr.removesuffix("()")
                entered = LOOP_BOUND_ENTERED.get(project.canonical(callee) or callee)
                held |= Held(primitive=entered) if entered else UNKNOWN
            elif (made := self.expression(fid, binding.expr)).primitive != _TASK:
                held |= made
            else:  # a task the function starts itself: starting it needs the loop already (AM109)
                held |= replace(made, primitive=None)
        through = function.item_paths.get(name, ())
        # `q = ROOMS[a][b]` is in `items` too, its container unspelled: the path reads it
        items = [function.items[name]] if name in function.items and not through else []
        for source in [*function.unpacked.get(name, ()), *items]:
            held |= self.item(self.expression(fid, source))
        for head, *paths in through:
            held |= self._after(fid, head, paths, method=False)
        if bound or name in function.unpacked or name in function.items or name in function.item_paths:
            return held
        binder = project.enclosing_binder(fid, name)
        return self._local(binder, name) if binder is not None else UNKNOWN

    def _module_head(self, steps: list[str]) -> tuple[Held, list[str]]:
        """The longest leading names of `steps` naming a module-level value, function or class
        (called or not, as the last of them says), what it holds, and the steps after it."""
        project = self.project
        for cut in range(len(steps), 0, -1):
            *before, last = steps[:cut]
            name = last.removesuffix("()")
            if any("(" in step for step in before) or "(" in name:
                continue
            called = name != last
            ref = ".".join([*before, name])
            built = project._primitive(ref) if called else None
            if built is not None:  # `asyncio.Queue()`, `anyio.create_memory_object_stream()`
                return Held(primitive=built), steps[cut:]
            cls = self.classes.resolve(ref)
            if cls is not None:
                return self._built(cls), steps[cut:]
            target = project.resolve(ref)
            module = project.modules.get(".".join(before))
            if target is None and module is not None and not called and _module_name(module, name):
                return self._module_value(ref, None), steps[cut:]  # `ROOMS = {}`, `WAKEUP: Event | None`
            if target is None or target.kind == TargetKind.MODULE:
                continue
            if target.kind == TargetKind.FUNCTION and called:
                return self._returned(target), steps[cut:]
            if target.kind == TargetKind.VALUE and not called:
                return self._module_value(ref, target), steps[cut:]
            return (UNKNOWN if target.kind == TargetKind.VALUE else NOTHING), []
        return UNKNOWN, []

    def _module_value(self, ref: str, target: object) -> Held:
        project = self.project
        primitive = project._module_primitive(ref)
        held = Held(primitive=primitive)
        value = getattr(target, "value", None)
        if value is not None and value.kind == "call" and value.ref is not None:
            cls = self.classes.resolve(value.ref)
            called = project.resolve(value.ref)
            if cls is not None:
                held |= self._built(cls)
            elif called is not None and called.kind == TargetKind.FUNCTION:
                held |= self._returned(called)
        owner, _, name = ref.rpartition(".")
        module = project.modules.get(owner)
        if module is not None:
            declared = module.declared.get(name, ())
            if declared:
                held |= self._annotated(declared, module.declared_items.get(name, ()))
            if name in module.containers or name in module.declared_items:
                held |= Held(items=self._put_into(f"{module.name}.{name}", typed=name in module.declared_items))
        return held

    def _returned(self, target: object) -> Held:
        function = getattr(target, "function", None)
        module = getattr(target, "module", None)
        if function is None or module is None:
            return UNKNOWN
        return self._function_returns((module.name, function.key))

    def _function_returns(self, fid: FunctionId) -> Held:
        """What a project function is annotated to return, or returns."""
        if fid not in self.project.functions:
            return UNKNOWN
        _, function = self.project.functions[fid]
        if function.returns:
            return self._annotated(function.returns)
        if not function.returned:
            return UNKNOWN
        held = NOTHING
        for returned in function.returned:
            held |= self.expression(fid, returned)
        for container in function.returned_items:
            held |= self.item(self.expression(fid, container))
        return held

    def _called(self, held: Held, name: str) -> Held:
        """A method called on what `held` holds: an item of a container, the container again, or
        what a project method is annotated to return."""
        if name in _TAKES:
            return self.item(held)
        if name in _SAME:
            return held
        found = UNKNOWN if held.unknown else NOTHING
        for cls in held.classes:
            method = self.classes.methods.get(cls, {}).get(name)
            if method is None:
                found = UNKNOWN
                continue
            found |= self._function_returns(method)
        return found

    # ------------------------------------------------------------------ steps

    def item(self, held: Held) -> Held:
        if held.items is not None:
            return held.items | (UNKNOWN if held.unknown else NOTHING)
        return UNKNOWN if held.unknown or held.classes else NOTHING

    def attribute(self, held: Held, name: str) -> Held:
        found = UNKNOWN if held.unknown else NOTHING
        for cls in sorted(held.classes):
            found |= self._class_attribute(cls, name)
        return found

    def _class_attribute(self, cls: str, name: str) -> Held:
        key = (cls, name)
        if key in self._attributes:
            return self._attributes[key]
        self._attributes[key] = UNKNOWN  # cycle guard
        found = self._read_class_attribute(cls, name)
        self._attributes[key] = found
        return found

    def _read_class_attribute(self, cls: str, name: str) -> Held:
        project, classes = self.project, self.classes
        held = Held(primitive=project._attribute_primitive(cls, name))
        seen = held.primitive is not None
        for ancestor in classes.mro(cls):
            if ancestor not in classes.by_ref:
                continue
            declared = classes.by_ref[ancestor][1]
            refs = declared.annotations.get(name, ())
            if refs:
                seen = True
                held |= self._annotated(refs, declared.declared_items.get(name, ()))
            for more in classes.declared.get((ancestor, name), []):
                seen = True
                held |= self._annotated(more)
            for callee in (declared.built.get(name), declared.factories.get(name)):
                if callee is not None:
                    seen = True
                    held |= self._built(callee)
            for fid, expression in classes.assigned.get((ancestor, name), []):
                seen = True
                held |= self.expression(fid, expression)
            if name in declared.item_stores or name in declared.item_unread:
                seen = True
                held |= Held(items=self._stored_items(ancestor, name))
            method = classes.methods.get(ancestor, {}).get(name)
            if method is not None and project.flow.is_property(method):
                # `@property def changed(self): return self._changed`: reading it runs the getter
                seen = True
                held |= self._function_returns(method)
        return held if seen else UNKNOWN

    def _stored_items(self, cls: str, name: str) -> Held:
        project = self.project
        module, declared = self.classes.by_ref[cls]
        held = UNKNOWN if name in declared.item_unread else NOTHING
        for line, _, stored in declared.item_stores.get(name, []):
            method = next(
                (f for f in module.functions if f.line == line and f.qualname.startswith(f"{declared.qualname}.")), None
            )
            if stored == "?" or method is None:
                held |= UNKNOWN
                continue
            fid = (module.name, method.key)
            held |= self.expression(fid, stored) if fid in project.functions else UNKNOWN
        return held

    def _built(self, callee: str) -> Held:
        cls = self.classes.resolve(callee)
        if cls is not None:  # a subclass of a primitive (`class Mailbox(asyncio.Queue)`) is one
            return Held(primitive=self.project._primitive(cls), classes=frozenset({cls}))
        return Held(primitive=self.project._primitive(callee))

    def _annotated(self, refs: tuple[str, ...], items: tuple[str, ...] = ()) -> Held:
        """What an annotation's references declare: the loop-bound objects and project classes
        it names, or a collection holding them as items."""
        canonical = self.project.canonical
        collection = next((i for i, ref in enumerate(refs) if (canonical(ref) or ref) in COLLECTION_TYPES), None)
        if collection is not None:  # `list[asyncio.Queue] | None`: the queues are its items
            return Held(items=self._annotated(items or refs[collection + 1:]))
        held = NOTHING
        for ref in refs:
            held |= self._built(ref)
        return held

    def _put_into(self, container: str, typed: bool) -> Held:
        """What the project's functions put into module-level `container`; unknown for an
        undeclared one nothing seen fills."""
        if self._puts is None:
            self._puts = {}
            for fid, (_, function) in self.project.functions.items():
                for target, value in function.item_puts:
                    self._puts.setdefault(target, []).append((fid, value))
                for call in function.calls:
                    holder, _, method = (call.callee or "").rpartition(".")
                    position = _PUTS.get(method)
                    arg = next((a for a in call.args if a.position == position), None) if position is not None else None
                    if arg is not None:
                        value = f"${arg.name}" if arg.name else (arg.expr or arg.ref or "?")
                        self._puts.setdefault(holder, []).append((fid, value))
        held = NOTHING
        for fid, value in self._puts.get(container, []):
            held |= UNKNOWN if value == "?" else self.expression(fid, value)
        module, _, name = container.rpartition(".")
        found = self.project.modules[module].displayed.get(name, ())
        for value in found:  # `ROOMS = {"lobby": Room()}`, read as at import
            held |= UNKNOWN if value == "?" else self._steps(*self._module_head(value.split(".")))
        if not typed and not self._puts.get(container) and not found:
            return UNKNOWN
        return held


def _module_name(module: facts.Module, name: str) -> bool:
    """Whether `name` is bound at `module`'s level as something `Project.resolve` reads no value of."""
    return name in module.declared or name in module.containers or name in module.declared_items
