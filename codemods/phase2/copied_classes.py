"""What defining a parallel async class runs besides the copy itself (AM253).

A class holding the Session that synchronous code also uses gets a parallel copy
(`ItemRepositoryAsync`, AM255). Defining that copy runs what defining any class of its
hierarchy runs: a base's `__init_subclass__` (`REGISTRY[model] = cls`, keyed by the class
keywords the copy repeats), a class decorator (`@register`), a project metaclass. Those
registrations then hand out the copy, whose methods are coroutine functions, to synchronous
code that looks the class up (`REGISTRY[Item](session).add(item)`): a coroutine never awaited,
the row never written. Such a class is not copied: the routes needing its copy are blocked, naming
the line. Decorators known to only build the class (`@dataclass`, `@final`, ...) and the
metaclasses of `abc` and `typing` run nothing else.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary.python import DATACLASS_DECORATORS

# Class decorators that build the class and register it nowhere.
_INERT_DECORATORS = DATACLASS_DECORATORS | frozenset({
    "typing.final", "typing_extensions.final", "typing.runtime_checkable", "typing_extensions.runtime_checkable",
    "functools.total_ordering", "dataclasses.dataclass",
})
_INERT_METACLASSES = frozenset({"abc.ABCMeta", "ABCMeta", "type", "typing.Protocol"})


def creation_effects(project: Project, ref: str, read: Callable[[str], str] | None) -> list[tuple[str, int, str]]:
    """(path, line, what runs) for each thing defining a copy of the class `ref` runs."""
    classes = project.flow.classes
    module, found = classes.by_ref[ref]
    effects: list[tuple[str, int, str]] = []
    for decorator in found.decorators:
        if project.canonical(decorator) not in _INERT_DECORATORS:
            effects.append((module.path, found.line, f"the class decorator `@{decorator.rpartition('.')[2]}` of "
                            f"{found.qualname}"))
    for base in classes.mro(ref)[1:]:
        hook = classes.methods.get(base, {}).get("__init_subclass__")
        if hook is not None:
            base_module, function = project.functions[hook]
            effects.append((base_module.path, function.line, f"{classes.short(base)}.__init_subclass__"))
    for cls in classes.mro(ref):
        metaclass = _metaclass(project, cls, read)
        if metaclass is not None:
            cls_module, cls_found = classes.by_ref[cls]
            effects.append((cls_module.path, cls_found.line, f"the metaclass `{metaclass}` of {cls_found.qualname}"))
    return effects


def _metaclass(project: Project, ref: str, read: Callable[[str], str] | None) -> str | None:
    """The `metaclass=` a project class statement names, when it is not one of `abc`'s or `typing`'s."""
    if read is None:
        return None
    module, found = project.flow.classes.by_ref[ref]
    try:
        tree = ast.parse(read(module.path))
    except (OSError, SyntaxError, ValueError):
        return "?"  # the source changed under the run: what the class statement says is unknown
    for node in ast.walk(tree):
        if type(node) is ast.ClassDef and node.name == found.name and (
            node.lineno == found.line or any(d.lineno == found.line for d in node.decorator_list)
        ):
            for keyword in node.keywords:
                if keyword.arg == "metaclass":
                    written = ast.unparse(keyword.value)
                    return None if written in _INERT_METACLASSES or project.canonical(written) in _INERT_METACLASSES \
                        else written
            return None
    return None
