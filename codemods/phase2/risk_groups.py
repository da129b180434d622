"""One lazy-load blocker per code, place and cause, however many paths reach it.

A schema nesting another several times (`Out.first: Inner`, `Out.second: Inner`), or itself,
reaches the same model code at the same line once per field path: on a real service, hundreds
of blockers differing only in the path named. The risks of one route that differ only there are
shown once, naming how many other paths reach the same read and the first few of them.
"""

from __future__ import annotations

import dataclasses

from async_migrate.codemods.phase2.lazy_loads import LazyLoadRisk

_SHOWN = 3  # other paths named in the merged message


def _cause(risk: LazyLoadRisk) -> tuple[object, ...]:
    """The risk with its path blanked out of the message (`response model field Out.first.name
    may run ... the class of `Out.first` is unknown`): equal for the same read reached otherwise."""
    message = risk.message
    if risk.path:
        message = message.replace(risk.path, "\0")
        parent = risk.path.rpartition(".")[0]
        if parent:
            message = message.replace(parent, "\1")
    return (risk.code, risk.file, risk.line, risk.kind, message, risk.fix)


def merged(risks: list[LazyLoadRisk]) -> list[LazyLoadRisk]:
    """`risks` in their order, those of one cause and place folded into the first of them."""
    groups: dict[tuple[object, ...], list[LazyLoadRisk]] = {}
    for risk in risks:
        groups.setdefault(_cause(risk), []).append(risk)
    found = []
    for group in groups.values():
        first, others = group[0], [r.path for r in group[1:]]
        if not others:
            found.append(first)
            continue
        named = ", ".join(others[:_SHOWN]) + (", ..." if len(others) > _SHOWN else "")
        plural = "s" if len(others) > 1 else ""
        found.append(dataclasses.replace(
            first, message=f"{first.message} (the same at {len(others)} more path{plural}: {named})"
        ))
    return found
