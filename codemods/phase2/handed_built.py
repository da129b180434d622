"""Objects a route builds and hands to a project helper (phase two's lazy-load analysis).

`user = User(...); db.add(user); await db.commit(); return {"n": org_size(user)}` with `def
org_size(u): return len(u.org.items)`: no query loaded `user`, so the value flow has no origin for
the helper's parameter and the read is judged by names, where a relationship declared eager
(`lazy="joined"`) counts as loaded. On an object the code built, one declared eager loads on first
read too (it loads with a query of its class, and none ran), raising MissingGreenlet under
AsyncSession. `handed_built` finds, for a parameter of a function of a route's closure, a call in
that closure handing it such an object (or a relationship path on one, `org_size(user.org)`, or a
parameter of the caller that is handed one in turn), so the read counts as on a built object.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.project import FunctionId, Project

_DEPTH = 4  # helpers handing the object on to helpers


@dataclass(frozen=True, slots=True)
class Handed:
    """A built object reaching a helper's parameter: its mapped class (None below it, `user.org`),
    what the caller passes as written, the caller, the helper and the line of the call."""

    model: str | None
    param: str
    passed: str
    caller: str
    helper: str
    line: int
    untraced: bool = False  # no origin the flow finds, built or not: no query known to load it

    def describe(self, receiver: str) -> str:
        what = f"the {self.model.rpartition('.')[2]} object" if self.model else "reached from an object"
        start = f"`{receiver}` is" if receiver == self.param else f"`{receiver}` is reached from `{self.param}`,"
        if self.untraced:
            return (
                f"{start} `{self.passed}`, which {self.caller} hands to {self.helper}() at line {self.line} and the "
                "tool traces to no query (one it builds, or one code it does not follow returns), so none is known "
                "to load it"
            )
        return (
            f"{start} {what} `{self.passed}` that {self.caller} builds and hands to "
            f"{self.helper}() at line {self.line}, which no query loads"
        )

    def fix(self, attribute: str) -> str:
        return (
            f"fix: load `{attribute}` in {self.caller} before handing `{self.passed}` to {self.helper}() (an "
            "awaited refresh naming it, on the object that holds it), or migrate the route by hand"
        )


def handed_built(
    project: Project,
    members: Collection[FunctionId],
    fid: FunctionId,
    name: str,
    built: Callable[[facts.Function, str], str | None],
    traced: Callable[[FunctionId, str], bool],
    depth: int = 0,
) -> Handed | None:
    """A call from `members` (a route's closure) handing parameter `name` of `fid` an object the
    caller built (`built(function, local)` gives its mapped class), directly or through the
    caller's own parameter, or one the flow traces to no query (`traced(caller, local)` false);
    None when no call does."""
    _, function = project.functions[fid]
    params = [p for p in function.params if not p.variadic]
    param = next((p for p in params if p.name == name), None)
    if param is None or param.depends or depth > _DEPTH or name in ("self", "cls"):
        return None
    positional = [p for p in params if p.positional and p.name not in ("self", "cls")]
    position = positional.index(param) if param in positional else -1
    for edge in project.all_calls_to.get(fid, ()):
        if edge.caller not in members:
            continue
        passed = next(
            (a for a in edge.call.args if a.keyword == name or (a.keyword is None and a.position == position)),
            None,
        )
        if passed is None:
            continue
        caller_module, caller = project.functions[edge.caller]
        written = passed.name or passed.expr or ""
        local, dot, _ = written.partition(".")
        if not local or "(" in local:
            continue
        model = built(caller, local)
        shown = f"{caller_module.name}.{caller.qualname}"
        if model is not None:
            return Handed(None if dot else model, name, written, shown, function.qualname, edge.call.line)
        deeper = handed_built(project, members, edge.caller, local, built, traced, depth + 1)
        if deeper is not None:
            return Handed(None if dot else deeper.model, name, written, shown, function.qualname, edge.call.line,
                          deeper.untraced)
        if not traced(edge.caller, local) and not any(p.name == local for p in caller.params):
            return Handed(None, name, written, shown, function.qualname, edge.call.line, untraced=True)
    return None
