"""Objects a method reads after committing the Session its instance holds (`self.db.commit()`).

`expired_reads` follows Sessions a function names (`db.commit()`); a method of a class holding
the Session (`codemods/phase2/holders.py`) commits through an attribute instead. What that commit
expires on the async stack, or what the synchronous stack reloaded and the async one does not,
is handled the same way: an object loaded by the Session, read after the commit, gets
`await self.db.refresh(obj)`; anything else read there blocks the method's routes.
"""

from __future__ import annotations

import ast

from async_migrate.codemods import facts
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.held_session import type_var
from async_migrate.codemods.phase2 import expired_helpers, expired_lists, holders, no_object, rolled_back
from async_migrate.codemods.phase2 import expired_reads as reads
from async_migrate.codemods.phase2.bound import raised_after
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.rules.am248_expired_after_commit import RULE as AM248
from async_migrate.codemods.rules.am259_stale_after_commit import RULE as AM259


def held_sessions(project: Project, fid: FunctionId) -> list[str]:
    """`self.db` for a method of a class holding the Session in `db` (as written in the method)."""
    holder = holders.holder_of(project, fid)
    _, function = project.functions[fid]
    if holder is None or not function.params:
        return []
    instance = function.params[0].name
    return [f"{instance}.{attribute}" for attribute in holder.attributes]


def analyse(project: Project, fid: FunctionId, expiry: reads.Expiry, result: reads.Analysis) -> None:
    """Add to `result` the refreshes and blocks of reads after a commit through a held Session."""
    held = held_sessions(project, fid)
    if not held:
        return
    module, function = project.functions[fid]
    node = expired_lists.function_node(expiry.models.tree(module.path), function) if expiry.models else None
    bindings: dict[str, list[facts.Binding]] = {}
    for binding in function.bindings:
        bindings.setdefault(binding.name, []).append(binding)
    params = {p.name: p for p in function.params[1:]}
    done: set[str] = set()
    for call in function.calls:
        session, method = _through(call, held)
        if session is None or call.nested:
            continue
        expiring = method in reads._EXPIRES
        if not (expiring or (expiry.on_commit or expiry.reloaded) and method == "commit"):
            continue
        for name in sorted(set(bindings) | set(params)):
            if name in done:
                continue
            before = [b for b in bindings.get(name, []) if b.line < call.line]
            if name not in params and not before:
                continue  # bound after the commit: loaded fresh
            kind = _held(
                project, fid, expiry.models, before[-1] if before else None, params.get(name), held, call.line, node
            )
            if kind is None:
                continue
            read = reads.read_after(function, name, call.line, session)
            if read is None or _gone(function, name, call.line, session):
                continue
            raised = raised_after(node, call.line) if expiring and node is not None else None
            if raised is not None and not call.line <= read[0] <= raised:
                continue  # `self.db.rollback()` then `raise ...`: the reads after it never run
            if method == "rollback" and _built(before, held) and rolled_back.pending(
                function, node, name, before[-1], call.line, held
            ):
                continue  # `Model(...)` the rollback expunged: a refresh there would raise
            done.add(name)
            if kind in ("one", "maybe") and call.statement:
                result.refreshes.append(reads.Refresh(call.index, session, name, kind == "maybe"))
                continue
            rule, what = (AM259, "returns stale data") if not expiry.on_commit else (AM248, "raises MissingGreenlet")
            result.blocks.append(reads.ExpiredRead(rule, read[0], (
                f"{read[1]} after `{session}.{method}()` (line {call.line}), which expires it on one stack and "
                f"not the other: the read {what} under AsyncSession; `{name}` may be an object the Session "
                f"loaded, which phase two cannot refresh there; fix: add `{session}.refresh({name})` "
                "after it (phase two then awaits it)"
            )))


def _built(before: list[facts.Binding], held: list[str]) -> bool:
    """Whether the name was last bound to what no Session loaded: not `self.db.get(...)`, nor
    another method of the holder (`self._get(...)`), which may return the Session's objects."""
    instance = held[0].split(".", 1)[0]
    return bool(before) and not before[-1].expr.startswith(f"${instance}.")


def _through(call: facts.Call, held: list[str]) -> tuple[str | None, str]:
    func = call.func or ""
    for session in held:
        receiver, _, method = func[1:].rpartition(".")
        if func.startswith("$") and receiver == session and (method in ("commit", "flush") or method in reads._EXPIRES):
            return session, method
    return None, ""


