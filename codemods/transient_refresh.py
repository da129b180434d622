"""A refresh of an object a rollback just expunged: `check`'s AM340.

`db.add(item)`, then `try: await db.commit()` `except IntegrityError: await db.rollback(); await
db.refresh(item)`: the rollback expunges what the transaction it ends took, so the object is
transient again and the refresh raises InvalidRequestError ('not persistent within this
Session'), a 500 where the handler meant an answer of its own (a 409). Read from the facts: which
calls an `except` clause makes, and the `try` body it covers (`Function.caught_calls`).
"""

from __future__ import annotations

from collections.abc import Mapping

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import Project


def transient_refreshes(project: Project, function: facts.Function, sessions: Mapping[str, str]) -> list[Blocking]:
    """Each `refresh(obj)` of an AsyncSession the handler holds (`sessions`: as the facts spell it
    -> as written, `db` or `$self.db` -> `self.db`) after that Session's rollback in an `except`
    clause, with no Session call between, where `obj` holds an instance of a mapped class the
    function builds (`Item(...)`) and adds to that Session with no commit between the add and the
    rollback but the one ending the `try` body the clause covers (the commit that raised)."""
    caught = {line: (start, end, clause) for line, start, end, clause in function.caught_calls}
    own = [(call, _on(call, sessions)) for call in function.calls if not call.nested]
    found: list[Blocking] = []
    for refresh, (session, method) in own:
        name = refresh.args[0].name if refresh.args else None
        if method != "refresh" or not refresh.awaited or name is None:
            continue
        rollbacks = [
            call for call, on in own
            if on == (session, "rollback") and call.line < refresh.line and call.line in caught
            and refresh.line <= caught[call.line][2]
        ]
        if not rollbacks:
            continue
        rollback = rollbacks[-1]
        if any(on[0] == session and rollback.line < call.line < refresh.line for call, on in own):
            continue  # another call on the Session between: not judged
        start, end, _ = caught[rollback.line]
        binding = _built(project, function, name, rollback.line)
        if binding is None:
            continue
        added = [
            call for call, on in own
            if on == (session, "add") and call.args and call.args[0].name == name
            and binding.line < call.line < rollback.line
        ]
        if not added or any(
            on == (session, "commit") and added[0].line < call.line < rollback.line and not start <= call.line <= end
            for call, on in own
        ):
            continue  # not the Session's, or a commit completed before the rollback: persistent
        spelled = sessions[session]
        found.append(Blocking(refresh.line, (
            f"await {spelled}.refresh({name}) after the {spelled}.rollback() at line {rollback.line}, which expunged "
            f"`{name}` (added at line {added[0].line}, no commit completed since)"
        )))
    return found


def _on(call: facts.Call, sessions: Mapping[str, str]) -> tuple[str, str]:
    """(the Session as the facts spell it, the method) for a call on one of `sessions`, else ("", "")."""
    if call.receiver is not None and call.receiver in sessions and call.method:
        return call.receiver, call.method
    receiver, _, method = (call.func or "").rpartition(".")
    return (receiver, method) if receiver in sessions else ("", "")


def _built(project: Project, function: facts.Function, name: str, line: int) -> facts.Binding | None:
    """The last binding of `name` before `line`, when it builds an instance of a mapped class."""
    before = [b for b in function.bindings if b.name == name and b.line < line]
    if not before or before[-1].expr.startswith("$") or not before[-1].expr.endswith("()"):
        return None
    classes = project_classes(project)
    cls = classes.resolve(before[-1].expr.split("(", 1)[0])
    return before[-1] if cls is not None and classes.is_mapped(cls) else None
