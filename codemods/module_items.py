"""Methods called on an item of a module-level container the value flow does not type.

A pool, registry or cache of project objects at module level (`POOL = {}` filled by
`register(key, session)` as `POOL[key] = Repo(session)`; `REPOS = {"users": UserRepo(db)}`;
`CLIENTS = []` appended to) is read by a handler as `POOL[key].count()`, `POOL.get(key).count()`,
`repo = POOL[key]; repo.count()` or `for repo in POOL.values(): repo.count()`. The flow keeps no
values for a module-level container's items, so the call graph had no edge there and the
handler read as doing no Session work. Here such a call is unverified (`Project.own_unverified`,
AM304) when a project method of the name called does synchronous Session work and the container
may hold a project object: its display holds a value that is not a constant, or code puts such a
value into it (an item assignment, `append`, `setdefault`, `update`; handed to a call), where
constants, displays and lambdas put in hold no object (`facts.Module.stocked`). A container
whose item types are declared (`POOL: dict[str, Repo] = {}`) has edges of its own
(`Project._item_methods`); one holding constants only and never changed holds no object. The
same call, unawaited, where a project method of that name is a coroutine function, is check's
AM311, unverified (`module_item_coroutine`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import dispatch
from async_migrate.codemods.project import _got_item

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project

# Builtin calls building an empty container, read as the display they stand for.
_EMPTY_BUILDERS = frozenset({
    "dict", "list", "set", "collections.OrderedDict", "collections.defaultdict", "collections.deque",
})
# The views whose elements are the items (`for repo in POOL.values()`); `items()` pairs them with keys.
_ITEM_VIEWS = (".values()", ".items()")


def module_item_call(project: Project, fid: FunctionId, function: facts.Function, call: facts.Call) -> str | None:
    """Why `call` may do Session work the call graph cannot see: it calls a method on an item of a
    module-level container that may hold project objects the flow does not type; None otherwise."""
    if call.awaited:
        return None
    found = _untyped_item(project, function, call, project._working_method_names())
    if found is None:
        return None
    shown, method = found
    working = [
        f for f in project.work_chains
        if project.functions[f][1].name == method and "." in project.functions[f][1].qualname
    ]
    first = project.functions[working[0]][1]
    return (
        f"{shown}; a project `{method}()` does synchronous Session work: {first.qualname} "
        f"({' -> '.join(project.work_chains[working[0]])})"
    )


def module_item_coroutine(project: Project, function: facts.Function, call: facts.Call, coroutines: dict[str, str]) -> str | None:
    """Why `call`, not awaited, may make a coroutine nothing runs (AM311): it calls a method on an
    item of a module-level container that may hold project objects the flow does not type
    (`REPOS["task"].save(task)` on `REPOS = {"task": Repo(...)}`), and a project class has a
    coroutine method of that name (`coroutines`: name -> one such method, as shown); None otherwise."""
    found = _untyped_item(project, function, call, frozenset(coroutines))
    if found is None:
        return None
    shown, method = found
    return f"{shown}; a project `{method}()` is a coroutine function: {coroutines[method]}"


def _untyped_item(
    project: Project, function: facts.Function, call: facts.Call, methods: frozenset[str]
) -> tuple[str, str] | None:
    """(what the call runs on, as a finding says it; the method) where `call` calls one of
    `methods` on an item of a module-level container that may hold project objects the flow does
    not type; None otherwise."""
    if call.nested:
        return None
    if call.item is None and (call.func or "").rpartition(".")[2] not in methods:
        return None  # asked of every call: the method an item read names is the call's last name
    found = _item_of(project, function, call)
    if found is None:
        return None
    container, method = found
    if method not in methods:
        return None
    ref = project.canonical(container) or container
    holder, _, name = ref.rpartition(".")
    module = project.modules.get(holder)
    if module is None or module.declared_items.get(name) or not _is_container(project, module, name):
        return None
    why = _may_hold_objects(project, module, name, ref)
    if why is None:
        return None
    return (
        f"`{project.written(container)}[...].{method}()` runs on an item of the module-level container "
        f"`{name}` ({module.path}), which {why}, and the analysis does not type its items"
    ), method


def _item_of(project: Project, function: facts.Function, call: facts.Call) -> tuple[str, str] | None:
    """(the container as spelled, the method) of `X[k].m()`, `X.get(k).m()`, `r = X[k]` (or
    `X.get(k)`) then `r.m()`, and `for r in X` (or `X.values()`, `X.items()`) then `r.m()`, where X
    is a module-level reference; None for any other call. The item is read as an instance's
    container's is (`Project._held_item`, `project._got_item`), the loop beside it."""
    item = call.item or project._held_item(function, call) or _got_item(function, call) or _looped(function, call)
    if item is None:
        item = _returned_item(project, function, call)
    return item if item is not None and _module_ref(item[0]) else None


