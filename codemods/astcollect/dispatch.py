"""Calls of a value taken out of a container, read on `ast`.

`TABLE[kind]()`, `TABLE.get(kind)()`, `fn()` for `fn` a loop or comprehension variable over
`TABLE` (or over an inline display), or a name bound to `TABLE[kind]`: any value of the
container may run, as any implementation may in a dispatch. The collector records where the
called value comes from (`facts.Call.dispatch`), what each module-level display holds
(`facts.Module.containers`) and which module-level names are changed in place or handed on
(`facts.Module.mutated`); the project index joins them (`Project.dispatch_targets`).
"""

from __future__ import annotations

import ast
from collections.abc import Set as AbstractSet

from async_migrate.codemods.astcollect.syntax import dotted

UNREAD = "?"  # an element (or a whole container) whose value the tool cannot read
# A lambda of a display a function builds: its body's calls are that function's own (nested)
# calls, judged with the function's, so running it runs nothing more, unless the call of it
# hands it the Session (`Project`, where the arguments are judged).
LAMBDA = "λ"

_DISPLAYS = (ast.Dict, ast.List, ast.Tuple, ast.Set)

# Methods that put something into a list, dict or set in place.
MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault", "add", "__setitem__",
                      "__iadd__", "__ior__"})

# What iterating these gives is what iterating their one argument gives (or pairs holding it).
_PASS_THROUGH = frozenset({"enumerate", "reversed", "sorted", "list", "tuple", "iter", "set", "frozenset"})
_VIEWS = frozenset({"values", "items", "keys", "copy"})

# Builtins that only read the container handed to them.
READERS = frozenset({"len", "list", "tuple", "set", "frozenset", "dict", "sorted", "reversed", "iter",
                     "enumerate", "any", "all", "sum", "min", "max", "zip", "print", "repr", "str",
                     "isinstance", "bool", "next", "hasattr", "getattr", "id", "hash", "type"})


def display(node: ast.AST | None, own: bool = False) -> list[str] | None:
    """The dotted names a dict, list, tuple or set display holds (keys, values and elements,
    nested displays included), BY_NAME and the object for a function looked up by name on it
    (`[getattr(crud, name)]`), LAMBDA for a lambda when `own` (a display in a function's body,
    whose lambdas' calls are the function's), UNREAD for anything else but a constant; None for
    no display."""
    if type(node) not in _DISPLAYS:
        return None
    found: list[str] = []
    stack: list[ast.AST] = [node]  # type: ignore[list-item]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is ast.Dict:
            for key, value in zip(current.keys, current.values):  # type: ignore[attr-defined]
                if key is None:  # `**OTHER`
                    found.append(UNREAD)
                else:
                    stack.extend((key, value))
        elif kind in _DISPLAYS:
            stack.extend(current.elts)  # type: ignore[attr-defined]
        elif _plain(current):
            continue
        elif own and kind is ast.Lambda:
            found.append(LAMBDA)
        else:
            written = dotted(current)
            if written is None and type(current) is ast.Call:
                written = _by_name(current)
            found.append(written if written is not None else UNREAD)
    return found


