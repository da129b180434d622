"""The branches of a function that cannot run at a call handing a parameter a constant.

`with create_session(scoped=False) as s:` on

    @contextmanager
    def create_session(scoped=True):
        if scoped:
            Session = registry          # a thread-local `scoped_session`
        else:
            Session = plain_maker
        session = Session()

runs the `else` branch only: there `Session` is the plain sessionmaker, never the registry.
`given` reads what a call decides (each constant argument, and the constant default of a
parameter it does not pass), `dead_spans` the lines of the branches those constants rule out
(from `facts.Function.param_tests`), which `flow.Flow.evaluate` leaves out of the values the
function's local names may hold. Sound, not clever: nothing is decided where a project decorator
may hand the function other arguments than its caller wrote (`@provide_session` filling
`session=`), where the call unpacks `*`/`**`, calls another function than the one named (a class
building its instance), or hands a parameter anything but a constant.
"""

from __future__ import annotations

import ast
import sys
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.vocabulary.python import CONTEXT_MANAGER_DECORATORS

if TYPE_CHECKING:
    from async_migrate.codemods.project import Edge, FunctionId, Project

# (parameter, the constant it holds as its `repr`), sorted: hashable, for the flow's caches
Given = tuple[tuple[str, str], ...]
Spans = tuple[tuple[int, int], ...]
NO_GIVEN: Given = ()
NO_SPANS: Spans = ()

# Decorators that hand the function what its caller passed, unchanged
_PASSING = CONTEXT_MANAGER_DECORATORS | {"staticmethod", "classmethod", "builtins.staticmethod", "builtins.classmethod"}


def given(project: Project, edge: Edge) -> Given:
    """The parameters of `edge.callee` its call decides, each with the constant it holds there."""
    _, function = project.functions[edge.callee]
    call = edge.call
    if not function.param_tests or call.literals is None:
        return NO_GIVEN
    written = call.callee or call.func or ""
    if written.rpartition(".")[2] != function.name or call.dispatch:
        return NO_GIVEN  # `Repo(...)` running `__init__`, a function out of a table
    if any(d.callee is None or project.canonical(d.callee) not in _PASSING for d in function.decorators):
        return NO_GIVEN
    literals = dict(call.literals)
    # `Class.method(obj, x)` hands `self` by position, which `parameter_of` does not count
    by_position = not (function.params and function.params[0].name == "self" and call.func is None)
    passed: dict[str, str | None] = {}
    for arg in call.args:
        name = facts.parameter_of(function, arg)
        if name is None or (arg.keyword is None and not by_position):
            if arg.keyword is None:
                return NO_GIVEN  # a positional argument landing where the analysis cannot tell
            continue
        passed[name] = literals.get(arg.keyword if arg.keyword is not None else arg.position or 0)
    found = {}
    for name, default, *_ in function.param_tests:
        value = passed[name] if name in passed else default
        if value is not None:
            found[name] = value
    return tuple(sorted(found.items()))


def dead_spans(function: facts.Function, handed: Given) -> Spans:
    """The line spans of the branches of `function` that the constants `handed` rule out."""
    if not handed or not function.param_tests:
        return NO_SPANS
    values = dict(handed)
    found = []
    for name, _, op, compared, then_first, then_last, else_first, else_last in function.param_tests:
        value = values.get(name)
        holds = None if value is None else _holds(op, compared, value)
        if holds is True and else_first:
            found.append((else_first, else_last))
        elif holds is False:
            found.append((then_first, then_last))
    return tuple(sorted(found))


def dead_in_reach(project: Project, order: tuple[FunctionId, ...]) -> dict[FunctionId, Spans]:
    """The branches of each function a walk of the call graph reached (`order`, from its root, each
    caller before its callees but for a cycle) that no call of it from the walk can run: every such
    call hands a parameter a constant ruling the branch out (`create_session(scoped=False)`
    everywhere a handler's work calls it). A function called only from such branches runs nowhere
    (every line of it). The root is run by the framework, with anything."""
    members = set(order)
    found: dict[FunctionId, Spans] = {}
    for current in order[1:]:
        function = project.functions[current][1]
        # a caller met later in the walk (a cycle) is taken whole
        edges = [
            edge for edge in project.all_calls_to.get(current, ())
            if edge.caller in members and not within(found.get(edge.caller, NO_SPANS), edge.call.line)
        ]
        if not edges:
            found[current] = _WHOLE
        elif function.param_tests:
            spans = dead_spans(function, joined([given(project, edge) for edge in edges]))
            if spans:
                found[current] = spans
    return found


_WHOLE: Spans = ((0, sys.maxsize),)


def joined(givens: list[Given]) -> Given:
    """What every one of several calls decides alike."""
    if not givens:
        return NO_GIVEN
    common = set(givens[0]).intersection(*givens[1:])
    return tuple(sorted(common)) if common else NO_GIVEN


def within(spans: Spans, line: int) -> bool:
    return any(first <= line <= last for first, last in spans)


def _holds(op: str, compared: str, value: str) -> bool | None:
    """Whether the test holds for the parameter holding the constant `value`, or None."""
    held = ast.literal_eval(value)
    if op == "truth":
        return bool(held)
    if op == "not":
        return not held
    other = ast.literal_eval(compared)
    if op in ("is", "is not"):
        if other is not None and type(other) is not bool:
            return None  # identity of other constants is the interpreter's choice
        same = held is other
        return same if op == "is" else not same
    equal = bool(held == other)
    return equal if op == "==" else not equal
