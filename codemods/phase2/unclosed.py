"""Sessions a function opens by assignment (`s = SessionLocal()`) and never closes (AM154).

The synchronous Session left open is closed by the garbage collector, which gives its
connection back to the pool; an AsyncSession's is not (releasing it needs an await), so the
migrated route would drain the pool. A `with` opening, a `close()` on the name anywhere in the
function, or the Session handed on (returned or yielded: its closing is the caller's) is not
reported. Handed to a helper it still is: a helper closing a Session it is given is rare, and
a missed leak drains the pool.
"""

from __future__ import annotations

from async_migrate.codemods.project import FunctionId, Project


def unclosed_opens(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """(line, what) of each Session `fid` opens by assignment, or in a call's arguments, and never
    closes nor hands on."""
    _, function = project.functions[fid]
    found = []
    for opened in project.opens_directly(fid):
        name = opened.name
        short = project.written(opened.callee)
        if opened.index != -1:
            continue  # a `with` item: closed on leaving the block
        if name is None:  # `helper(SessionLocal())`: nothing here can close it
            found.append((opened.line, f"opens a Session right in a call's arguments (`{short}()`)"))
            continue
        if any(call.receiver == name and call.method == "close" for call in function.calls):
            continue
        local = f"${name}"
        handed = (*function.returned, *function.yielded)
        if local in handed or name in function.yields:
            continue
        found.append((opened.line, f"opens `{name}` by assignment"))
    return found
