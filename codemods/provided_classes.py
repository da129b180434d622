"""A parameter's declared class beside the class its dependency really gives it.

FastAPI fills `uow: Annotated[UnitOfWorkAsync, Depends(get_uow)]` with whatever `get_uow` returns
or yields; the annotation is only read by the type checker. Code written against the annotation
(`await ItemServiceAsync(uow).name(id_)`) then runs on another class: a unit of work, repository
or service holding the synchronous Session, whose methods block the event loop and return plain
values the route awaits (TypeError). `mismatches` finds such a parameter: the dependency is a
project function whose every returned or yielded value is an instance of a project class, and the
annotation names a project class none of them derives from (a `Protocol` aside, implemented by
shape) whose `async def` methods stand for plain ones of the class given. Phase two's self-check refuses a rewrite producing it; `check` reports it (AM339).
"""

from __future__ import annotations

from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.flow import INSTANCE
from async_migrate.codemods.project import FunctionId, Project


@dataclass(frozen=True, slots=True)
class Mismatch:
    param: facts.Param  # the parameter FastAPI fills
    annotated: str  # the class declared for it, or for the parameter it is handed to
    provided: tuple[str, ...]  # what the dependency gives, none derived from `annotated`
    dependency: FunctionId
    handed: tuple[FunctionId, str, int] | None = None  # (callee, its parameter, line) it is handed to

    def described(self, project: Project, source: Project | None = None) -> str:
        """"`uow` is annotated UnitOfWorkAsync, but its dependency `get_uow` (app/main.py:23)
        yields a UnitOfWork"; or "`uow` is handed to `ItemServiceAsync.__init__` at line 9, whose
        parameter `uow` is a UnitOfWorkAsync, ...". `source`: the index whose lines the dependency
        is named at (the code as written, before a rewrite moved it)."""
        short = project.flow.classes.short
        located = source.functions.get(self.dependency) if source is not None else None
        module, function = located or project.functions[self.dependency]
        how = "yields" if function.is_generator else "returns"
        given = " or ".join(short(c) for c in self.provided)
        if self.handed is None:
            declared = f"`{self.param.name}` is annotated {short(self.annotated)}"
        else:
            callee, name, line = self.handed
            declared = (
                f"`{self.param.name}` is handed to `{project.functions[callee][1].qualname}` at line {line}, whose "
                f"parameter `{name}` is a {short(self.annotated)}"
            )
        return f"{declared}, but its dependency `{function.qualname}` ({module.path}:{function.line}) {how} a {given}"


def provided(project: Project, param: facts.Param) -> tuple[FunctionId, tuple[str, ...]] | None:
    """The project dependency function filling `param` and the project classes it gives, when
    every value it returns or yields is an instance of one of them; else None."""
    classes = project.flow.classes
    ref = project.param_dependency(param)
    target = project.function(ref) if ref is not None else None
    if target is None:
        return None  # a class FastAPI builds itself (`Depends(Repo)`) gives that class
    module, dependency = target
    if dependency.yielded_from or (dependency.is_generator and dependency.returned):
        return None
    dep = (module.name, dependency.key)
    values = [
        v for expression in (*dependency.returned, *dependency.yielded) for v in project.flow.evaluate(dep, expression)
    ]
    found = tuple(sorted({str(v.target) for v in values if v.kind == INSTANCE and str(v.target) in classes.by_ref}))
    if not values or len(found) != len({(v.kind, str(v.target)) for v in values}):
        return None  # something other than a project class's instance may come back
    return dep, found


def holds_sync_session(project: Project, ref: str) -> bool:
    """A class some method of which (its bases' too) does synchronous Session work."""
    classes = project.flow.classes
    return any(
        method in project.work_chains or project.opens_session(method)
        for ancestor in classes.mro(ref) for method in classes.methods.get(ancestor, {}).values()
    )


def mismatches(project: Project, fid: FunctionId) -> list[Mismatch]:
    """Each parameter of `fid` whose annotation names a project class its dependency never gives,
    or that `fid` hands, as it is, to a parameter so annotated."""
    classes = project.flow.classes
    found: list[Mismatch] = []
    for param in project.functions[fid][1].params:
        given = provided(project, param)
        if given is None:
            continue
        dep, kinds = given

        def foreign(annotated: str, kinds: tuple[str, ...] = kinds) -> bool:
            return (
                not _protocol(project, annotated) and all(annotated not in classes.mro(p) for p in kinds)
                and any(_awaited_counterpart(project, annotated, p) for p in kinds)
            )

        declared = next((a for a in _annotated(project, param.annotation) if foreign(a)), None)
        if declared is not None:
            found.append(Mismatch(param, declared, kinds, dep))
            continue
        for edge in project.all_calls_from.get(fid, ()):
            _, callee = project.functions[edge.callee]
            for arg in edge.call.args:
                name = facts.parameter_of(callee, arg) if arg.name == param.name and arg.expr is None else None
                target = next((p for p in callee.params if p.name == name), None)
                handed = next((a for a in _annotated(project, target.annotation) if foreign(a)), None) if target else None
                if target is not None and handed is not None:
                    found.append(Mismatch(param, handed, kinds, dep, (edge.callee, target.name, edge.call.line)))
    return found


# The asynchronous context manager's methods, by the synchronous ones they stand for.
_SYNC_NAMES = {"__aenter__": "__enter__", "__aexit__": "__exit__"}


def _awaited_counterpart(project: Project, annotated: str, provided: str) -> bool:
    """The declared class has an `async def` method where the given one has a plain `def` of the
    same name (`UnitOfWorkAsync.__aenter__` and `UnitOfWork.__enter__`, `commit` and `commit`): code
    written for the one awaits what the other returns. An ORM model declared as its pydantic schema
    has none."""
    classes = project.flow.classes

    def methods(ref: str, is_async: bool) -> set[str]:
        return {
            _SYNC_NAMES.get(name, name) if is_async else name
            for ancestor in classes.mro(ref) for name, fid in classes.methods.get(ancestor, {}).items()
            if project.functions[fid][1].is_async == is_async and name != "__init__"
        }

    return bool(methods(annotated, True) & methods(provided, False))


def _annotated(project: Project, annotation: tuple[str, ...]) -> list[str]:
    """The project classes an annotation names, through an `Annotated` alias too."""
    classes = project.flow.classes
    refs = list(annotation)
    for ref in annotation:
        target = project.resolve(ref)
        value = target.value if target is not None and target.kind == "value" else None
        if value is not None and value.kind == "annotated":
            refs.extend(value.annotation)
    return list(dict.fromkeys(c for r in refs if (c := classes.resolve(r)) is not None and c in classes.by_ref))


def _protocol(project: Project, ref: str) -> bool:
    """A `typing.Protocol`, or a class deriving from a project one: implemented by shape, not by
    derivation, so what a dependency gives need not name it among its bases."""
    classes = project.flow.classes
    return any(classes.is_protocol(ancestor) for ancestor in classes.mro(ref))
