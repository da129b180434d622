"""Methods a call picks at run time by name on an object: `getattr(obj, name)(...)`, and
methods called on an attribute a name picks: `getattr(server, name).get_user(...)`.

aim's tracking server runs `attr = getattr(resource, method_name)` then `attr(*args)` on an
object it took out of its resource pool, with the method's name from the request body; a
`setattr(resource, name, value)` there runs whatever property setter the name picks. The call
graph has no edge for either, so the route read as doing no Session work. Here such a call is
unverified (`Project.own_unverified`) when a method it may pick does synchronous Session work:
among the methods of the object's class (and of its subclasses) where the flow can type the
object, among every project method otherwise. A name written as a constant picks one method the
call graph already follows; a lookup on a module is `astcollect/by_name.py`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.flow import INSTANCE

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project

_GETTERS = frozenset({"getattr", "builtins.getattr"})
_SETTERS = frozenset({"setattr", "builtins.setattr"})


def picked_by_name(project: Project, fid: FunctionId, function: facts.Function, call: facts.Call) -> str | None:
    """Why `call` may do Session work the call graph cannot see: it runs a method, or a property
    setter, that a name known only at run time picks on an object; None otherwise."""
    lookup: facts.Call | None
    if call.callee in _SETTERS:
        lookup, setter = call, True
    elif call.callee is None and call.func is not None:
        lookup, setter = _getter(function, call), False
        if lookup is None:
            return _picked_attribute(project, function, call)
    else:
        return None
    name = _name_given(lookup)
    if lookup is None or name is None:
        return None  # a constant name: an edge the graph follows
    target = lookup.args[0]
    written = target.name or target.expr
    if written is None:
        return None  # a module-level object (a logger, a module): `astcollect/by_name.py` reads modules
    classes = project_classes(project)
    values = project.flow.evaluate(fid, written if target.expr else f"${written}")
    typed = [v.target for v in values if v.kind == INSTANCE and isinstance(v.target, str)]
    if values and len(typed) != len(values):
        return None  # a Session, a value of a library: what it runs is read elsewhere
    handlers = {handler.id for handler in project.handlers}
    if typed:
        owners = {c for ref in typed for c in (*classes.mro(ref), *classes.subclasses(ref))}
        candidates = [fid for owner in sorted(owners) for fid in classes.methods.get(owner, {}).values()]
    else:
        candidates = [f for f in project.functions if classes.owner(f) is not None]
    working = [
        f for f in dict.fromkeys(candidates)
        if f in project.work_chains and f not in handlers and _is_setter(project, f) == setter
    ]
    if not working:
        return None
    first = project.functions[working[0]][1]
    more = f" and {len(working) - 1} more" if len(working) > 1 else ""
    shown = written.lstrip("$")
    on = f"`{shown}`, a {typed[0].rsplit('.', 1)[-1]}" if len(set(typed)) == 1 else (
        f"`{shown}`, which the analysis cannot type"
    )
    what = "property setter" if setter else "method"
    spelled = f"setattr({shown}, {name}, ...)" if setter else f"{call.spelled or call.func}()"
    return (
        f"`{spelled}` runs the {what} that `{name}` names at run time on {on}; a {what} doing "
        f"synchronous Session work may be what it runs: {first.qualname} "
        f"({' -> '.join(project.work_chains[working[0]])}){more}"
    )


def _picked_attribute(project: Project, function: facts.Function, call: facts.Call) -> str | None:
    """Why `getattr(server, name).get_user(...)` (or `manager = getattr(server, name)` ...
    `manager.get_user(...)`) may do Session work: the object a name known only at run time picks
    among the attributes of another is no value the flow reads, and a project method of the name
    called does synchronous Session work."""
    holder, _, method = (call.func or "").rpartition(".")
    if method not in project._working_method_names():
        return None  # asked of every call the graph has no edge for: the cheap test first
    lookup = _lookup(function, call, holder)
    name = _name_given(lookup)
    if lookup is None or name is None:
        return None
    target = lookup.args[0]
    working = [
        f for f in project.work_chains
        if project.functions[f][1].name == method and project_classes(project).owner(f) is not None
    ]
    if not working:
        return None
    first = project.functions[working[0]][1]
    shown = target.name or target.expr or "an object"
    written = f"getattr({shown.lstrip('$')}, {name})" if holder == "getattr()" else holder.lstrip("$")
    return (
        f"`{written}.{method}()` runs on the attribute that `{name}` names at run time on `{shown.lstrip('$')}`, "
        f"which the analysis cannot read; a project `{method}()` does synchronous Session work: {first.qualname} "
        f"({' -> '.join(project.work_chains[working[0]])})"
    )


def _name_given(lookup: facts.Call | None) -> str | None:
    """The name argument of a `getattr`/`setattr` call as written, when it is known only at run
    time (a local, `"count_" + kind`, `f"count_{kind}"`); None for a constant (or no call)."""
    if lookup is None or len(lookup.args) < 2 or lookup.args[1].position != 1:
        return None
    return lookup.args[1].name or lookup.args[1].computed


def _getter(function: facts.Function, call: facts.Call) -> facts.Call | None:
    """The `getattr(obj, name)` call whose result `call` calls: inline (`getattr(o, n)()`) or
    through a local bound to it once (`attr = getattr(o, n)` ... `attr()`)."""
    return _lookup(function, call, call.func or "")


def _lookup(function: facts.Function, call: facts.Call, written: str) -> facts.Call | None:
    """The `getattr(obj, name)` call `written` (as the facts spell it, in `call`) stands for:
    `getattr()` on the line of `call`, or `$attr` for a local bound to it once."""
    if written == "getattr()":
        line = call.line
    elif written.startswith("$") and "." not in written:
        bound = [b for b in function.bindings if b.name == written[1:]]
        if len(bound) != 1 or bound[0].expr != "getattr()" or bound[0].entered:
            return None
        line = bound[0].line
    else:
        return None
    found = [c for c in function.calls if c.line == line and c.callee in _GETTERS]
    return found[0] if len(found) == 1 else None


def _is_setter(project: Project, fid: FunctionId) -> bool:
    """A `@name.setter` property setter (assigning the attribute runs it)."""
    function = project.functions[fid][1]
    return any(d.text.endswith(".setter") or (d.attr == "setter") for d in function.decorators)
