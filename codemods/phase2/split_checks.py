"""A check of shared state and the change it decides, which phase two would split with an await.

Moved onto the event loop, a function runs with no other request in between until it awaits: an
`async def` route doing `if key in SEEN: raise ...`, `db.commit()`, `SEEN.add(key)` is safe on the
synchronous Session, and racy once phase two writes `await db.commit()` there, since another
request can pass the same check while this one waits. So can a read-modify-write whose value is
read before an await and stored after it (`TOTAL += await db.scalar(...)`). Shared state is what
phase one's AM140 judges it to be (`codemods.phase1.shared_updates`). Left alone: a change made
before any new await, a check and change inside one `async with LOCK:` on an `asyncio.Lock` (or
`with LOCK:` on a `threading.Lock`), and an `async def` that already awaits between the two (a
race the code had before phase two, which phase two does not make).
"""

from __future__ import annotations

from collections.abc import Callable

from async_migrate.codemods.phase1 import shared_updates
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.sqlalchemy import AWAITED_METHODS


def new_awaits(project: Project, fid: FunctionId, awaited_callee: Callable[[FunctionId], bool]) -> list[tuple[int, str]]:
    """The calls phase two would await that the function does not await yet, with their line and
    text: a Session method that is a coroutine on an AsyncSession (`db.commit()`, a legacy
    `db.query(...)` chain), and a project function doing Session work, which moves with it."""
    _, function = project.functions[fid]
    names = project.session_names(fid)
    found: dict[int, tuple[int, str]] = {}
    for call in function.calls:
        if call.awaited or call.nested or call.offloaded:
            continue
        if call.receiver in names and call.method is not None and (call.method in AWAITED_METHODS or call.method == "query"):
            found.setdefault(call.index, (call.line, f"{call.receiver}.{call.method}()"))
    for edge in project.all_calls_from[fid]:
        call = edge.call
        if call.awaited or call.nested or call.offloaded or call.index in found:
            continue
        if edge.session_args or awaited_callee(edge.callee):
            name = project.functions[edge.callee][1].qualname
            found[call.index] = (call.line, f"{name}()")
    return sorted(found.values())


def blockers(project: Project, fid: FunctionId, awaited_callee: Callable[[FunctionId], bool]) -> list[tuple[int, str]]:
    """Each check-then-act (and read-modify-write in one statement) on shared state the function
    makes with a new await between the read and the change: the read's line, and the reason."""
    module, function = project.functions[fid]
    handler = project.handler_index.get(fid)
    self_shared = handler is not None and shared_updates.shared_self(project, handler)
    pairs = shared_updates.shared_check_then_acts(project, fid, self_shared, asynchronous=True)
    updates = [u for u in shared_updates.own_updates(project, fid, self_shared) if u.kind in ("global", "free", "self")]
    if not pairs and not updates:
        return []
    awaits = new_awaits(project, fid, awaited_callee)
    before = [line for line, _ in function.awaits] if function.is_async else []
    found = []
    for pair in pairs:
        between = [(line, text) for line, text in awaits if pair.read_line <= line <= pair.write_line]
        # awaiting already in between: the race was there before phase two
        if not between or any(pair.read_line <= line <= pair.write_line for line in before):
            continue
        line, text = between[0]
        found.append((
            pair.read_line,
            f"checks `{pair.path}` (`{pair.read}` at line {pair.read_line}) and then changes it (`{pair.write}` at "
            f"line {pair.write_line}), state every request shares; phase two would await `{text}` at line {line} "
            "in between, where other requests run on the event loop: two could both pass the check before either "
            "changes it (a duplicate, a lost update)",
        ))
    for update in updates:
        within = [(line, text) for line, text in awaits if line == update.line]
        if not within or update.line in before:
            continue
        line, text = within[0]
        found.append((
            update.line,
            f"updates `{update.subject}` from its own value at line {update.line}, state every request shares, and "
            f"phase two would await `{text}` in that statement, between the read and the store: other requests "
            "run on the event loop meanwhile and one could overwrite another's update",
        ))
    return found
