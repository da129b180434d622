"""What a function does with a synchronous Session, read off the project index.

Shared by phase one (is there blocking work to move off the loop?), `check`
(is an `async def` still blocking?) and the reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from async_migrate.codemods.names import SESSION_IO_METHODS
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import FunctionId, Project


@dataclass(slots=True)
class SessionWork:
    params: dict[str, str] = field(default_factory=dict)  # session parameter -> why it is one
    used: list[str] = field(default_factory=list)  # session parameters the body uses
    unused: list[str] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)  # lines where the function opens a Session
    opening_callees: list[tuple[int, str, list[str]]] = field(default_factory=list)
    passes_to: list[tuple[int, str]] = field(default_factory=list)  # helpers handed the Session
    blocking: list[Blocking] = field(default_factory=list)
    helper_calls: dict[int, Blocking] = field(default_factory=dict)  # call index -> blocking helper call

    @property
    def any(self) -> bool:
        return bool(self.used or self.opened or self.opening_callees)


def session_work(project: Project, fid: FunctionId) -> SessionWork:
    module, function = project.functions[fid]
    work = SessionWork(params=dict(project.session_params[fid]))
    for name in work.params:
        (work.used if function.name_uses.get(name) else work.unused).append(name)
    work.opened = [o.line for o in project.opens_directly(fid)]
    names = project.session_names(fid)
    for call in function.calls:
        if call.receiver in names and call.method is not None and not call.offloaded:
            if call.method in SESSION_IO_METHODS:
                work.blocking.append(Blocking(call.line, f"{call.receiver}.{call.method}()"))
    for edge in project.calls_from[fid]:
        callee_module, callee = project.functions[edge.callee]
        name = f"{callee_module.name}.{callee.qualname}"
        if callee.is_async:
            continue
        chain = project.opens_session(edge.callee)
        opens = bool(project.opens_directly(edge.callee)) or bool(chain)
        if opens:
            work.opening_callees.append((edge.call.line, name, chain))
        if edge.session_args:
            work.passes_to.append((edge.call.line, name))
        if edge.session_args or opens:
            blocking = Blocking(edge.call.line, f"{name}(...)", offloaded=edge.call.offloaded)
            work.blocking.append(blocking)
            if not edge.call.offloaded:
                work.helper_calls[edge.call.index] = blocking
    work.blocking.sort(key=lambda b: (b.line, b.call))
    return work
