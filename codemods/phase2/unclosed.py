"""Sessions a function opens by assignment (`s = SessionLocal()`) and does not close on every
path (AM154).

The synchronous Session left open is closed by the garbage collector, which gives its
connection back to the pool; an AsyncSession's is not (releasing it needs an await), so the
migrated route would drain the pool. A `with` opening, a `close()` on every path after the
opening (in a `finally`: `astcollect/closing.py`), or the Session handed on (returned or
yielded: its closing is the caller's) is not reported. A `close()` elsewhere (after the work,
in the `try` body, in an `except` only) is skipped by an exception or an early return: reported,
naming it. So is `with s:` on the name, which closes it but would stay a synchronous `with` on
the AsyncSession. Handed to a helper it still is: a helper closing a Session it is given is
rare, and a missed leak drains the pool.
"""

from __future__ import annotations

from async_migrate.codemods.project import FunctionId, Project

_LEAKS = (
    ": the synchronous Session is closed by the garbage collector, which gives its connection back to the pool; "
    "an AsyncSession's is not, so the migrated route would drain the pool and later requests time out; open it "
    "with `with ... as session:` (or close it in a `finally`), then rerun phase two"
)


def unclosed_opens(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """(line, reason) of each Session `fid` opens by assignment, or in a call's arguments, and does
    not close on every path nor hand on."""
    _, function = project.functions[fid]
    found = []
    for opened in project.opens_directly(fid):
        name = opened.name
        short = project.written(opened.callee)
        if opened.index != -1 or opened.by_hand:
            continue  # a `with` item: closed on leaving the block; entered by hand: AM290
        if name is None and opened.given_to == "contextlib.closing":
            # Closed on every path, but by `closing`, which calls the AsyncSession's close()
            # without awaiting it: the connection would be left to the garbage collector.
            found.append((opened.line, f"opens a Session in `closing({short}())`, which on an AsyncSession "
                          "calls `close()` without awaiting it, so the connection never goes back to the pool: "
                          f"open it with `with {short}() as session:`, then rerun phase two"))
            continue
        if name is None:  # `helper(SessionLocal())`: nothing here can close it
            found.append((opened.line, f"opens a Session right in a call's arguments (`{short}()`) "
                          f"and never closes it{_LEAKS}"))
            continue
        entered = sorted(line for expr, line, asynchronous in function.entered
                         if expr == f"${name}" and not asynchronous)
        if entered:
            # Closed on every path, but the `with` would stay synchronous on an AsyncSession,
            # which has no `__enter__`: the migrated route would fail on every request.
            found.append((opened.line, f"opens `{name}` by assignment and closes it by leaving `with {name}:` "
                          f"(line {entered[0]}), which phase two does not turn into `async with` (an AsyncSession "
                          "cannot be entered with `with`): open it with `with ... as session:`, then rerun phase two"))
            continue
        if opened.line in function.closed_always:
            continue
        local = f"${name}"
        handed = (*function.returned, *function.yielded)
        if local in handed or name in function.yields:
            continue
        closes = sorted({call.line for call in function.calls
                         if call.receiver == name and call.method == "close" and not call.nested})
        if closes:
            found.append((opened.line, f"opens `{name}` by assignment and closes it only on some paths "
                          f"(`{name}.close()` at line {', '.join(map(str, closes))} is not in a `finally`: an "
                          f"exception or a return before it skips it){_LEAKS}"))
            continue
        found.append((opened.line, f"opens `{name}` by assignment and never closes it{_LEAKS}"))
    return found
