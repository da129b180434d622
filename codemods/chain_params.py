"""Unverified calls that hold only on the call chains handing a parameter the value behind them.

`received.py` joins what every caller hands an unannotated parameter, so `is_store_uri(url)`,
called once with what a dependency-injector provider gives and a dozen times with a string,
reads `url.startswith()` as a call on that provider (AM304) whoever calls it. The finding is
the provider's caller's alone: a route reaching `is_store_uri` through a chain that hands it a
string does nothing the analysis cannot see there.

`Through` records that an unverified call of a function holds only where its parameter is
handed a value that makes it so (the provider, or what was built from the Session by unseen
code): the parameter itself is the receiver (`url.startswith()`) or the value called on
(`tainted.count()`), nothing else in the function binds it, and every such value it holds
comes from callers. `carried` follows one call of the function up: the call hands the
parameter such a value (the finding holds for the caller), hands it none (this chain has no
such finding), or hands on a parameter of the caller's own that holds it only from the
caller's callers (the condition moves up a call). Where the call cannot be read (an argument
unpacked, no argument for the parameter, a call the value flow does not resolve to the
function, a local the flow gives no value) the finding holds, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.flow import NOTHING, Abstract, Flow, split

if TYPE_CHECKING:
    from async_migrate.codemods.project import Edge, FunctionId, Project


@dataclass(frozen=True, slots=True)
class Through:
    """The unverified call of `fid` holds where its parameter is handed a value `guilty` accepts:
    one of `kind`, or (with `attribute`) one whose attribute of that name is of `kind`."""

    fid: FunctionId
    attribute: str | None
    kind: str


# What `carried` says of one call: the finding holds for the caller (HOLDS), not on this chain
# (None), or holds where the caller's own parameter of that name is handed such a value.
HOLDS = ""


def guilty(flow: Flow, through: Through, value: Abstract) -> bool:
    if through.attribute is None:
        return value.kind == through.kind
    return any(v.kind == through.kind for v in flow.attribute_of(frozenset({value}), through.attribute, through.fid))


def condition(flow: Flow, fid: FunctionId, function: facts.Function, expression: str, kind: str) -> tuple[str, Through] | None:
    """(parameter, condition) where the unverified call on `expression` (`$url.startswith`, or
    `$repo` itself) holds only for the values callers hand that parameter; else None."""
    head, steps = split(expression)
    if not head.startswith("$") or len(steps) > 1 or (steps and (not steps[0].startswith(".") or steps[0] in (".state", ".app"))):
        return None
    name = head[1:]
    through = Through(fid, steps[0][1:] if steps else None, kind)
    return (name, through) if _from_callers(flow, fid, function, name, through) else None


def _from_callers(flow: Flow, fid: FunctionId, function: facts.Function, name: str, through: Through) -> bool:
    """Whether every value of parameter `name` that `through` accepts is one callers hand it."""
    if name in ("self", "cls") or function.name == "__init__" or not any(p.name == name for p in function.params):
        return False
    if any(b.name == name for b in function.bindings) or any(alias == name for alias, _ in function.rebinds) or (
        name in function.unpacked or name in function.items
    ):
        return False
    handed = flow.received.get(fid, {}).get(name, NOTHING)
    found = [v for v in flow.env(fid).get(name, NOTHING) if guilty(flow, through, v)]
    return bool(found) and all(v in handed for v in found)


def carried(project: Project, flow: Flow, edge: Edge, param: str, through: Through) -> str | None:
    """What one call of the function (an edge up the chain) makes of the condition on `param`:
    HOLDS, None (the call hands it no such value), or the caller's parameter it moves to."""
    _, callee = project.functions[edge.callee]
    call = edge.call
    if call.literals is None or call.splatted or call.forwarded is not None or call.dispatch or edge.via is not None:
        return HOLDS  # an argument unpacked, a table's function, a method of an object: not read here
    found = project.function(call.callee) if call.callee is not None else None
    direct = found is not None and (found[0].name, found[1].key) == edge.callee
    if not direct and edge.callee not in flow.targets(edge.caller, call)[0]:
        return HOLDS  # a call the flow does not resolve to the function itself (a method taken in place, ...)
    given = [arg for arg in call.args if facts.parameter_of(callee, arg) == param]
    if len(given) != 1:
        return HOLDS
    from async_migrate.codemods.received import argument_values

    arg = given[0]
    if arg.displayed:
        return HOLDS
    values = argument_values(project, flow, edge.caller, call, arg)
    if not values and arg.name is None and arg.expr is None and arg.ref is None and (
        (arg.position if arg.keyword is None else arg.keyword) not in {key for key, _ in call.literals}
    ):
        return HOLDS  # neither a constant nor an expression the flow reads (`f(x + y)`, `f(g(a, b))`)
    _, caller = project.functions[edge.caller]
    if not values and arg.name is not None and arg.expr is None and (
        any(b.name == arg.name for b in caller.bindings) or arg.name in caller.items or arg.name in caller.unpacked
    ):
        # a local bound to what the flow gives no value (`thing = lookup("thing")` from a library,
        # `thing = things[0]`): it may hold what the finding needs as well as anything else
        return HOLDS
    if not any(guilty(flow, through, v) for v in values):
        return None
    if arg.name is not None and arg.expr is None and _from_callers(flow, edge.caller, caller, arg.name, through):
        return arg.name
    return HOLDS
