"""What runs while a scheduled coroutine still runs: `facts.Call.beside` and `facts.Call.loops`.

`t = create_task(count(db))` starts `count` at the caller's next `await`, and it runs until the
task is joined: `await t` (or an awaited `gather(t, ...)`, `wait(tasks)`, a loop over the tasks),
the end of the task group's `async with` for `tg.create_task(...)`, the end of the function
when nothing seen joins it. Every call of the own body on a path from the scheduler to that
join runs beside the coroutine; the scheduler itself too when a loop reaches it again first
(`for i in ids: tasks.append(create_task(count(db, i)))`), or when it stands in a comprehension.
A future `loop.run_in_executor(...)` not awaited in place runs from its call to its join likewise.
A scheduler awaited in place (`await gather(...)`, `await create_task(f())`) is joined there:
beside it run only the calls after it inside that `await` (`await gather(create_task(a(db)),
create_task(b(db)))`).

`loops` numbers the loops and comprehensions around each call of the own body, so the index can
tell a coroutine made several times before its one scheduler runs (`gather(*[f(db, i) for i in
ids])`, `coros.append(f(db, i))` in a loop) from one made once. Both are read only in functions
that may schedule (`handoff.schedules`).
"""

from __future__ import annotations

import ast
from typing import Any

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.awaited_later import Graph
from async_migrate.codemods.astcollect.handoff import SCHEDULING, STARTED
from async_migrate.codemods.astcollect.syntax import last_name, own_nodes

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_EXIT = 0  # the graph's node for the end of the function


def read(
    node: ast.FunctionDef | ast.AsyncFunctionDef, calls: dict[int, facts.Call], nodes: list[Any] | None = None
) -> None:
    """Fill `loops` of the calls (by the id of the called expression) of one function body, and
    `beside` of those that may schedule a coroutine and are not awaited in place. `nodes`: the
    body's `own_nodes`, when the caller has them."""
    try:
        parents: dict[int, ast.AST] = {}
        _number(node.body, calls, parents)
        schedulers = [
            (inner, calls[id(inner.func)]) for inner in (own_nodes(node.body) if nodes is None else nodes)
            if type(inner) is ast.Call and (last_name(inner.func) in SCHEDULING or last_name(inner.func) == STARTED)
            and id(inner.func) in calls
        ]
        if not any(not call.awaited for _, call in schedulers):
            return
        graph = Graph(node.body)
        owned = [_calls_of(graph_node.exprs, calls) for graph_node in graph.nodes]
        for inner, call in schedulers:
            if not call.awaited:
                call.beside = tuple(sorted(_beside(graph, owned, parents, inner, call, calls)))
    except RecursionError:
        return  # an expression nested past the stack: the index reads no overlap there


def _number(body: list[ast.stmt], calls: dict[int, facts.Call], parents: dict[int, ast.AST]) -> None:
    """Set `loops` on every call of the own body; note each node's parent on the way."""
    numbering = _Numbering(calls, parents)
    for statement in body:
        numbering.visit(statement, ())


class _Numbering:
    # A method, not a closure calling itself: a worker collects with the cycle collector off,
    # and a recursive closure is a cycle that would keep every tree it saw.
    def __init__(self, calls: dict[int, facts.Call], parents: dict[int, ast.AST]) -> None:
        self.calls = calls
        self.parents = parents
        self.counter = 0

    def visit(self, item: ast.AST, loops: tuple[int, ...]) -> None:
        if type(item) is ast.Call:
            found = self.calls.get(id(item.func))
            if found is not None:
                found.loops = loops
        if isinstance(item, _SCOPES):
            return
        parents = self.parents
        if not isinstance(item, (*_LOOPS, *_COMPREHENSIONS)):
            for child in ast.iter_child_nodes(item):
                parents[id(child)] = item
                self.visit(child, loops)
            return
        self.counter += 1
        inside = (*loops, self.counter)
        for child in ast.iter_child_nodes(item):
            parents[id(child)] = item
            if type(child) is ast.comprehension:
                for part in ast.iter_child_nodes(child):
                    parents[id(part)] = child
                    self.visit(part, loops if part is item.generators[0].iter else inside)  # type: ignore[union-attr]
            else:
                self.visit(child, inside if _per_round(item, child) else loops)


