"""One AsyncSession used by coroutines that may run at the same time (check's AM325).

An AsyncSession allows one operation at a time: two coroutines on it that overlap raise
InvalidRequestError ("This session is provisioning a new connection; concurrent operations are
not permitted") or interleave their transactions. Read on an `async def` handler already on an
AsyncSession, and on the project coroutines it awaits handing that AsyncSession on:

- a *session coroutine* is a call making a coroutine that works on it: a project `async def`
  given it, an `async def` method of an object holding it (built here from it, or a parameter
  whose class's `__init__` takes an AsyncSession: one object per request), or its own method
  (`db.execute(q)`); a concurrent scheduler handed it with the function (`tg.start_soon(f, db)`)
  or handed such a method uncalled (`tg.start_soon(repo.sync)`) is one too;
- they overlap when two or more reach one scheduler (`phase2.scheduled.concurrent`: directly,
  inside a display or comprehension, through a local list), or one made several times before
  its scheduler runs (`facts.Call.loops`), or when one runs while a scheduler's task still runs
  (`facts.Call.beside`: another session coroutine scheduled, or awaited in place, or the task
  itself made again before it is joined).

A scheduler handed coroutines the analysis cannot read (`gather(*jobs)`, `jobs` not built here)
in a function holding the AsyncSession is unverified, not an all-clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import scheduled
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.sqlalchemy import AWAITED_METHODS

_DEPTH = 3  # how far into the project coroutines awaited with the AsyncSession


@dataclass(slots=True)
class Overlap:
    """What a handler's check reports: each (line, the call as written) and why, in order."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    unverified: bool = True  # every part is an unverified one

    def add(self, line: int, written: str, why: str, unverified: bool = False) -> None:
        if why not in self.parts:
            self.lines.append((line, written))
            self.parts.append(why)
            self.unverified = self.unverified and unverified


def overlaps(project: Project, fid: FunctionId) -> Overlap:
    """The overlapping use of one AsyncSession in the `async def` handler `fid`, and in the
    project coroutines it awaits with that AsyncSession (a few calls deep)."""
    found = Overlap()
    names = set(project.declared_async_session_params(fid))
    frontier: list[tuple[FunctionId, set[str], str]] = [(fid, names, "")]
    seen: set[FunctionId] = set()
    for _ in range(_DEPTH):
        following: list[tuple[FunctionId, set[str], str]] = []
        for current, held, where in frontier:
            if current in seen:
                continue
            seen.add(current)
            _read(project, current, held, where, found)
            for edge in project.all_calls_from.get(current, ()):
                module, callee = project.functions[edge.callee]
                given = set(project._session_args(edge.call, edge.callee, held)) if held else set()
                if not callee.is_async or callee.is_generator or not edge.call.awaited:
                    continue
                # a method of an object holding it (`await svc.refresh()`) works on it through `self`
                if given or _held_receiver(project, current, edge.call, edge.callee, held) is not None:
                    following.append((edge.callee, given, f" in `{module.name}.{callee.qualname}()`"))
        frontier = following
    return found


def _read(project: Project, fid: FunctionId, names: set[str], where: str, found: Overlap) -> None:
    _, function = project.functions[fid]
    if not any(scheduled.is_scheduler(project, call, concurrent=True) for call in function.calls):
        return  # nothing scheduled here
    uses = _session_coroutines(project, fid, names)
    by_index = {call.index: call for call in function.calls}
    groups: dict[int, list[tuple[facts.Call, str]]] = {}
    for index, text in uses.items():
        call = by_index[index]
        for outer in scheduled.concurrent(project, function, call):
            groups.setdefault(outer.index, []).append((call, text))
    for call in function.calls:
        if call.nested or not scheduled.is_scheduler(project, call, concurrent=True):
            continue
        given = [a.name for a in call.args if a.name in names] if call.receiver not in names else []
        handed = _handed_held(project, fid, call)
        if given:
            groups.setdefault(call.index, []).append((call, f"a function given the AsyncSession `{given[0]}`"))
        elif handed is not None:
            groups.setdefault(call.index, []).append((call, handed))
    scheduled_at = {index for index, group in groups.items() if group}
    running = {index for index in uses if by_index[index].awaited} | scheduled_at
    for index in sorted(scheduled_at):
        outer = by_index[index]
        group = groups[index]
        written = f"{scheduled.written(outer)}()"
        several = [text for call, text in group if call is not outer and set(call.loops) - set(outer.loops)]
        if len(group) > 1 or several:
            made = f"{several[0]}, made once per round of a loop or comprehension," if several and len(group) == 1 \
                else f"{len(group)} coroutines on the AsyncSession ({', '.join(sorted({t for _, t in group}))})"
            found.add(outer.line, written, f"hands {made} to `{written}` at line {outer.line}{where}, which runs "
                      "them at the same time")
            continue
        meanwhile = sorted(i for i in outer.beside if i in running)
        if meanwhile:
            other = by_index[meanwhile[0]]
            what = "the same line makes another such task (a loop), before this one is joined" if other is outer else (
                f"`{scheduled.written(other)}()` at line {other.line} schedules more work on the AsyncSession"
                if other.index in scheduled_at else f"{uses[other.index]} is awaited at line {other.line}"
            )
            found.add(outer.line, written, f"hands {group[0][1]} to `{written}` at line {outer.line}{where}, and "
                      f"while that task runs, {what}")
    if not names:
        return
    for edge in project.all_calls_from.get(fid, ()):
        call = edge.call
        given = [a.name for a in call.args if a.name in names]
        outers = scheduled.concurrent(project, function, call) if given and call.index not in uses else []
        if outers and not call.nested:
            # `jobs = make_jobs(db)` then `gather(*jobs)`: what it returns may hold coroutines on it
            module, callee = project.functions[edge.callee]
            found.add(call.line, f"{module.name}.{callee.qualname}()", (
                f"hands what `{module.name}.{callee.qualname}()`, given the AsyncSession `{given[0]}`, returns to "
                f"`{scheduled.written(outers[0])}()` at line {outers[0].line}{where}: coroutines on it there would "
                "run at the same time (unverified)"), unverified=True)
    for call in function.calls:
        spread = scheduled.unread(project, call) if call.index not in scheduled_at else None
        if spread is not None and not call.nested:
            found.add(call.line, f"{scheduled.written(call)}()", f"hands `{spread}` to `{scheduled.written(call)}()` "
                      f"at line {call.line}{where}, whose coroutines the analysis cannot read: any given the "
                      f"AsyncSession `{sorted(names)[0]}` would run at the same time (unverified)", unverified=True)


