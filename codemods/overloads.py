"""The `@overload` signatures of a project function a call can match, read by the literal
arguments it passes.

A factory whose keyword selects a variant (`get_client(sync_client=True)` declared
`-> SyncPrefectClient` by the overload taking `sync_client: Literal[True]`, `-> PrefectClient`
by the one taking `Literal[False]`) returns, for that call, what the matching overloads declare,
not the union the implementation declares. An overload is ruled out only by what the call says
plainly: a keyword it does not take, or a `True`/`False`/`None` handed to a parameter declared
`Literal[...]` of other values. A call unpacking `*args` or `**kwargs`, or matching no overload,
selects nothing, and the implementation's own declaration stands.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.vocabulary.python import LITERAL_TYPES, OVERLOAD_DECORATORS

if TYPE_CHECKING:
    from async_migrate.codemods.project import Project

# the constants a call's argument facts spell by name
_CONSTANTS = frozenset({"True", "False", "None"})
_LITERAL = re.compile(r"^(?:\w+\.)*Literal\[(.*)\]$")


def matching_overloads(project: Project, ref: str, call: facts.Call) -> list[facts.Function] | None:
    """The overloads of function `ref` that `call` may match, or None where it declares none, or
    the call rules out none of them (the implementation's declaration says as much), or all."""
    target = project.resolve(ref)
    if target is None or target.kind != "function" or target.module is None or target.function is None:
        return None
    qualname = target.function.qualname
    overloads = [
        f for f in target.module.functions
        if f.qualname == qualname and any(project.canonical(d.callee) in OVERLOAD_DECORATORS for d in f.decorators)
    ]
    if len(overloads) < 2 or any(a.keyword is None and a.position is None for a in call.args):
        return None
    kept = [f for f in overloads if not _ruled_out(project, f, call)]
    return kept if kept and len(kept) < len(overloads) else None


def _ruled_out(project: Project, overload: facts.Function, call: facts.Call) -> bool:
    takes_any_keyword = any(p.variadic == "**" for p in overload.params)
    for arg in call.args:
        name = facts.parameter_of(overload, arg)
        if name is None:
            if arg.keyword is not None and not takes_any_keyword:
                return True  # a keyword this signature does not take
            continue
        param = next(p for p in overload.params if p.name == name)
        allowed = _literal_constants(project, param)
        if allowed is not None and arg.expr is None and arg.name in _CONSTANTS and arg.name not in allowed:
            return True
    return False


def _literal_constants(project: Project, param: facts.Param) -> frozenset[str] | None:
    """`Literal[True]` -> {"True"}; None for any other annotation, or a Literal of values other
    than `True`, `False` and `None` (strings, numbers), which a call's facts do not spell."""
    if not any(project.canonical(ref) in LITERAL_TYPES for ref in param.annotation):
        return None
    matched = _LITERAL.match(param.text.replace(" ", ""))
    if matched is None:
        return None
    values = frozenset(matched.group(1).split(","))
    return values if values <= _CONSTANTS else None