def _per_round(parent: ast.AST, child: ast.AST) -> bool:
    """Whether `child` runs once per round of `parent`, a loop or a comprehension (or one of a
    comprehension's `for` clauses): a loop's header and `else` and the first iterable of a
    comprehension run once."""
    if isinstance(parent, _LOOPS):
        return child in parent.body
    if isinstance(parent, _COMPREHENSIONS):
        return child is not parent.generators[0]
    if type(parent) is ast.comprehension:
        return child is not parent.iter
    return False


def _calls_of(exprs: list[ast.AST], calls: dict[int, facts.Call]) -> list[tuple[ast.Call, facts.Call]]:
    return [
        (inner, calls[id(inner.func)]) for inner in own_nodes(exprs)  # type: ignore[arg-type]
        if type(inner) is ast.Call and id(inner.func) in calls
    ]


def _beside(
    graph: Graph,
    owned: list[list[tuple[ast.Call, facts.Call]]],
    parents: dict[int, ast.AST],
    inner: ast.Call,
    call: facts.Call,
    calls: dict[int, facts.Call],
) -> set[int]:
    mine = {id(n) for n in own_nodes([inner]) if type(n) is ast.Call}  # type: ignore[list-item]
    awaited, again, with_ = _around(parents, inner, call.receiver)
    found = {call.index} if again else set()
    if awaited is not None:
        return found | {c.index for n, c in _calls_of([awaited], calls) if id(n) not in mine and c.index > call.index}
    nodes = [n for n, pairs in enumerate(owned) if any(node is inner for node, _ in pairs)]
    for number in nodes:
        found.update(c.index for n, c in owned[number] if id(n) not in mine and c.index > call.index)
    allowed = None
    if with_ is not None:
        inside = [s for s in own_nodes(with_.body) if isinstance(s, ast.stmt)]
        allowed = {n for s in inside for n in graph.of.get(id(s), ())}
    joins = _joins(graph, call.held_in) if call.held_in is not None else set()
    stack = [s for number in nodes for s in graph.nodes[number].succ]
    seen: set[int] = set()
    while stack:
        number = stack.pop()
        if number in seen or number == _EXIT:
            continue
        seen.add(number)
        if (allowed is not None and number not in allowed) or number in joins:
            continue
        found.update(c.index for _, c in owned[number])
        stack.extend(graph.nodes[number].succ)
    return found


def _around(
    parents: dict[int, ast.AST], inner: ast.Call, receiver: str | None
) -> tuple[ast.Await | None, bool, ast.AsyncWith | None]:
    """Going out from the scheduler call: the `await` in its statement that joins it, whether a
    comprehension makes it again before that, and the `async with ... as receiver` around it
    (a task group's, joined at the block's end)."""
    awaited: ast.Await | None = None
    again = False
    current: ast.AST = inner
    while id(current) in parents:
        parent = parents[id(current)]
        if isinstance(parent, ast.stmt):
            break
        if isinstance(parent, (*_COMPREHENSIONS, ast.comprehension)) and _per_round(parent, current):
            again = True
        if type(parent) is ast.Await:
            awaited = parent
            break
        current = parent
    with_ = None
    while receiver is not None and id(current) in parents:
        parent = parents[id(current)]
        if type(parent) is ast.AsyncWith and any(
            type(item.optional_vars) is ast.Name and item.optional_vars.id == receiver for item in parent.items
        ) and current in parent.body:
            with_ = parent
            break
        current = parent
    return awaited, again, with_


def _joins(graph: Graph, name: str) -> set[int]:
    """The graph's nodes that await what the local name holds (`await t`, `await gather(*tasks)`),
    or loop over it (`for t in tasks:`, `for f in as_completed(tasks):`), which joins it."""
    found = set()
    for number, graph_node in enumerate(graph.nodes):
        loop = graph_node.loop
        if loop is not None and _reads(loop.iter, name):
            found.add(number)
            continue
        for inner in own_nodes(graph_node.exprs):  # type: ignore[arg-type]
            if type(inner) is ast.Await and _reads(inner.value, name):
                found.add(number)
                break
    return found


def _reads(expression: ast.AST, name: str) -> bool:
    return any(type(n) is ast.Name and n.id == name for n in own_nodes([expression]))  # type: ignore[list-item]
