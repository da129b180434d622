"""Synchronous Session work in the validation FastAPI runs on a request's parameters.

FastAPI validates a request's parameters (the body, query, path, header and cookie values,
into the pydantic models and types a route or dependency declares) in `solve_dependencies`,
on the event loop, before it calls the route: for a `def` route as for an `async def` one.
A validator that queries the database (`@field_validator("author_id")` opening a Session to
see that the author exists, `Annotated[int, AfterValidator(author_exists)]`) therefore blocks
the loop on every request, and converting the route to `def` does not move it to the
threadpool. Read: the parameters without `Depends()` of a route, websocket or dependency,
the project models they declare and those nested in their fields (`items: list[Item]`), the
pydantic validators of those models' class order (`field_validator`, `model_validator`,
pydantic 1's `validator` and `root_validator`) and the functions `Annotated` metadata hands
to pydantic's functional validators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.session_work import own_blocking, session_work_view
from async_migrate.codemods.vocabulary.pydantic import VALIDATOR_DECORATORS, VALIDATOR_MARKERS

if TYPE_CHECKING:
    from async_migrate.codemods.classes import Classes
    from async_migrate.codemods.project import FunctionId, Handler, Project

# Models nested deeper than this in a parameter's fields are not read (real ones are shallow).
_MAX_DEPTH = 6


@dataclass(frozen=True, slots=True)
class BlockingValidator:
    param: str  # the handler's parameter FastAPI validates
    path: str  # how the validator is reached: `book`, `order.items`
    validator: FunctionId
    qualname: str  # the validator as its module names it: `BookIn.author_exists`
    blocking: tuple[Blocking, ...]  # its Session work, at lines of its own module
    module: str  # the validator's file


def blocking_validators(project: Project, handler: Handler) -> list[BlockingValidator]:
    """The validators FastAPI runs on the event loop for `handler`'s parameters that do
    synchronous Session work, each once, in parameter order; [] for none."""
    classes = project_classes(project)
    # Thousands of handlers declare the same few types: each annotation is read once per project,
    # its validators' paths kept relative to the parameter.
    known: dict[tuple[str, ...], list[tuple[FunctionId, str, tuple[Blocking, ...]]]] = project.derived.setdefault(  # type: ignore[assignment]
        "request_validators", {}
    )
    found: dict[FunctionId, BlockingValidator] = {}
    for param in handler.function.params:
        if param.depends or param.opaque_depends or param.provide or param.variadic or param.name in ("self", "cls"):
            continue
        blocking_here = known.get(param.annotation)
        if blocking_here is None:
            blocking_here = known[param.annotation] = [
                (fid, path, blocking) for fid, path in _validators(project, classes, param.annotation, "", set(), 0)
                if (blocking := _blocking(project, fid))
            ]
        for fid, path, blocking in blocking_here:
            if fid not in found:
                module, function = project.functions[fid]
                found[fid] = BlockingValidator(
                    param.name, param.name + path, fid, function.qualname, blocking, module.path
                )
    return list(found.values())


def _validators(
    project: Project, classes: Classes, annotation: tuple[str, ...], path: str, seen: set[str], depth: int
) -> list[tuple[FunctionId, str]]:
    """(validator, the path to it) run when a value is validated into `annotation`."""
    found: list[tuple[FunctionId, str]] = []
    marked = any((project.canonical(ref) or ref) in VALIDATOR_MARKERS for ref in annotation)
    for ref in annotation:
        alias = project.resolve(ref)
        if alias is not None and alias.kind == "value" and alias.value is not None and (
            alias.value.kind == "annotated" and ref not in seen
        ):
            # `AuthorId = Annotated[int, AfterValidator(author_exists)]` at module level
            seen.add(ref)
            found.extend(_validators(project, classes, alias.value.annotation, path, seen, depth + 1))
            continue
        if marked:
            # `Annotated[int, AfterValidator(author_exists)]`: the function handed to the marker
            function = project.function(ref)
            if function is not None:
                found.append(((function[0].name, function[1].key), path))
                continue
        model = classes.resolve(ref)
        if model is None or model in seen or depth >= _MAX_DEPTH:
            continue
        seen.add(model)
        for ancestor in classes.mro(model):
            for fid in classes.methods.get(ancestor, {}).values():
                decorators = project.functions[fid][1].decorators
                if any((project.canonical(d.callee) or "") in VALIDATOR_DECORATORS for d in decorators):
                    found.append((fid, path))
        for name, field_annotation in classes.fields(model):
            found.extend(_validators(project, classes, field_annotation, f"{path}.{name}", seen, depth + 1))
    return found


def _blocking(project: Project, fid: FunctionId) -> tuple[Blocking, ...]:
    """The synchronous Session work `fid` does itself or through the helpers it calls."""
    work = session_work_view(project, fid)
    if not work.any:
        return ()
    # copies: the records of `session_work_view` are the project's, and stay unchanged
    found = [Blocking(b.line, b.call) for b in own_blocking(project, fid, work)]
    unique = {(b.line, b.call): b for b in found}
    return tuple(sorted(unique.values(), key=lambda b: (b.line, b.call)))
