"""Rows an `async def` route loads and writes back (or claims) before its commit with no await in between (AM287).

On the event loop such a route ran from the load to the commit with no other request of its
worker in between; phase two awaits its Session calls (`book = await db.get(Book, bid)`,
`await db.commit()`), and other requests run at those awaits: a lost update (`book.stock +=
qty`, AM169's shape) or a row claimed twice (AM170's). What counts as a loaded row, an update and
a claim is `phase1.lost_updates`; this reads where the route's own awaits stood. A note, not a
blocker: the route migrates all the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods.phase1.lost_updates import (
    LostUpdate,
    claim_fixes,
    claim_lead,
    lead,
    lost_updates,
    update_fixes,
)

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.project import FunctionId, Project


def awaits_added(project: Project, fid: FunctionId) -> list[LostUpdate]:
    """The updates and claims of loaded rows (`lost_updates`) of an `async def` on the synchronous
    Session with no await from the load to the commit: on the event loop each request ran that
    alone, and phase two's awaits on its Session calls let others in (AM287). Where an await
    stood in between already, the race predates phase two: none. The window runs from the load
    (the call of the helper making the update; the function's start for a load a helper returns)
    to the first commit or flush the function calls after it (the helper's call where a helper on
    the way commits), or to its end where it calls none."""
    function = project.functions[fid][1]
    if not function.is_async:
        return []
    commits = sorted(_commits(function))
    found = []
    for update in lost_updates(project, fid):
        start = update.call_line if update.helpers else update.start
        after = start if update.helpers else (update.at or update.line)
        end = next((line for line in commits if line >= after), None)
        if update.helpers and any(_commits(project.functions[h][1]) for h in update.helpers):
            end = start  # the helper commits what it wrote before returning
        if any(line >= start and (end is None or line <= end) for line, _ in function.awaits):
            continue
        found.append(update)
    return found


def phase2_text(project: Project, update: LostUpdate) -> str:
    """The note a migrated `async def` route gets for what `awaits_added` finds (AM287)."""
    load = update.load
    interleave = (
        "with no await from the load to the commit, so on the event loop no other request ran in between; "
        f"phase two awaits its Session calls (the load, `await {load.session}.commit()`), and other requests "
        "run at those awaits: "
    )
    if update.claim:
        return (
            f"{claim_lead(project, update)}, {interleave}two can load the same row and both claim it: "
            f"{claim_fixes(update)}"
        )
    return (
        f"{lead(project, update)}loads `{update.name}` (a {load.entity.rsplit('.', 1)[-1]}, {update.load_path}:{load.line}) "
        f"and writes `{update.name}.{update.attribute}` back from its own value at {update.path}:{update.line}, "
        f"{interleave}two can read the same value and one update is lost: {update_fixes(project, update, awaited=True)}"
    )


def _commits(function: facts.Function) -> list[int]:
    """The lines of the function's own `commit()`/`flush()` calls, outside nested functions."""
    return [call.line for call in function.calls if call.method in ("commit", "flush") and not call.nested]
