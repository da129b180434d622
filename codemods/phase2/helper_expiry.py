"""What a project helper given the Session expires without committing: `rollback()`, `expire(obj)`, `expire_all()`.

`expired_reads` counts a helper's commit (`save(db, item)`) as a commit point of its caller. A
helper that rolls back or expires (`zero_stock(db, item)` ending `db.expire(item)`) expires the
caller's objects whatever `expire_on_commit` says, as the same call in the caller's own body
does: the caller's read after it reloaded the row in the synchronous code, and raises
MissingGreenlet under AsyncSession. An `expire()` of a parameter expires the object the caller
handed there only; of anything else (an object the helper loaded, which the identity map may
share with the caller's), every object. A call followed in its block by a `raise` leaving the
helper (`except IntegrityError: db.rollback(); raise`) never returns to the caller: not counted.
Helpers the helper hands the Session are followed, `CALL_DEPTH` deep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from async_migrate.codemods import facts
from async_migrate.codemods.held_commits import CALL_DEPTH
from async_migrate.codemods.phase2 import expired_lists
from async_migrate.codemods.phase2.bound import raised_after

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.expired_reads import Models
    from async_migrate.codemods.project import FunctionId, Project

# The strongest first: a rollback also expunges what the transaction added.
_METHODS = ("rollback", "expire_all", "expire")


@dataclass(frozen=True, slots=True)
class HelperExpiry:
    """`method`: the strongest expiring Session method the helper calls; `written`: one such
    call as the helper writes it (`db.expire(item)`); `params`: for an `expire()` of parameters
    only, those parameters of the helper; None when it expires every object."""

    method: str
    written: str
    params: frozenset[str] | None


def expiring(project: Project, models: Models, fid: FunctionId, depth: int = 0) -> HelperExpiry | None:
    """What the helper `fid` expires on the Session it is handed, itself or through the helpers
    it hands that Session to; None when it expires nothing that way."""
    cache = cast("dict[FunctionId, HelperExpiry | None]", project.derived.setdefault("phase2.helper_expiry", {}))
    if fid in cache:
        return cache[fid]
    cache[fid] = None  # a cycle of helpers adds nothing
    module, function = project.functions[fid]
    names = project.session_names(fid)
    params = {p.name for p in function.params}
    node = expired_lists.function_node(models.tree(module.path), function)
    found: list[HelperExpiry] = []
    for call in function.calls:
        if call.nested or call.receiver not in names or call.method not in _METHODS:
            continue
        if node is not None and raised_after(node, call.line) is not None:
            continue
        given = next((a for a in call.args if a.position == 0 or a.keyword == "instance"), None)
        written = f"{call.receiver}.{call.method}({given.name if given is not None and given.name else ''})"
        if call.method != "expire":
            found.append(HelperExpiry(call.method, written, None))
        elif given is not None and given.name in params:
            found.append(HelperExpiry("expire", written, frozenset({given.name})))
        else:
            found.append(HelperExpiry("expire", written, None))
    if depth < CALL_DEPTH:
        for edge in project.all_calls_from.get(fid, ()):
            call = edge.call
            if call.nested or not edge.session_args or edge.callee == fid:
                continue
            if node is not None and raised_after(node, call.line) is not None:
                continue
            inner = expiring(project, models, edge.callee, depth + 1)
            if inner is not None:
                mapped = handed(project, edge.callee, call, inner)
                found.append(HelperExpiry(
                    inner.method, inner.written,
                    None if mapped is None or not mapped <= params else mapped,
                ))
    cache[fid] = _join(found)
    return cache[fid]


def handed(project: Project, callee: FunctionId, call: facts.Call, expiry: HelperExpiry) -> frozenset[str] | None:
    """The caller's names a call hands to the parameters the helper expires (`item` for
    `zero_stock(db, item)`); None for every object (the helper expires all, or one of those
    arguments is no bare name: `zero_stock(db, items[0])`)."""
    if expiry.params is None:
        return None
    _, function = project.functions[callee]
    found: set[str] = set()
    for arg in call.args:
        if facts.parameter_of(function, arg) in expiry.params:
            if arg.name is None:
                return None
            found.add(arg.name)
    return frozenset(found)


def _join(found: list[HelperExpiry]) -> HelperExpiry | None:
    if not found:
        return None
    strongest = min(found, key=lambda e: _METHODS.index(e.method))
    if any(e.params is None for e in found):
        return HelperExpiry(strongest.method, strongest.written, None)
    return HelperExpiry(strongest.method, strongest.written, frozenset().union(*(e.params or () for e in found)))
