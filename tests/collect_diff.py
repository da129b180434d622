"""The two pre-passes side by side: where the `ast` facts differ from the libcst ones."""

from __future__ import annotations

import dataclasses

import libcst as cst

from async_migrate.codemods import astcollect, facts
from async_migrate.codemods.collect import collect as collect_cst


def differences(a: object, b: object, path: str = "") -> list[str]:
    """Every place two fact trees differ, as `path: a != b`."""
    if isinstance(a, facts._Fact) and type(a) is type(b):
        found = []
        for field in dataclasses.fields(a):  # type: ignore[arg-type]
            found += differences(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
        return found
    if isinstance(a, (list, tuple)) and type(a) is type(b) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, dict) and isinstance(b, dict) and list(a) == list(b):
        return [d for key in a for d in differences(a[key], b[key], f"{path}[{key!r}]")]
    if isinstance(a, str) and isinstance(b, str) and path.endswith(".text") and a.split() == b.split():
        # An argument spanning lines inside an indented block: libcst prints it dedented by
        # the block's indentation, `ast` gives the source as written.
        return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def compare(path: str, text: str) -> list[str]:
    """Differences between the libcst facts (every line filled in) and the `ast` facts."""
    by_cst = collect_cst(path, cst.parse_module(text), all_lines=True)
    by_ast = astcollect.collect(path, text)
    return differences(by_cst, by_ast)
