"""Calls that validate a pydantic type from an object in code, reading its attributes as a response
model does: `Out.model_validate(book)` (or `from_orm`), `TypeAdapter(list[Out]).validate_python(rows)`
(the adapter built in place, kept in a local name or at module level, here or imported) and
`parse_obj_as(list[Out], rows)`.

`codemods/phase2/lazy_loads.py` walks the models' fields on the objects given, as the response
model's; `codemods/phase2/eager_flow.py` reads a value returned from such a call as copies, which
FastAPI serialises without touching an ORM object. A field validator receiving the attribute as
read (`mode="before"`) runs its code on the related object: `raw_field_validators`; a field that
keeps what it is given (`Any`) holds the ORM objects, which the schema's own code reads:
`instance_code`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.classes import Classes
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.pydantic import (
    ADAPTER_VALIDATES,
    FIELD_VALIDATORS,
    INSTANCE_CODE,
    OPAQUE_TYPES,
    PARSE_AS,
    RAW_MODES,
    TYPE_ADAPTERS,
)

# Pydantic class methods that validate a model from an object, reading its attributes.
VALIDATE_METHODS = frozenset({"model_validate", "from_orm"})
# Names in a validated type that only wrap the classes they name: `list[Out]`, `Out | None`.
WRAPPERS = frozenset({
    "list", "List", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet", "Sequence", "Iterable",
    "Collection", "Optional", "Union", "None", "typing.List", "typing.Tuple", "typing.Set", "typing.FrozenSet",
    "typing.Sequence", "typing.Iterable", "typing.Collection", "typing.Optional", "typing.Union",
    "collections.abc.Sequence", "collections.abc.Iterable", "collections.abc.Collection",
})


@dataclass(frozen=True, slots=True)
class Validation:
    models: tuple[str, ...]  # the project classes validated (with fields or not)
    refs: tuple[str, ...]  # every reference in the type validated (`Page`, `Out` of `Page[Out]`)
    given: facts.Arg  # the argument validated
    # Every name in the type is a project class or wraps them (`list[Out]`): nothing else, such as
    # `Any` or a dict, may hold the objects as they were given.
    whole: bool
    method: bool  # `Out.model_validate(obj)`, where the owner may be a table model built from input


def validation(project: Project, classes: Classes, call: facts.Call) -> Validation | None:
    """What `call` validates from an object, or None when it validates nothing the tool reads."""
    owner, _, method = (call.callee or "").rpartition(".")
    refs: tuple[str, ...] = call.adapted
    position = 0
    if not refs and method in VALIDATE_METHODS:
        model = classes.resolve(owner)
        given = next((a for a in call.args if a.position == 0 or a.keyword == "obj"), None)
        if model is None or given is None:
            return None
        return Validation((model,), (model,), given, True, True)
    if not refs and method in ADAPTER_VALIDATES and owner:
        target = project.resolve(owner)
        value = target.value if target is not None and target.kind == "value" else None
        if value is not None and value.kind == "call" and project.canonical(value.ref) in TYPE_ADAPTERS:
            refs = value.annotation
    if not refs:
        return None
    if project.canonical(call.callee) in PARSE_AS:
        position = 1
    given = next((a for a in call.args if a.position == position or a.keyword in ("obj", "object")), None)
    if given is None:
        return None
    resolved = [classes.resolve(ref) for ref in refs]
    models = tuple(dict.fromkeys(m for m in resolved if m is not None))
    whole = bool(models) and all(m is not None or ref in WRAPPERS for ref, m in zip(refs, resolved, strict=True))
    return Validation(models, refs, given, whole, False) if models else None


def raw_field_validators(project: Project, classes: Classes, model: str) -> dict[str, list[tuple[FunctionId, str]]]:
    """Field name ("*": every field) -> the validators of `model`'s class order that receive the
    attribute as read from the object (`mode="before"`, `"wrap"`, `"plain"`; pydantic 1's
    `pre=True`), each with the name of its parameter holding that value."""
    found: dict[str, list[tuple[FunctionId, str]]] = {}
    for ancestor in classes.mro(model):
        for fid in classes.methods.get(ancestor, {}).values():
            function = project.functions[fid][1]
            for decorator in function.decorators:
                callee = project.canonical(decorator.callee) or ""
                if not decorator.is_call or callee.rpartition(".")[2] not in FIELD_VALIDATORS:
                    continue
                names = _raw_fields(decorator.text)
                # `(cls, value, ...)`: pydantic makes a field validator a class method
                value = function.params[1].name if len(function.params) > 1 else None
                if names and value is not None:
                    for name in names:
                        found.setdefault(name, []).append((fid, value))
    return found


def _raw_fields(text: str) -> tuple[str, ...]:
    """The fields `@field_validator("a", "b", mode="before")` validates in a raw mode; () when
    none (an `after` validator, which receives the value pydantic already validated)."""
    try:
        call = ast.parse(text.lstrip("@").strip(), mode="eval").body
    except SyntaxError:
        return ()
    if type(call) is not ast.Call:
        return ()
    mode = "after"
    for keyword in call.keywords:
        if keyword.arg == "mode" and type(keyword.value) is ast.Constant:
            mode = str(keyword.value.value)
        elif keyword.arg == "pre" and type(keyword.value) is ast.Constant and keyword.value.value is True:
            mode = "before"
    if mode not in RAW_MODES:
        return ()
    names: list[str] = []
    for argument in call.args:
        if type(argument) is ast.Constant and type(argument.value) is str:
            names.append(argument.value)
        elif type(argument) is ast.Starred or type(argument) is not ast.Constant:
            names.append("*")  # `*FIELDS`, a name: which fields is unknown, so any
    return tuple(dict.fromkeys(names))


def instance_code(project: Project, classes: Classes, model: str) -> list[FunctionId]:
    """The methods of `model`'s class order pydantic runs on the instance (`@computed_field`,
    serializers, `mode="after"` model validators), first parameter `self`."""
    found: list[FunctionId] = []
    for ancestor in classes.mro(model):
        for fid in classes.methods.get(ancestor, {}).values():
            for decorator in project.functions[fid][1].decorators:
                callee = project.canonical(decorator.callee) or ""
                if callee in INSTANCE_CODE and not (
                    callee.endswith("model_validator") and any(m in decorator.text for m in RAW_MODES)
                ):
                    found.append(fid)
                    break
    return found


def opaque(annotation: tuple[str, ...]) -> bool:
    """A field type that keeps what it was given (`Any`, `list[Any]`, a bare `list`): validated from
    a relationship, it holds the ORM objects themselves."""
    return not annotation or any(ref in OPAQUE_TYPES for ref in annotation) or all(ref in WRAPPERS for ref in annotation)


def model_validators(project: Project, classes: Classes, model: str) -> list[tuple[FunctionId, str | None]]:
    """The validators of `model`'s class order that receive the object itself, before its fields
    are read (`@model_validator(mode="before")` or `"wrap"`, pydantic 1's `@root_validator(pre=True)`),
    each with its parameter holding the object when it is a `before` one the tool reads (`(cls, data)`),
    else None."""
    found: list[tuple[FunctionId, str | None]] = []
    for ancestor in classes.mro(model):
        for fid in classes.methods.get(ancestor, {}).values():
            function = project.functions[fid][1]
            for decorator in function.decorators:
                name = (project.canonical(decorator.callee) or "").rpartition(".")[2]
                mode = decorator.text.replace(" ", "")
                if name == "model_validator" and ("before" in mode or "wrap" in mode):
                    before = "before" in mode and len(function.params) > 1
                    found.append((fid, function.params[1].name if before else None))
                elif name == "root_validator" and "pre=True" in mode:
                    found.append((fid, None))
    return found
