"""SQLAlchemy event listeners a function registers when it runs: `event.listen(Order.status,
"set", on_status)` in `register_listeners()`, and a nested `@event.listens_for(Session,
"after_commit")` def in `setup_events()`, as an application factory or lifespan calls them.

Such a listener runs, once its function has, exactly as a module-level one does, so the facts
hold it as one: its `event.listen` calls join `Module.listens` (the handler resolved through
the function's own imports, a nested def named by its `<locals>` qualname), and its nested
handler defs are collected as functions, their decorators with them.
"""

from __future__ import annotations

import ast

from async_migrate.codemods.astcollect.module import Collector, loop_targets
from async_migrate.codemods.astcollect.syntax import FUNCTIONS, dotted, own_nodes

_LISTEN = "listen"
_LISTENS_FOR = "listens_for"


def _last(node: ast.expr) -> str:
    """`event.listen` -> "listen", `listen` -> "listen"; "" for another expression."""
    return (dotted(node) or "").rpartition(".")[2]


def _handler(call: ast.Call) -> ast.expr | None:
    if len(call.args) > 2:
        return call.args[2]
    return next((k.value for k in call.keywords if k.arg == "fn"), None)


def targets(call: ast.Call, loops: dict[int, dict[str, ast.For | ast.AsyncFor]]) -> list[ast.expr]:
    """What a listen call's first argument stands for: in `for attribute in (Order.status,
    Order.total): event.listen(attribute, "set", f)`, each element of the display looped over."""
    first = call.args[0]
    loop = loops.get(id(call), {}).get(first.id) if isinstance(first, ast.Name) else None
    if loop is not None and isinstance(loop.target, ast.Name) and isinstance(loop.iter, (ast.Tuple, ast.List)):
        return [e for e in loop.iter.elts if not isinstance(e, ast.Starred)]
    return [first]


def target_ref(collector: Collector, written: ast.expr, bound: frozenset[str] = frozenset()) -> str | None:
    """The listened attribute's resolved reference; `Model.*` for `getattr(Model, name)` with a
    name the collector cannot read (every column of an audited model, in a loop): any of them."""
    found = collector.ref(written, bound)
    if found is not None or not isinstance(written, ast.Call) or len(written.args) < 2:
        return found
    if not isinstance(written.func, ast.Name) or written.func.id != "getattr" or "getattr" in bound:
        return None
    owner = collector.ref(written.args[0], bound)
    return f"{owner}.*" if owner is not None else None


def handler_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names of the defs nested in `node` that are event handlers: decorated with
    `listens_for(...)`, or handed to an `event.listen(...)` of its body."""
    found: set[str] = set()
    for statement in node.body:
        if isinstance(statement, FUNCTIONS) and any(
            isinstance(d, ast.Call) and _last(d.func) == _LISTENS_FOR for d in statement.decorator_list
        ):
            found.add(statement.name)
    for child in own_nodes(node.body):
        if isinstance(child, ast.Call) and _last(child.func) == _LISTEN:
            given = _handler(child)
            if isinstance(given, ast.Name):
                found.add(given.id)
    return found


def read(collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> None:
    """Append the `event.listen(...)` calls of `node`'s own body, and the `listens_for(...)`
    decorators of the defs nested in it, to the module's listens, as `Collector._listen` does
    for module-level calls: target and handler resolved in this scope, its own imports first.
    Names the function binds are its own, not the module's: a nested def handed as the handler
    is `qualname.<locals>.name`, another local (a parameter, a name assigned) is not followed."""
    defs = [s for s in node.body if isinstance(s, FUNCTIONS)]
    nested = {s.name for s in defs}
    local = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
    own = own_nodes(node.body)
    local |= {n.id for n in own if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    local |= nested
    bound = frozenset(local)
    prefix = f"{collector.name}.{qualname}.<locals>." if collector.name else f"{qualname}.<locals>."
    for definition in defs:
        # `@event.listens_for(bind, "connect")` on a nested def: its target read in this scope
        for decorator in definition.decorator_list:
            if isinstance(decorator, ast.Call) and _last(decorator.func) == _LISTENS_FOR:
                _record(collector, decorator, bound, prefix + definition.name)
    loops = loop_targets(own)
    for child in own:
        if not isinstance(child, ast.Call) or _last(child.func) != _LISTEN or not child.args:
            continue
        given = _handler(child)
        handler: str | None
        if isinstance(given, ast.Name) and given.id in nested:
            handler = prefix + given.id
        else:
            handler = collector.ref(given, bound) if given is not None else None
        for target in targets(child, loops):
            _record(collector, child, bound, handler, target)


def _record(
    collector: Collector, call: ast.Call, bound: frozenset[str], handler: str | None, written: ast.expr | None = None
) -> None:
    if len(call.args) < 2:
        return
    callee = collector.ref(call.func, bound)
    target, identifier = target_ref(collector, written or call.args[0], bound), call.args[1]
    if callee is None or target is None or "." not in target or not isinstance(identifier, ast.Constant) \
            or not isinstance(identifier.value, str):
        return
    collector.facts.listens.append((callee, target, identifier.value, handler or "?", call.lineno))
