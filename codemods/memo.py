"""A command's analysis as the warm cache keeps it: JSON, rebuilt on this run's handlers.

Records (decisions, findings, their reasons) are written field by field, so a field added to
them later is kept as well; a value of a kind not listed makes the analysis uncacheable
(`Unstorable`) rather than dropped. Handlers go by id, rules by code.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from async_migrate.codemods.handlers import Handler
from async_migrate.codemods.rules import Rule, by_code


class Unstorable(Exception):
    """A value this module cannot write as JSON and read back as it was."""


def dumps(value: Any, kinds: tuple[type, ...]) -> bytes:
    """value (plain data, and instances of the dataclasses `kinds`) as JSON; Unstorable when
    it holds anything else."""
    names = {cls.__name__: cls for cls in kinds}
    document = {"fields": {name: _field_names(cls) for name, cls in names.items()}, "value": _dump(value, names)}
    return json.dumps(document, separators=(",", ":")).encode()


def loads(data: bytes, kinds: tuple[type, ...], handlers: dict[tuple[str, str], Handler]) -> Any:
    """`dumps`'s value back, handlers looked up by id; None when the data does not fit (another
    shape, a handler this run does not have)."""
    names = {cls.__name__: cls for cls in kinds}

    def rebuild(value: dict[str, Any]) -> Any:
        # Called by the JSON parser for every object, innermost first: only tagged objects
        # are one-key objects named by a tag (`_dump` writes a dict's items as pairs).
        if len(value) != 1:
            return value
        ((tag, content),) = value.items()
        if tag == "handler":
            return handlers[(content[0], content[1])]
        if tag == "rule":
            return by_code(content)
        if tag == "tuple":
            return tuple(content)
        if tag == "dict":
            return dict(content)
        if tag == "record":
            return names[content[0]](*content[1:])
        return value

    try:
        document = json.loads(data, object_hook=rebuild)
        if document["fields"] != {name: _field_names(cls) for name, cls in names.items()}:
            return None  # written for records of another shape
        return document["value"]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _dump(value: Any, kinds: dict[str, type]) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_dump(item, kinds) for item in value]
    if isinstance(value, Handler):
        return {"handler": list(value.id)}
    if isinstance(value, Rule):
        return {"rule": value.code}
    if isinstance(value, tuple):
        return {"tuple": [_dump(item, kinds) for item in value]}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"dict": [[key, _dump(item, kinds)] for key, item in value.items()]}
    if kinds.get(type(value).__name__) is type(value) and dataclasses.is_dataclass(value):
        if not all(f.init for f in dataclasses.fields(value)):
            raise Unstorable(f"{type(value).__name__} has fields its constructor does not take")
        # Values in field order, as the constructor takes them; `dumps` names the fields once.
        return {"record": [type(value).__name__, *(_dump(getattr(value, f.name), kinds) for f in dataclasses.fields(value))]}
    raise Unstorable(type(value).__name__)
