"""Work handed to a worker thread whose awaitable nothing awaits.

`asyncio.to_thread(f, db)`, `run_in_threadpool(f, db)` and `anyio.to_thread.run_sync(f, db)` are
coroutine functions: called without `await`, and neither handed to what runs the coroutine nor held
to be awaited later, they only create a coroutine, and `f` never reaches a thread (its Session work
is lost). `loop.run_in_executor(None, f, db)` submits `f` at once and returns a future: dropped, `f`
runs in a worker thread nobody joins, beyond the handler, on the request's Session, which the
session dependency closes meanwhile, and what it raises is lost. The call record of `f` is marked
offloaded either way, so without this the analysis took the work for done in the thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.unawaited_session import never_runs
from async_migrate.codemods.vocabulary import OFFLOADERS

if TYPE_CHECKING:
    from async_migrate.codemods.project import FunctionId, Project

_EXECUTOR = "run_in_executor"


@dataclass(frozen=True, slots=True)
class Dropped:
    line: int
    offloader: str  # as written: `asyncio.to_thread`, `loop.run_in_executor`
    work: str  # what it is handed, as written (`app.main.touch`); "..." when not a name
    started: bool  # a future (`run_in_executor`): the work runs, unjoined; else it never runs

    @property
    def call(self) -> str:
        return f"{self.offloader}({self.work}, ...)" if self.work != "..." else f"{self.offloader}(...)"

    @property
    def named(self) -> str:
        """The work as a reason names it: its function, else what the call is handed."""
        return self.work if self.work != "..." else "the work it is handed"

    def harm(self) -> str:
        """What happens to the work, for a reason or a finding."""
        if self.started:
            return (
                f"`{self.offloader}()` at line {self.line} starts {self.named} in a worker thread and nothing awaits "
                "the future it returns: the work runs beyond the handler, on the request's Session, which the "
                "session dependency closes meanwhile, and what it raises is lost"
            )
        return (
            f"`{self.offloader}()` at line {self.line} is a coroutine function called without `await`: it only "
            f"creates a coroutine, and {self.named} never runs (its Session work is lost)"
        )


def dropped_offloads(project: Project, fid: FunctionId) -> list[Dropped]:
    """The calls in `fid` handing work to a worker thread whose coroutine or future nothing awaits,
    holds to await later, or hands to what runs it. A future only when the work is handed a
    Session of `fid` or does Session work: a fire-and-forget executor call otherwise is no concern
    of the Session's. Kept per project."""
    known: dict[FunctionId, list[Dropped]] = project.derived.setdefault("dropped_offloads", {})  # type: ignore[assignment]
    found = known.get(fid)
    if found is None:
        found = known[fid] = _dropped(project, fid)
    return found


def _dropped(project: Project, fid: FunctionId) -> list[Dropped]:
    module, function = project.functions[fid]
    found: list[Dropped] = []
    names: set[str] | None = None
    for call in function.calls:
        if call.offloaded or call.awaited or call.consumed or call.nested or call.within or call.held_in is not None:
            continue
        if call.argument_of is not None and not never_runs(project, function, call.argument_of):
            continue  # handed to a call, which may run it (`create_task(...)`, `gather(...)`)
        spelled = call.func if call.func is not None else call.callee
        if spelled is None:
            continue
        started = spelled.rpartition(".")[2] == _EXECUTOR
        if not started and project.canonical(call.callee) not in OFFLOADERS:
            continue
        given = [c for c in function.calls if c.offloaded and c.index == call.index and c.line == call.line]
        if started:
            if names is None:
                names = set(project.session_names_view(fid))
            callees = [t for c in given for t in project.project_callees.get(id(c), ())]
            if not any(a.name in names for a in call.args) and not any(t in project.work_chains for t in callees):
                continue
        work = next((project.written(c.callee or c.func or "") for c in given if c.callee or c.func), "...")
        shown = project.written(spelled) if call.func is not None else _imported_as(module, spelled)
        found.append(Dropped(call.line, shown, work.removeprefix("$") or "...", started))
    return found


def _imported_as(module: facts.Module, callee: str) -> str:
    """A library function as the module names it: `run_in_threadpool` for `from starlette.concurrency
    import run_in_threadpool`, `asyncio.to_thread` for `import asyncio`; else its full name."""
    for local, imported in sorted(module.imports.items()):
        if imported == callee:
            return local
        if local != "*" and callee.startswith(imported + "."):
            return local + callee[len(imported):]
    return callee