# Reads of a local container that only take values out of it: methods giving its values, and
# builtins that only read what they are handed (`getattr` may give a method that changes it).
_VALUE_VIEWS = frozenset({*_VIEWS, "get"}) - {"copy"}
_ONLY_READ = READERS - {"getattr"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def local_displays(body: list[ast.stmt], names: AbstractSet[str]) -> dict[str, list[str]]:
    """What the local names among `names` hold, as `display` gives it, when each is bound to a
    dict, list, tuple or set display in the function's own body (`fns = [getattr(crud, name)]`,
    `handlers = {"a": crud.purge}`); UNREAD added when the name is also bound otherwise, changed
    in place (`handlers[k] = f`, `fns.append(f)`), read by a nested function or lambda, or read
    in any way but taking a value out (`fns[0]`, `handlers.get(k)`, `handlers.values()`, a loop
    over it, `len(fns)`, `k in handlers`): handed on or aliased, more may be put in it. A name
    bound to no display is left out (no container of the function's own)."""
    held: dict[str, list[str]] = {}
    other: set[str] = set()
    targets: set[int] = set()  # the Name nodes a display is assigned to
    stack: list[tuple[ast.AST, ast.AST | None, bool]] = [(statement, None, False) for statement in body]
    while stack:
        node, parent, nested = stack.pop()
        kind = type(node)
        if isinstance(node, ast.Name):
            if node.id in names and id(node) not in targets and (
                nested or type(node.ctx) is not ast.Load or not _takes_out(node, parent)
            ):
                other.add(node.id)
            continue
        if kind is ast.Assign or kind is ast.AnnAssign:
            target = node.targets[0] if kind is ast.Assign and len(node.targets) == 1 else getattr(node, "target", None)  # type: ignore[attr-defined]
            shown = display(node.value, own=True) if type(target) is ast.Name and target.id in names and not nested else None  # type: ignore[attr-defined]
            if shown is not None:
                targets.add(id(target))
                held.setdefault(target.id, []).extend(shown)  # type: ignore[union-attr]
        elif isinstance(node, (*_SCOPES, ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            bound = getattr(node, "name", None)
            if bound in names:
                other.add(bound)  # type: ignore[arg-type]
        elif kind is ast.Global or kind is ast.Nonlocal:
            other.update(names & set(node.names))  # type: ignore[attr-defined]
        elif kind is ast.alias:
            other.update(names & {node.asname or node.name.partition(".")[0]})  # type: ignore[attr-defined]
        inner = nested or isinstance(node, _SCOPES)
        stack.extend((child, node, inner) for child in ast.iter_child_nodes(node))
    for name in other & set(held):
        held[name].append(UNREAD)
    return held


def _takes_out(name: ast.Name, parent: ast.AST | None) -> bool:
    """Whether this read of a local container only takes a value out of it (`local_displays`)."""
    kind = type(parent)
    if kind is ast.Subscript:
        return parent.value is name and type(parent.ctx) is ast.Load  # type: ignore[union-attr]
    if kind is ast.Attribute:
        return parent.attr in _VALUE_VIEWS and type(parent.ctx) is ast.Load  # type: ignore[union-attr]
    if kind is ast.For or kind is ast.AsyncFor or kind is ast.comprehension:
        return parent.iter is name  # type: ignore[union-attr]
    if kind is ast.Call:
        func = parent.func  # type: ignore[union-attr]
        return type(func) is ast.Name and func.id in _ONLY_READ and name in parent.args  # type: ignore[union-attr]
    if kind is ast.Compare:
        return name in parent.comparators and all(  # type: ignore[union-attr]
            type(op) is ast.In or type(op) is ast.NotIn for op in parent.ops  # type: ignore[union-attr]
        )
    return False


def _plain(node: ast.AST) -> bool:
    """A value that holds no code to run: constants, and operations on them."""
    return all(type(part) not in (ast.Name, ast.Attribute, ast.Call, ast.Lambda, ast.Starred,
                                  ast.Subscript, ast.NamedExpr, ast.Await)
               and not isinstance(part, (ast.comprehension, *_DISPLAYS))
               for part in ast.walk(node))


# A source naming a table the function reaches through a local name (a parameter, a local, a
# class's attribute read on `cls`): LOCAL + the table as written. What it holds is judged with the
# functions the project hands on (`Containers.unreadable_table`), never taken as nothing.
LOCAL = "~"

# A source naming an object looked up by name at run time (`getattr(crud, name)`): BY_NAME + the
# object as written, resolved by the project to every function the module holds.
BY_NAME = "@"


def accessed(node: ast.expr) -> str | None:
    """The container `TABLE[kind]`, `TABLE[a][b]` or `TABLE.get(kind)` takes a value out of, as
    written, when it is a dotted name; BY_NAME and the object for a lookup by name on it
    (`getattr(crud, name)`, `vars(crud)[name]`, `crud.__dict__.get(name)`, `globals()[name]`
    with BY_NAME alone for the module's own globals)."""
    looked = _by_name(node)
    if looked is not None:
        return looked
    if type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr == "get":
        return dotted(node.func.value)
    if type(node) is not ast.Subscript:
        return None
    while type(node) is ast.Subscript:
        node = node.value
    return dotted(node)


# Methods taking a value out of a container as they remove it (`fn, kwargs = QUEUE.popleft()`):
# a queue of work other code fills; `heapq.heappop(HEAP)` likewise, and an awaited `QUEUE.get()`.
_POPS = frozenset({"pop", "popleft", "popitem"})
_AWAITED_POPS = frozenset({"get", "get_nowait"})
_POP_FUNCTIONS = frozenset({"heappop", "heapq.heappop"})


def popped(node: ast.expr) -> str | None:
    """The container `QUEUE.popleft()`, `JOBS.pop()`, `HANDLERS.pop(k)`, `heapq.heappop(HEAP)` or
    `await QUEUE.get()` removes a value from, as written, when it is a dotted name; None otherwise."""
    awaited = type(node) is ast.Await
    if awaited:
        node = node.value  # type: ignore[attr-defined]
    if type(node) is not ast.Call:
        return None
    func = node.func
    if type(func) is ast.Attribute and (func.attr in _POPS or awaited and func.attr in _AWAITED_POPS):
        return dotted(func.value)
    if dotted(func) in _POP_FUNCTIONS and len(node.args) == 1 and type(node.args[0]) is not ast.Starred:
        return dotted(node.args[0])
    return None


def _by_name(node: ast.expr) -> str | None:
    if type(node) is ast.Call and type(node.func) is ast.Name and node.func.id == "getattr":
        if len(node.args) >= 2 and not (type(node.args[1]) is ast.Constant and isinstance(node.args[1].value, str)):
            written = dotted(node.args[0])
            return None if written is None else BY_NAME + written
        return None
    if type(node) is ast.Subscript:
        holder: ast.expr = node.value
    elif type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr == "get":
        holder = node.func.value
    else:
        return None
    if type(holder) is ast.Attribute and holder.attr == "__dict__":
        written = dotted(holder.value)
        return None if written is None else BY_NAME + written
    if type(holder) is ast.Call and type(holder.func) is ast.Name and not holder.keywords:
        if holder.func.id == "globals" and not holder.args:
            return BY_NAME
        if holder.func.id == "vars" and len(holder.args) == 1:
            written = dotted(holder.args[0])
            return None if written is None else BY_NAME + written
    return None


def iterated(node: ast.expr) -> ast.expr:
    """The container a loop over `node` takes its values from: `TABLE` for `TABLE.items()`,
    `enumerate(TABLE)`, `sorted(TABLE.values())`."""
    while type(node) is ast.Call:
        func = node.func
        if type(func) is ast.Attribute and func.attr in _VIEWS and not node.args and not node.keywords:
            node = func.value
        elif type(func) is ast.Name and func.id in _PASS_THROUGH and node.args and type(node.args[0]) is not ast.Starred:
            node = node.args[0]
        else:
            break
    return node


# What putting one of these into a container puts in no object whose methods a project defines: a
# constant, an f-string, a function made in place, or a container built in place (a method called
# on the item is then the container's own; what it holds is a level deeper).
_INERT = (ast.Constant, ast.JoinedStr, ast.Lambda, *_DISPLAYS, ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp)
_BUILT_INERT = frozenset({"dict", "list", "set", "tuple", "frozenset", "str", "int", "float", "bool", "bytes"})


def inert(*values: ast.expr | None) -> bool:
    """Whether every value given is one whose methods no project defines (`_INERT`, or a builtin
    container or scalar built in place: `dict(...)`, `str(x)`); None, a missing value, is."""
    for value in values:
        if value is None or type(value) in _INERT:
            continue
        if type(value) is ast.Call and type(value.func) is ast.Name and value.func.id in _BUILT_INERT:
            continue
        return False
    return True


def changed(target: ast.expr) -> str | None:
    """The name an assignment target changes in place: `TABLE` for `TABLE["x"] = f` (and for
    `TABLE.get(k)[0] = f`, an element of it), `mod.TABLE` for `mod.TABLE = {...}` (another
    module's name)."""
    if type(target) is ast.Subscript:
        return holder(target)
    if type(target) is ast.Attribute:
        return dotted(target)
    return None


# Methods giving back a value a container holds (the very object, not a copy).
_ELEMENT = frozenset({"get", "setdefault"})


def holder(node: ast.expr) -> str | None:
    """The name whose display a value in place of `node` lies in, as written: `TABLE` for
    `TABLE`, `TABLE[k]`, `TABLE[a][b]`, `TABLE.get(k)`, `TABLE.setdefault(k, [])`. Changing
    such an element in place (`TABLE[k].append(f)`) changes what the display holds, as a
    nested list is part of it."""
    while True:
        if type(node) is ast.Subscript:
            node = node.value
        elif type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr in _ELEMENT:
            node = node.func.value
        else:
            return dotted(node)
