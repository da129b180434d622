"""What a refresh or an `awaitable_attrs` read loads: the attributes it names, on the one object it is given.

`await db.refresh(order, attribute_names=["items"])` and `await order.awaitable_attrs.items`
(`facts.Function.refreshed`) load `items` on `order` and on nothing else: another Order of the
same query, of another query, or one a helper hands back reads its own `items` lazily. So a read
is credited only where the facts show it is that object (`by_name`, `by_callers`, `by_query`);
anything else (a refresh of another name or of no bare name, `db.refresh(self.order, ...)`, one in
a nested scope, one some path skips under an `if` or a `try` or that follows a `return` of a value,
which the collector records without a name, a read the flow cannot trace) is judged by the readers
as a lazy load, as with no refresh at all.
"""

from __future__ import annotations

from collections.abc import Collection

from async_migrate.codemods import facts
from async_migrate.codemods.project import FunctionId, Project

_DEPTH = 4  # helpers handing the object on to helpers


def only_set(function: facts.Function, line: int, receiver: str, attribute: str) -> bool:
    """Whether `receiver.attribute` at `line` is only assigned there (`doc.body = data`), not read:
    no augmented assignment (`doc.size += n` reads first), no read of it on the same line."""
    entry = (line, receiver, attribute)
    return (
        entry in function.stores and entry not in function.updates
        and function.attributes.count(entry) <= function.stores.count(entry)
    )


def by_name(function: facts.Function, receiver: str, line: int, attribute: str) -> bool:
    """Whether `function` refreshes `attribute` on `receiver` at or before `line`, the name
    bound to one value only (a second binding may be another object by the read): a parameter, a
    loop target or one binding, as `order = await db.get(Order, 1)`, the refresh, then `order.items`."""
    held = function.holds.get(receiver, ())
    if not line or len(held) > 1 or (held and any(p.name == receiver for p in function.params)):
        return False  # a parameter bound again holds two values: the one given, then the other
    return any(
        name == receiver and loaded == attribute and at <= line for at, name, loaded in function.refreshed
    )


def by_callers(
    project: Project, members: Collection[FunctionId], fid: FunctionId, name: str, attribute: str, depth: int = 0
) -> bool:
    """Whether parameter `name` of `fid`, not bound again there, is given by every call from `members`
    (a route's closure; at least one) a local the caller refreshed `attribute` on before the call
    (`by_name`), or a parameter of its own given one the same way: `own_items(user)` after
    `db.refresh(user, attribute_names=["items"])`."""
    _, function = project.functions[fid]
    params = [p for p in function.params if not p.variadic]
    param = next((p for p in params if p.name == name), None)
    if param is None or param.depends or name in function.holds or depth > _DEPTH:
        return False
    positional = [p for p in params if p.positional and p.name not in ("self", "cls")]
    position = positional.index(param) if param in positional else -1
    found = False
    for edge in project.all_calls_to.get(fid, ()):
        if edge.caller not in members:
            continue
        passed = next(
            (a for a in edge.call.args if a.keyword == name or (a.keyword is None and a.position == position)), None
        )
        if passed is None or passed.name is None:
            return False  # not given it, or given what is no bare name: no refresh known to load it
        _, caller = project.functions[edge.caller]
        if not (
            by_name(caller, passed.name, edge.call.line, attribute)
            or by_callers(project, members, edge.caller, passed.name, attribute, depth + 1)
        ):
            return False
        found = True
    return found


def by_query(function: facts.Function, load: int, attribute: str, line: int | None) -> bool:
    """Whether `function` refreshes `attribute` on each object its query `loads[load]` loads before
    anything else sees it; `line`: where `function` reads it itself (None: a read elsewhere, after
    the function handed the object on).

    The name refreshed is bound only to that query's object (`o = db.get(Order, id)`), the refresh
    runs after the query and before the name is handed to any call or bound to another name, and
    a read in that same function comes after it: every object that query loads is refreshed before
    anything else sees it (a helper `o = db.get(...); db.refresh(o, [...]); return o`)."""
    if not function.refreshed or not 0 <= load < len(function.loads):
        return False
    query = function.loads[load]
    for at, name, loaded in function.refreshed:
        if loaded != attribute or not name or function.holds.get(name) != (("load", load),):
            continue
        if at < query.line or (line is not None and line < at):
            continue
        if _handed(function, name, query.line, at):
            continue
        return True
    return False


def _handed(function: facts.Function, name: str, start: int, end: int) -> bool:
    """Whether `name` goes anywhere before the refresh at `end`: an argument of a call from
    `start` on (the callee may read the attribute first), or bound to another name (which the
    refresh does not follow)."""
    for call in function.calls:
        if start <= call.line < end and (name in call.contained or any(arg.name == name for arg in call.args)):
            if call.method == "refresh" and call.args and call.args[0].name == name:
                continue  # another refresh of it
            return True
    # `alias = name` after the refresh holds the refreshed object; one before it, or one the
    # bindings do not place, may be read first
    spelled = [b for b in function.bindings if b.expr == f"${name}"]
    after = {b.name for b in spelled if b.line >= end} - {b.name for b in spelled if b.line < end}
    return any(
        ("name", name) in terms for other, terms in function.holds.items() if other != name and other not in after
    )