def _held(
    project: Project,
    fid: FunctionId,
    models: reads.Models | None,
    binding: facts.Binding | None,
    param: facts.Param | None,
    held: list[str],
    line: int,
    node: ast.FunctionDef | ast.AsyncFunctionDef | None,
) -> str | None:
    """"one", "maybe" (one object, or None), "unknown" (perhaps objects), or None (no object)."""
    function = project.functions[fid][1]
    name = binding.name if binding is not None else param.name if param is not None else ""
    taken = reads.added_before(function, name, binding, line, held, node) if name else ""
    if taken:
        # `self.db.add(obj)` on every path between the binding (or the start) and the commit:
        # whatever class built it (`self.model(**data)`, an untyped parameter), the Session took
        # it, so the commit persisted and expired it, and a refresh there reloads it; only on
        # some (`try: self.db.add(obj)`), a refresh there may find it outside the Session
        return "one" if taken == "every" else "unknown"
    if binding is None:
        if param is None or _scalar(param) or _unmapped(project, param):
            return None
        # `def save(self, obj: M) -> M: self.db.add(obj); self.db.commit(); return obj`, with `M`
        # a mapped class (or a TypeVar bound to one): one object in the Session, refreshed
        declared = _declared_model(project, param)
        added = declared is not None and any(
            (c.func or "").rpartition(".")[0][1:] in held and (c.func or "").endswith(".add")
            and c.args and c.args[0].name == param.name and c.line < line
            for c in function.calls
        )
        return declared if added else "unknown"
    expression = binding.expr
    head = expression.split("(", 1)[0]
    if any(expression.startswith(f"${session}.") for session in held):
        found = reads.session_call_result(expression)  # as for a Session a function names
        return {reads.Held.NONE: None, reads.Held.ONE: "one", reads.Held.MAYBE: "maybe"}.get(found, "unknown")
    instance = held[0].split(".", 1)[0]
    if expression.startswith(f"${instance}.") and "(" in expression:
        # what another method of the holder returns: perhaps its Session's objects, unless each
        # implementation is shown to return none (`self.count()` of a count query)
        call = expired_helpers.bound_call(function, binding)
        return None if call is not None and models is not None and no_object.call_returns_no_object(
            project, models, fid, call
        ) else "unknown"
    if not expression.startswith("$") and expression.endswith("()"):
        classes = project_classes(project)
        cls = classes.resolve(head)
        if cls is not None and classes.is_mapped(cls):
            # Built here: in the Session (and expired by its commit) only once added before it.
            added = any(
                (c.func or "").rpartition(".")[0][1:] in held and (c.func or "").endswith((".add", ".merge"))
                and c.args and c.args[0].name == binding.name and c.line < line
                for c in function.calls
            )
            return "one" if added else None
    return None


def _declared_model(project: Project, param: facts.Param) -> str | None:
    """"one" for a parameter annotated with a mapped class (or a TypeVar bound to one, or to a
    base of mapped classes), "maybe" for one that may be None besides; else None."""
    text = param.text.replace(" ", "")
    refs = [ref for ref in param.annotation if project.canonical(ref) != "typing.Optional"]
    optional = len(refs) < len(param.annotation) or "None" in text.split("|")
    if len(refs) != 1 or ("[" in text and not text.startswith(("Optional[", "typing.Optional["))):
        return None
    ref: str | None = refs[0]
    variable = type_var(project, ref)
    if variable is not None:
        ref = next((arg.ref for arg in variable.args if arg.keyword == "bound"), None)
    classes = project_classes(project)
    found = classes.resolve(ref) if ref is not None else None
    if found is None or not (classes.is_mapped(found) or any(classes.is_mapped(s) for s in classes.subclasses(found))):
        return None
    return "maybe" if optional else "one"


def _unmapped(project: Project, param: facts.Param) -> bool:
    """A parameter annotated with project classes none of which is mapped or has a mapped subclass
    (`data: ItemUpdate`, a pydantic model): no ORM object, which a refresh would reject."""
    classes = project_classes(project)
    refs = [ref for ref in param.annotation if ref != "None" and project.canonical(ref) != "typing.Optional"]
    found = [classes.resolve(ref) for ref in refs]
    return bool(found) and all(
        cls is not None and not classes.is_mapped(cls) and not any(classes.is_mapped(s) for s in classes.subclasses(cls))
        for cls in found
    )


def _scalar(param: facts.Param) -> bool:
    return bool(param.annotation) and all(ref.rsplit(".", 1)[-1] in ("int", "str", "float", "bool", "bytes") for ref in param.annotation)


def _gone(function: facts.Function, name: str, line: int, session: str) -> bool:
    """Refreshed after the commit already, or deleted/expunged before it (a refresh would fail)."""
    for call in function.calls:
        method = (call.func or "").rpartition(".")[2]
        if not (call.func or "").startswith(f"${session}.") or not call.args or call.args[0].name != name:
            continue
        if method == "refresh" and call.line > line or method in ("delete", "expunge") and call.line <= line:
            return True
    return False
