"""Methods of what a project function returns under a return annotation the analysis cannot read.

    def make_repo(db) -> NoteRepo:      # `NoteRepo` from a project module outside PATH, missing,
        return build_repo(db)           # or unparsable; or `-> "NoteRepo"` naming nothing it resolves

    repo = make_repo(db)
    repo.save(note)                     # in an `async def` route

Nothing types `repo`: the value flow reads neither the annotation's class nor the body's result,
so `repo.save()` names no function and would count as no work. Its methods may do synchronous
Session work: `unread_result` words the call as unverified (AM304, phase one's AM125) instead.
Where the flow does type the value (the body returns a project class it reads), the call graph
follows the methods and this says nothing.
"""

from __future__ import annotations

import builtins

from async_migrate.codemods import facts
from async_migrate.codemods.flow import split
from async_migrate.codemods.project import FunctionId, Project


def unread_result(project: Project, fid: FunctionId, function: facts.Function, expression: str) -> str | None:
    """Why `$repo.save` (on a local every binding of which is a call of one project function) or
    `make_repo().save` is unverified, the function's return annotation naming a type the analysis
    cannot read; None otherwise."""
    receiver, dot, method = expression.rpartition(".")
    if not dot or project.flow.evaluate(fid, receiver):
        return None
    head, steps = split(receiver)
    if head.startswith("$"):
        if steps:
            return None
        bound = [b for b in function.bindings if b.name == head[1:]]
        if not bound or any(p.name == head[1:] for p in function.params):
            return None
        made = {b.expr for b in bound if not b.entered and not b.asynchronous}
        if len(made) != 1 or len(bound) != len([b for b in bound if b.expr in made]):
            return None
        factory, line = next(iter(made)), bound[0].line
    elif steps == ("()",):
        factory, line = f"{head}()", 0
    else:
        return None
    if not factory.endswith("()") or "(" in factory[:-2] or factory.startswith("$"):
        return None
    target = project.function(factory[:-2])
    if target is None or target[1].returns_no_object:
        return None
    why = next((w for ref in target[1].returns if (w := _unread(project, ref)) is not None), None)
    if why is None:
        return None
    where = f" (line {line})" if line else ""
    return (
        f"`{project.written(receiver)}.{method}()` runs on what `{project.written(factory)}` returns{where}, "
        f"annotated `{why[0]}`, {why[1]}: it may do synchronous Session work"
    )


def _unread(project: Project, ref: str) -> tuple[str, str] | None:
    """The annotation's type as written and why it cannot be read, or None when it can (or names a builtin)."""
    from async_migrate.codemods.classes import project_classes

    if "." not in ref:
        found = project.resolve(ref)  # a bare name no module defines resolves as external to itself
        if hasattr(builtins, ref) or found is not None and found.kind != "external":
            return None
        return ref, "a name the analysis cannot resolve"
    module = project._unseen(ref)
    if module is not None:
        return ref.rpartition(".")[2], f"a type from `{module}`, {project._unseen_what(module)}"
    if project_classes(project).unread(ref):
        return ref.rpartition(".")[2], f"a type from `{ref.rpartition('.')[0]}`, a project module the tool did not read"
    return None