def _session_coroutines(project: Project, fid: FunctionId, names: set[str]) -> dict[int, str]:
    """Call index -> the coroutine as a message names it, for each call in the function's own body
    making a coroutine that works on the AsyncSession `names` hold (or an object holding it)."""
    _, function = project.functions[fid]
    found: dict[int, str] = {}
    for edge in project.all_calls_from.get(fid, ()):
        call = edge.call
        module, callee = project.functions[edge.callee]
        if call.nested or call.offloaded or not callee.is_async or callee.is_generator:
            continue
        given = [a.name for a in call.args if a.name in names]
        if given:
            found[call.index] = f"`{module.name}.{callee.qualname}()` given the AsyncSession `{given[0]}`"
        elif (holder := _held_receiver(project, fid, call, edge.callee, names)) is not None:
            found[call.index] = f"`{module.name}.{callee.qualname}()` on `{holder}`, which holds the AsyncSession"
    for call in function.calls:
        if call.receiver in names and call.method in AWAITED_METHODS and not call.nested:
            found[call.index] = f"`{call.receiver}.{call.method}()`"
    return found


def _held_receiver(
    project: Project, fid: FunctionId, call: facts.Call, callee: FunctionId, names: set[str]
) -> str | None:
    """The local name a method call's object is bound to when that object holds the request's
    AsyncSession: built here from it (`repo = Repo(db)`), or a parameter (a dependency, `self`)
    whose class's `__init__` takes an AsyncSession; None otherwise."""
    receiver = (call.func or "").rpartition(".")[0]
    if not receiver.startswith("$") or "." in receiver[1:] or not _holds_async_session(project, callee):
        return None
    name = receiver[1:]
    _, function = project.functions[fid]
    if any(p.name == name for p in function.params):
        return name
    bound = [b for b in function.bindings if b.name == name and not b.entered]
    if len(bound) != 1:
        return None
    built = [
        c for c in function.calls
        if c.line == bound[0].line and c.callee is not None and bound[0].expr == f"{c.callee}()"
        and any(a.name in names for a in c.args)
    ]
    return name if built else None


def _holds_async_session(project: Project, method: FunctionId) -> bool:
    """Whether the class a method belongs to takes an AsyncSession in its `__init__` (its own or
    one it inherits from a project base)."""
    classes = project.flow.classes
    owner = classes.owner(method)
    if owner is None:
        return False
    for ref in classes.mro(owner):
        init = project.function(f"{ref}.__init__")
        if init is not None:
            return bool(project.declared_async_session_params((init[0].name, init[1].key)))
    return False


def _handed_held(project: Project, fid: FunctionId, call: facts.Call) -> str | None:
    """`tg.start_soon(repo.sync)`: an `async def` method of an object holding the AsyncSession
    handed uncalled to the concurrent scheduler `call`, as a message names it, or None."""
    for written, target in scheduled.handed_functions(project, fid, call):
        module, method = project.functions[target]
        if method.is_async and _holds_async_session(project, target):
            return f"`{written}` (`{module.name}.{method.qualname}()`, on an object holding the AsyncSession)"
    return None
