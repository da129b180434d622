"""The members of what a route returns, and the schema code of its response model, that FastAPI
runs while it validates and serialises the response, and that do synchronous Session work.

FastAPI validates the result into the response model (`response_model=`, else the return
annotation) on the event loop for an `async def` route and in the threadpool for a `def` one,
then serialises the validated value on the event loop for both (`field.serialize`; without a
response model, `jsonable_encoder` dumps a returned pydantic model there too). So:

* validation, on the loop for an `async def` route (`serialised_work`: phase one's AM285, the
  blocking lines `check` reports, AM301): a property of the returned ORM object a response model
  field is named after (`AccountOut.entry_count` reading `Account.entry_count`, which queries
  through `object_session(self)`), the validators of the response model and of the models nested
  in its fields; and the serialisation code below, which a `def` route still runs there;
* serialisation, on the loop whatever the route is (`loop_serialisers`: check's AM334 on a `def`
  route): the computed fields, `field_serializer`s and `model_serializer`s of the response model,
  of a pydantic model the route returns, and of the models nested in their fields (a computed
  field reading the request's Session out of a `ContextVar`).

A route whose every return is a Response it builds serialises nothing into its model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods.flow import INSTANCE
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary import PROPERTY_DECORATORS
from async_migrate.codemods.vocabulary.pydantic import SERIALISER_DECORATORS, VALIDATOR_DECORATORS
from async_migrate.codemods.vocabulary.starlette import RESPONSE_CLASSES

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.classes import Classes

# Models nested deeper than this in a response model's fields are not read (real ones are shallow).
_MAX_DEPTH = 6


def serialised_work(project: Project, fid: FunctionId) -> list[tuple[int, str, list[str]]]:
    """The members of what an `async def` route returns that its response model reads while FastAPI
    validates and serialises the result, on the event loop, and that do synchronous Session work
    (a property querying through `object_session(self)`, a validator or computed field of the
    response model): (the response model's line, `Model.member`, chain).

    A property is read only where the flow gives the returned value a project class (a parameter
    annotated with it, an object the route builds), for the fields of the response model itself."""
    _, function = project.functions[fid]
    if not function.is_async:
        return []
    found = _serialised(project, fid, validated=True)
    if found is None:
        return []
    reads, line = found
    owners = sorted(_owners(project, fid))
    models = _models(project, fid) if owners else []
    for owner in owners:
        for model in models:
            reads.extend(_property_reads(project, owner, model))
    return _with_work(project, reads, line)


def _property_reads(project: Project, owner: str, model: str) -> tuple[tuple[str, FunctionId], ...]:
    """(`Model.member`, property) for each field of the response model `model` that a property of
    `owner` computes; kept per project (routes returning one class through one model are many)."""
    from async_migrate.codemods.async_response_reads import _read_names

    known: dict[tuple[str, str], tuple[tuple[str, FunctionId], ...]] = project.derived.setdefault(  # type: ignore[assignment]
        "serialised_property_reads", {}
    )
    found = known.get((owner, model))
    if found is None:
        classes = project.flow.classes
        reads: list[tuple[str, FunctionId]] = []
        for name in _read_names(classes, model):
            methods, _ = classes.method(owner, name)
            reads.extend((f"{classes.short(model)}.{name}", m) for m in methods if _is_property(project, m))
        found = known[(owner, model)] = tuple(reads)
    return found


def serialised_unverified(project: Project, fid: FunctionId) -> list[tuple[int, str, list[str]]]:
    """The schema code of `serialised_work` that may do synchronous Session work the analysis
    cannot see (a computed field calling a method on what a `ContextVar` set nowhere in the
    project holds), and does none it sees: unverified, never no work."""
    if not project.functions[fid][1].is_async:
        return []
    found = _serialised(project, fid, validated=True)
    return _with_work(project, *found, unverified=True) if found is not None else []


def loop_serialisers(project: Project, fid: FunctionId, unverified: bool = False) -> list[tuple[int, str, list[str]]]:
    """The schema code FastAPI runs on the event loop while it serialises what a route returns,
    `def` or `async def`, and that does synchronous Session work: the computed fields and
    serialisers of the response model, of a pydantic model the route returns, and of the models
    nested in their fields: (the response model's line, `Model.member`, chain). With
    `unverified`: those that may do work the analysis cannot see instead."""
    found = _serialised(project, fid, validated=False)
    return _with_work(project, *found, unverified=unverified) if found is not None else []


def _serialised(project: Project, fid: FunctionId, validated: bool) -> tuple[list[tuple[str, FunctionId]], int] | None:
    """The schema code run on the route's result (with the validators of its response models when
    `validated`), and the line naming the response model; None for no route, or one returning only
    Responses it builds. Read once per route and kind (`check` asks for the work it does, then for
    what it may do unseen); the list is the caller's own."""
    known: dict[tuple[FunctionId, bool], tuple[tuple[tuple[str, FunctionId], ...], int] | None] = (
        project.derived.setdefault("serialised_reads", {})  # type: ignore[assignment]
    )
    key = (fid, validated)
    if key not in known:
        found = _read_serialised(project, fid, validated)
        known[key] = (tuple(found[0]), found[1]) if found is not None else None
    kept = known[key]
    return (list(kept[0]), kept[1]) if kept is not None else None


def _read_serialised(
    project: Project, fid: FunctionId, validated: bool
) -> tuple[list[tuple[str, FunctionId]], int] | None:
    _, function = project.functions[fid]
    handler = project.handlers_by_id.get(fid)
    if handler is None or handler.kind != "route":
        return None
    if function.results and all(response_object(project, function, term) for term in function.results):
        return None  # `return StreamingResponse(rows)`: FastAPI sends a Response as it is
    _, line = handler.response_refs()
    decorators = SERIALISER_DECORATORS | VALIDATOR_DECORATORS if validated else SERIALISER_DECORATORS
    reads = list(_schema_code(project, tuple(_models(project, fid)), decorators))
    # a pydantic model the route builds and returns: dumping it runs its serialisation code
    reads.extend(_schema_code(project, tuple(sorted(_owners(project, fid))), SERIALISER_DECORATORS))
    return reads, line


def _models(project: Project, fid: FunctionId) -> list[str]:
    from async_migrate.codemods.async_response_reads import _response_models

    return _response_models(project, project.handlers_by_id[fid])[0]


def _owners(project: Project, fid: FunctionId) -> set[str]:
    """The project classes the flow gives what the route returns."""
    flow = project.flow
    return {
        value.target for expression in project.functions[fid][1].returned for value in flow.evaluate(fid, expression)
        if value.kind == INSTANCE and isinstance(value.target, str)
    }


def _schema_code(project: Project, refs: tuple[str, ...], decorators: frozenset[str]) -> list[tuple[str, FunctionId]]:
    """(`Model.member`, method) of the methods `decorators` mark on the models `refs` name and on
    those nested in their fields, each once; read once per project for the same refs."""
    known: dict[tuple, list[tuple[str, FunctionId]]] = project.derived.setdefault("serialised_code", {})  # type: ignore[assignment]
    key = (refs, decorators)
    if key not in known:
        found: list[tuple[str, FunctionId]] = []
        _walk(project, project.flow.classes, refs, decorators, set(), 0, found)
        known[key] = found
    return known[key]


def _walk(
    project: Project, classes: Classes, refs: tuple[str, ...], decorators: frozenset[str], seen: set[str], depth: int,
    found: list[tuple[str, FunctionId]],
) -> None:
    for ref in refs:
        model = classes.resolve(ref)
        if model is None or model in seen or depth >= _MAX_DEPTH:
            continue
        seen.add(model)
        for ancestor in classes.mro(model):
            for name, method in classes.methods.get(ancestor, {}).items():
                if any((project.canonical(d.callee or "") or "") in decorators for d in project.functions[method][1].decorators):
                    if (f"{classes.short(model)}.{name}", method) not in found:
                        found.append((f"{classes.short(model)}.{name}", method))
        for _, annotation in classes.fields(model):
            _walk(project, classes, annotation, decorators, seen, depth + 1, found)


def _with_work(
    project: Project, reads: list[tuple[str, FunctionId]], line: int, unverified: bool = False
) -> list[tuple[int, str, list[str]]]:
    """Each read whose member does synchronous Session work, with its chain; with `unverified`,
    each whose member may do work the analysis cannot see and does none it sees."""
    found: list[tuple[int, str, list[str]]] = []
    for read, method in dict.fromkeys(reads):
        chain = project.work_chains.get(method)
        if unverified:
            chain = project.unverified_chains.get(method) if chain is None else None
        if chain is not None:
            member = project.functions[method][1].qualname
            found.append((line, read, [f"{read} reads {member}" if member != read else read, *chain]))
    return found


def response_object(project: Project, function: facts.Function, term: tuple, depth: int = 0) -> bool:
    """Whether a returned term is a Response built in the function (`StreamingResponse(rows)`,
    a project subclass of one), itself or through a local name bound only to such calls."""
    classes = project.flow.classes
    if term[:1] == ("call",) and len(term) == 2:
        call = next((c for c in function.calls if c.index == term[1]), None)
        if call is None or call.callee is None:
            return False
        if project.canonical(call.callee) in RESPONSE_CLASSES:
            return True
        constructed = classes.built_by(call.callee)
        return constructed is not None and any(
            project.canonical(base) in RESPONSE_CLASSES
            for cls in classes.mro(constructed) for base in classes.by_ref[cls][1].bases
        )
    if term[:1] == ("name",) and len(term) == 2 and depth < 3:
        held = function.holds.get(term[1], ())
        return bool(held) and all(response_object(project, function, t, depth + 1) for t in held)
    return False


def _is_property(project: Project, fid: FunctionId) -> bool:
    return any(
        project.canonical(d.callee or "") in PROPERTY_DECORATORS or (d.callee or "").rpartition(".")[2] == "cached_property"
        for d in project.functions[fid][1].decorators
    )