def _returned_item(project: Project, function: facts.Function, call: facts.Call) -> tuple[str, str] | None:
    """`repo = repo_for(name)` (bound once), or `repo_for(name)` inline, then `.m()`, where the
    project function returns an item of a container (`return REGISTRY[name]`, or `r =
    REGISTRY[name]` ... `return r`): (that container, the method)."""
    receiver, _, method = (call.func or "").rpartition(".")
    if receiver.startswith("$") and "." not in receiver and "(" not in receiver:
        binding = function.sole_binding(receiver[1:])
        if binding is None:
            return None
        receiver = binding.expr
    if not receiver.endswith("()") or "(" in receiver[:-2]:
        return None
    helper = project.function(receiver[:-2])
    if helper is None:
        return None
    _, returning = helper
    held = [*returning.returned_items, *(
        returning.items[name[1:]] for name in returning.returned if name.startswith("$") and name[1:] in returning.items
    )]
    container = next((c for c in held if _module_ref(c)), None)
    return (container, method) if container is not None else None


def _looped(function: facts.Function, call: facts.Call) -> tuple[str, str] | None:
    """`for r in X` (or `X.values()`, `X.items()`), `r` bound nowhere else, then `r.m()`."""
    receiver, _, method = (call.func or "").rpartition(".")
    if not receiver.startswith("$") or "." in receiver or "(" in receiver:
        return None
    name = receiver[1:]
    looped = function.unpacked.get(name, [])
    if len(looped) != 1 or name in function.items or any(b.name == name for b in function.bindings) or any(
        p.name == name for p in function.params
    ):
        return None
    view = next((v for v in _ITEM_VIEWS if looped[0].endswith(v)), "")
    return looped[0][: len(looped[0]) - len(view)], method


def _module_ref(written: str) -> bool:
    return not written.startswith("$") and "(" not in written and "[" not in written and "." in written


def _is_container(project: Project, module: facts.Module, name: str) -> bool:
    """Whether the module binds `name` once to a display, a comprehension or an empty builtin
    container (`dict()`, `defaultdict(list)`)."""
    if name in module.collections:
        return True
    value = module.values.get(name)
    return value is not None and value.kind == "call" and project.canonical(value.ref) in _EMPTY_BUILDERS


def _may_hold_objects(project: Project, module: facts.Module, name: str, ref: str) -> str | None:
    """Why the container may hold a project object (its display's values, or where code changes
    it), or None where it holds constants only and nothing changes it."""
    held = module.containers.get(name, ())
    if any(written == dispatch.UNREAD for written in held):
        return "holds values built by calls"
    if any((target := project.resolve(written)) is not None and target.kind == "value" for written in held):
        return "holds module-level objects"
    written = _written_containers(project).get(ref)
    if written is not None:
        return f"code in {written} puts values into"
    return None


def _written_containers(project: Project) -> dict[str, str]:
    """Module-level containers code changes with a value that may be an object
    (`facts.Module.stocked`), resolved -> the path of the first module doing so."""
    table: dict[str, str] | None = project.derived.get("stocked_containers")  # type: ignore[assignment]
    if table is not None:
        return table
    table = {}
    for module in project.modules.values():
        for ref in module.stocked:
            table.setdefault(project.canonical(ref) or ref, module.path)
    project.derived["stocked_containers"] = table
    return table
