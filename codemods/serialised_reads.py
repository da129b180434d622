"""The members of what an `async def` route returns that FastAPI runs while serialising the
response, on the event loop, and that do synchronous Session work: a property of the returned
ORM object a response model field is named after (`AccountOut.entry_count` reading
`Account.entry_count`, which queries through `object_session(self)`), or a computed field of a
returned pydantic model. Phase one's AM285, and the blocking lines `check` reports (AM301).
"""

from __future__ import annotations

from async_migrate.codemods.flow import INSTANCE
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary import PROPERTY_DECORATORS

# The decorator making a pydantic model's property a serialised field.
COMPUTED_FIELD = "pydantic.computed_field"


def serialised_work(project: Project, fid: FunctionId) -> list[tuple[int, str, list[str]]]:
    """The members of what an `async def` route returns that its response model reads while FastAPI
    serialises the result, on the event loop, and that do synchronous Session work (a property
    querying through `object_session(self)`): (the response model's line, `Model.field`, chain).

    Read only where the flow gives the returned value a project class (a parameter annotated with
    it, an object the route builds); the fields of the response model itself, not nested ones."""
    from async_migrate.codemods.async_response_reads import _read_names, _response_models

    _, function = project.functions[fid]
    if not function.is_async or not function.returned:
        return []
    handler = project.handlers_by_id.get(fid)
    if handler is None or handler.kind != "route":
        return []
    models, line = _response_models(project, handler)
    flow = project.flow
    classes = flow.classes
    owners = {
        value.target for expression in function.returned for value in flow.evaluate(fid, expression)
        if value.kind == INSTANCE and isinstance(value.target, str)
    }
    # (what the response reads, the member it runs)
    reads: list[tuple[str, FunctionId]] = []
    for owner in sorted(owners):
        for model in models:
            for name in _read_names(classes, model):
                methods, _ = classes.method(owner, name)
                reads.extend((f"{classes.short(model)}.{name}", m) for m in methods if _is_property(project, m))
        # a pydantic model the route builds: serialising it runs its computed fields
        for ancestor in classes.mro(owner) if owner in classes.by_ref else ():
            for name, method in classes.methods.get(ancestor, {}).items():
                if any(project.canonical(d.callee or "") == COMPUTED_FIELD for d in project.functions[method][1].decorators):
                    reads.append((f"{classes.short(owner)}.{name}", method))
    found: list[tuple[int, str, list[str]]] = []
    for read, method in dict.fromkeys(reads):
        chain = project.work_chains.get(method)
        if chain is not None:
            member = project.functions[method][1].qualname
            found.append((line, read, [f"{read} reads {member}" if member != read else read, *chain]))
    return found


def _is_property(project: Project, fid: FunctionId) -> bool:
    return any(
        project.canonical(d.callee or "") in PROPERTY_DECORATORS or (d.callee or "").rpartition(".")[2] == "cached_property"
        for d in project.functions[fid][1].decorators
    )
