"""Relationships a response model reads on what an `async def` route on an AsyncSession returns
(check's AM314).

    @router.get("/items/{item_id}", response_model=ItemOut)   # ItemOut: owner: OwnerOut, tags: list[TagOut]
    async def get_item(item_id: int, db: AsyncSession = Depends(get_async_db)):
        return await db.get(Item, item_id)

FastAPI validates the returned object into `ItemOut` on the event loop, reading `item.owner` and
`item.tags` by the fields' names; neither is loaded, so the first read is the lazy load, outside
any greenlet, and raises MissingGreenlet. Judged only where the flow traces every returned value
to a query on the route's AsyncSession (`await db.get(...)`, `(await db.scalars(stmt)).all()`, a
local bound to one): each field naming a relationship of every class those queries give, that
their options (or a refresh or `awaitable_attrs` read of the very object returned) do not load; a nested model's
fields along the relationship path they are read on (`ItemOut.owner.teams` loads only by
`selectinload(Item.owner).selectinload(Owner.teams)`). A value the flow cannot trace (a dict, a
model built in code, a query of columns) is not judged here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.classes import Classes
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import Handler, Project

if TYPE_CHECKING:
    from async_migrate.codemods.check import _Credit


def response_lazy_loads(project: Project, handler: Handler, sessions: set[str]) -> list[Blocking]:
    """The response model's fields that lazy-load on the returned objects, nested ones along the
    relationship path they are read on (`BookOut.author.books`): one Blocking per field, at the
    line declaring the response model (the route's own line otherwise)."""
    from async_migrate.codemods.check import _Credit, _union

    function = handler.function
    if not sessions or not function.results or handler.kind != "route":
        return []
    models, line = _response_models(project, handler)
    if not models:
        return []
    origins = _union(project, handler.id, function.results, sessions, (), 0)
    if origins is None:
        return []
    walk = _Walk(project, handler, origins, _Credit(project, handler.id), line)
    owners = {load.model for load in origins}
    if None in owners:
        return []
    for model in models:
        walk.model(model, (model,), [], {owner for owner in owners if owner is not None})
    return walk.found


class _Walk:
    """The fields of a response model read on objects of `owners`, below the queried objects
    along `path`: each relationship one loads lazily (unless the queries load it along the path,
    or the route refreshes the very object it returns, or reads it through `awaitable_attrs`) is found, and the models
    nested in the fields of each relationship walked in turn."""

    def __init__(self, project: Project, handler: Handler, origins: list[facts.Load], credit: _Credit, line: int) -> None:
        from async_migrate.codemods.classes import project_classes
        from async_migrate.codemods.phase2.model_members import members

        self.project = project
        self.handler = handler
        self.origins: list[facts.Load] = origins
        self.credit = credit
        self.line = line
        self.classes = project_classes(project)
        self.flow = members(project, self.classes).flow
        self.found: list[Blocking] = []

    def model(self, model: str, stack: tuple[str, ...], path: list[str], owners: set[str]) -> None:
        from async_migrate.codemods.phase2.lazy_loads import SAFE_STRATEGIES

        fields = dict(self.classes.fields(model))
        for name in _read_names(self.classes, model):
            strategies = {self.flow.relationship(owner, name) for owner in owners}
            if None in strategies:
                continue  # a class the objects may be has no such relationship: a column, or nothing to load
            steps = [*path, name]
            if not (strategies <= SAFE_STRATEGIES and not self._unloaded(steps)) and not self._loads(steps):
                what = 'lazy="dynamic" query' if "dynamic" in strategies else "lazy load"
                entities = ", ".join(sorted(self.classes.short(owner) for owner in owners))
                on = (
                    f"its {entities} from the route's query, which does not eager-load it" if not path
                    else f"on the {entities} that path leads to, which no option of the route's query loads along it"
                )
                read = ".".join([self.classes.short(stack[0]), *steps])
                self.found.append(Blocking(self.line, f"{read} ({what} while the response is serialised), {on}"))
                continue  # what lies below it is reported once its load is fixed
            targets = {self.flow.target(owner, name) for owner in owners}
            if None in targets or len(stack) >= _MAX_DEPTH:
                continue
            for ref in fields.get(name, ()):
                nested = self.classes.resolve(ref)
                if nested is not None and nested not in stack and self.classes.fields(nested):
                    self.model(nested, (*stack, nested), steps, {t for t in targets if t is not None})

    def _unloaded(self, steps: list[str]) -> bool:
        return len(steps) == 1 and self.credit.unloads(self.origins, steps[0])

    def _loads(self, steps: list[str]) -> bool:
        from async_migrate.codemods.check import _refreshed_read

        if self.credit.loads_path(self.origins, steps):
            return True
        if len(steps) > 1:
            return False
        # serialised once the route returned: after any refresh of the object it returns
        function = self.handler.function
        return all(
            _refreshed_read(self.project, function, term[1] if term[0] == "name" else "", _AFTER_RETURN,
                            self.origins, steps[0])
            for term in function.results
        )


# The line a read at serialisation counts as made on: below every line of the route.
_AFTER_RETURN = 1 << 30


# Response models nest rarely deeper; the reads below are reported once these load.
_MAX_DEPTH = 4


def _response_models(project: Project, handler: Handler) -> tuple[list[str], int]:
    """The project models FastAPI validates the route's result into (`response_model=`, else the
    return annotation), and the line naming them."""
    from async_migrate.codemods.classes import project_classes

    classes = project_classes(project)
    refs, line = handler.response_refs()
    resolved = (classes.resolve(ref) for ref in refs)
    return [ref for ref in dict.fromkeys(resolved) if ref is not None and classes.fields(ref)], line


def _read_names(classes: Classes, model: str) -> list[str]:
    """The attribute names validating `model` from an object reads: its fields and their string
    aliases (`Field(alias="owner_name")`)."""
    fields = classes.fields(model)
    aliases: dict[str, str] = {}
    for ancestor in reversed(classes.mro(model)):
        aliases.update(classes.by_ref[ancestor][1].aliases)
    names = [name for name, _ in fields]
    names += [alias for name in names if (alias := aliases.get(name)) not in (None, "?", name) and "." not in alias]
    return list(dict.fromkeys(names))

