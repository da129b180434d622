"""Coroutines held in a local name and run later, on every path: `facts.Call.consumed`.

`c = f(db)` ... `await c`, `coros = [f(x) for x in xs]` ... `await gather(*coros)`,
`coros.append(f(x))` ... `create_task(...)`, `await wait_for(c, 5)`, `for c in coros: await c`:
the coroutine is not lost when, on every path from where the name takes it to the end of the
function, the name is awaited or handed to something that runs it before it is bound again.
A path that returns, raises or rebinds the name first loses it (check's AM311 stays).
Exceptions a statement may raise on its own are not paths; an explicit `raise` is. A name read
any other way (aliased, returned, handed to a call the analysis does not know) is not a run.
The same holds lost outright (`facts.Call.dropped`): a name nothing reads, or reads only in ways
that never run it (`print(c)`, `if c:`).

Over 500 lines: both readers walk the same holds (`_holds`) of one body, and the path graph is
theirs alone.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from typing import Any

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import own_nodes, unpacked_pairs, walk_fields
from async_migrate.codemods.vocabulary.python import NEVER_RUN, RUN_WHEN_AWAITED, TASK_WRAPPERS

# Calls that run a coroutine they are handed whether or not they are awaited themselves.
_RUNS = frozenset(
    {"asyncio.create_task", "asyncio.ensure_future", "asyncio.gather", "asyncio.shield", "asyncio.run",
     "asyncio.run_coroutine_threadsafe"}
) & TASK_WRAPPERS
_RUN_METHODS = frozenset({"create_task", "run_until_complete"})  # a loop's, a task group's
_AS_COMPLETED = "asyncio.as_completed"  # runs them once iterated
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TRIES = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp)
_EXIT = 0


class _Node:
    __slots__ = ("exprs", "binds", "succ", "loop")

    def __init__(self, exprs: list[ast.AST], binds: set[str]) -> None:
        self.exprs = exprs
        self.binds = binds
        self.succ: list[int] = []
        self.loop: ast.For | ast.AsyncFor | None = None


class Graph:
    """Statement-level control flow of one function body (not into nested scopes)."""

    def __init__(self, body: list[ast.stmt]) -> None:
        self.nodes: list[_Node] = [_Node([], set())]  # _EXIT
        self.of: dict[int, list[int]] = {}  # id(statement) -> its nodes (a `finally` is built once per exit)
        self.entry = self.block(body, _EXIT, _Context(_EXIT, (_EXIT,), None, None))

    def add(self, statement: ast.AST, exprs: list[ast.AST], binds: set[str], succ: list[int]) -> int:
        walrus = {n.target.id for e in exprs for n in walk_fields(e) if type(n) is ast.NamedExpr}
        self.nodes.append(_Node(exprs, binds | walrus))
        index = len(self.nodes) - 1
        self.nodes[index].succ = succ
        self.of.setdefault(id(statement), []).append(index)
        return index

    def block(self, statements: list[ast.stmt], after: int, context: _Context) -> int:
        entry = after
        for statement in reversed(statements):
            entry = self.statement(statement, entry, context)
        return entry

    def statement(self, s: ast.stmt, after: int, c: _Context) -> int:  # noqa: PLR0911, PLR0912
        if isinstance(s, ast.Return):
            return self.add(s, [s], set(), [c.returns])
        if isinstance(s, ast.Raise):
            return self.add(s, [s], set(), list(c.raises))
        if isinstance(s, ast.Break):
            return self.add(s, [], set(), [c.breaks if c.breaks is not None else _EXIT])
        if isinstance(s, ast.Continue):
            return self.add(s, [], set(), [c.continues if c.continues is not None else _EXIT])
        if isinstance(s, ast.If):
            header = self.add(s, [s.test], set(), [])
            self.nodes[header].succ = [self.block(s.body, after, c), self.block(s.orelse, after, c)]
            return header
        if isinstance(s, ast.While):
            header = self.add(s, [s.test], set(), [])
            forever = isinstance(s.test, ast.Constant) and bool(s.test.value)
            inner = _Context(c.returns, c.raises, after, header)
            body = self.block(s.body, header, inner)
            self.nodes[header].succ = [body] if forever else [body, self.block(s.orelse, after, c)]
            return header
        if isinstance(s, (ast.For, ast.AsyncFor)):
            header = self.add(s, [s.iter], _names(s.target), [])
            self.nodes[header].loop = s
            inner = _Context(c.returns, c.raises, after, header)
            self.nodes[header].succ = [self.block(s.body, header, inner), self.block(s.orelse, after, c)]
            return header
        if isinstance(s, (ast.With, ast.AsyncWith)):
            bound = {n for item in s.items if item.optional_vars is not None for n in _names(item.optional_vars)}
            return self.add(s, [item.context_expr for item in s.items], bound, [self.block(s.body, after, c)])
        if isinstance(s, _TRIES):
            return self.attempt(s, after, c)  # type: ignore[arg-type]  # a TryStar has the same fields
        if isinstance(s, ast.Match):
            header = self.add(s, [s.subject], set(), [])
            succ = [self.block(case.body, after, c) for case in s.cases]
            last = s.cases[-1] if s.cases else None
            if last is None or last.guard is not None or not (
                isinstance(last.pattern, ast.MatchAs) and last.pattern.pattern is None
            ):
                succ.append(after)
            captured: set[object] = {getattr(n, f, None) for case in s.cases for n in ast.walk(case.pattern) for f in ("name", "rest")}
            self.nodes[header].binds = {b for b in captured if isinstance(b, str)}
            self.nodes[header].succ = succ
            return header
        if isinstance(s, _NESTED):
            return self.add(s, [], {s.name}, [after])
        return self.add(s, [s], _bound(s), [after])

    def attempt(self, s: ast.Try, after: int, c: _Context) -> int:
        def through(target: int | None) -> int | None:
            # an exit leaving the `try` runs the `finally` first
            if target is None or not s.finalbody:
                return target
            return self.block(s.finalbody, target, c)

        normal = through(after)
        assert normal is not None
        leaving = _Context(
            through(c.returns) or _EXIT, tuple(through(r) or _EXIT for r in c.raises),
            through(c.breaks), through(c.continues),
        )
        handlers = []
        for handler in s.handlers:
            entry = self.block(handler.body, normal, leaving)
            if handler.name:
                entry = self.add(handler, [], {handler.name}, [entry])
            handlers.append(entry)
        # an explicit `raise` in the body may be caught by any handler, or by none
        inside = _Context(leaving.returns, (*handlers, *leaving.raises), leaving.breaks, leaving.continues)
        return self.block(s.body, self.block(s.orelse, normal, leaving), inside)


class _Context:
    __slots__ = ("returns", "raises", "breaks", "continues")

    def __init__(self, returns: int, raises: tuple[int, ...], breaks: int | None, continues: int | None) -> None:
        self.returns, self.raises, self.breaks, self.continues = returns, raises, breaks, continues


def read(
    node: ast.FunctionDef | ast.AsyncFunctionDef, calls: dict[int, facts.Call], nodes: list[Any] | None = None
) -> None:
    """Set `consumed` on the calls (by the id of the called expression) whose coroutine is run:
    handed inline to what runs it (`gather(*[f(x) for x in xs])`), or held by a local name that
    runs it on every path after. `nodes`: the body's `own_nodes`, when the caller has them."""
    running = False
    for inner in own_nodes(node.body) if nodes is None else nodes:
        if type(inner) is ast.Await and type(inner.value) is ast.Name:
            running = True
        elif type(inner) is ast.Call:
            scheduler = calls.get(id(inner.func))
            if scheduler is None or not _schedules(scheduler, inner.func, scheduler.awaited):
                continue
            running = True
            for argument in [*inner.args, *(k.value for k in inner.keywords)]:
                for call in _inline(argument, calls):
                    call.consumed = True
    if not running:
        return  # nothing runs a name: every coroutine held stays lost
    holds = list(_holds(node.body, calls))
    if not holds:
        return
    try:
        graph = Graph(node.body)
        for statement, name, element, call in holds:
            starts = [s for index in graph.of.get(id(statement), ()) for s in graph.nodes[index].succ]
            if starts and _every_path(graph, starts, name, element, calls, frozenset()):
                call.consumed = True
    except RecursionError:
        return  # an expression nested past the stack: what is not proven run stays a finding


def unread_holds(
    node: ast.FunctionDef | ast.AsyncFunctionDef, calls: dict[int, facts.Call], nodes: list[Any] | None = None
) -> None:
    """Set `dropped` on the calls whose value a plain local name is given (`c = f(db)`, `a, b =
    f(db), g(db)`) when nothing reads that name: not the function, not a scope nested in it (a
    closure may), nor `locals()` or the like. Their coroutine is never awaited nor handed on."""
    holds = [
        (name, call) for statement, name, element, call in _holds(node.body, calls)
        if not element and not call.awaited and not isinstance(statement, ast.AugAssign)
    ]
    if not holds:
        return
    held = {name for name, _ in holds}
    read: set[str] = set()
    idle: dict[int, str] = {}  # id of a read that never runs what it reads -> that read as written
    unrun: dict[str, list[str]] = {}  # a held name -> its reads, each of those
    # One pass: a read is noted idle by the node around it (`_idle_reads`), which the walk's
    # depth-first order meets first.
    for inner in own_nodes(node.body) if nodes is None else nodes:
        kind = type(inner)
        if kind in _IDLE_READERS:
            _idle_reads(inner, held, calls, idle)
        elif kind is ast.Name:
            if type(inner.ctx) is ast.Load:
                how = idle.get(id(inner)) if inner.id in held else None
                if how is None:
                    read.add(inner.id)
                else:
                    unrun.setdefault(inner.id, []).append(f"{how} at line {inner.lineno}")
        elif kind is ast.Global or kind is ast.Nonlocal:
            read.update(inner.names)  # bound for the module or the enclosing function to read
        elif kind in _SCOPES:
            read.update(n.id for n in ast.walk(inner) if type(n) is ast.Name)
    if read & _DYNAMIC_READS:
        return
    for name, call in holds:
        if name not in read:
            call.dropped = True
            call.unrun_reads = tuple(dict.fromkeys(unrun.get(name, ())))


# The nodes `_idle_reads` notes reads under.
_IDLE_READERS = frozenset({ast.FormattedValue, ast.If, ast.While, ast.IfExp, ast.Assert, ast.Compare, ast.Call})


def _idle_reads(node: ast.AST, held: set[str], calls: dict[int, facts.Call], idle: dict[int, str]) -> None:
    """Note in `idle` the reads of a `held` name directly under `node` that never run a coroutine
    the name holds: formatted (`f"{c}"`), tested (`if c:`, `not c`, `c is None`), or handed to a
    builtin that takes it as any other object (`print(c)`, `len(c)`, `list(c)`)."""
    kind = type(node)
    if kind is ast.FormattedValue:
        _idle(node.value, held, idle, "{%s} in an f-string")  # type: ignore[attr-defined]
    elif kind is ast.If or kind is ast.While or kind is ast.IfExp or kind is ast.Assert:
        _tested(node.test, held, idle)  # type: ignore[attr-defined]
    elif kind is ast.Compare:
        for operand in (node.left, *node.comparators):  # type: ignore[attr-defined]
            _idle(operand, held, idle, "%s in a comparison")
    elif kind is ast.Call and not node.keywords:  # type: ignore[attr-defined]
        call = calls.get(id(node.func))  # type: ignore[attr-defined]
        builtin = (call.callee or "").removeprefix("builtins.") if call is not None else ""
        if builtin in NEVER_RUN and type(node.func) is ast.Name:  # type: ignore[attr-defined]
            for argument in node.args:  # type: ignore[attr-defined]
                if type(argument) is ast.Name:
                    _idle(argument, held, idle, f"{builtin}(%s)")


def _tested(test: ast.expr, held: set[str], idle: dict[int, str]) -> None:
    """A condition's operands that only give it their truth: `c`, `not c`, `c and x`."""
    if type(test) is ast.UnaryOp and type(test.op) is ast.Not:
        _tested(test.operand, held, idle)
    elif type(test) is ast.BoolOp:
        for value in test.values:
            _tested(value, held, idle)
    else:
        _idle(test, held, idle, "%s as a truth test")


def _idle(value: ast.expr, held: set[str], idle: dict[int, str], how: str) -> None:
    if type(value) is ast.Name and value.id in held:
        idle.setdefault(id(value), how % value.id)



def module_level(
    body: list[ast.stmt], callee: Callable[[ast.expr], str | None], text: str
) -> tuple[set[int], dict[int, tuple[str, tuple[str, ...]]]]:
    """The code outside any function of a module (`text`), read as `unread_holds` reads a body:
    the ids of the calls handed straight to a builtin that never runs a coroutine (`print(f(db))`,
    `list(f(db))`), and of those whose value a global name keeps that nothing in the module reads,
    or only what never runs it (`pending = f(db)` ... `print(pending)`): id -> (the name, those
    reads). Other modules' imports are the project's to rule out. `callee`: a called expression
    resolved, the bare name for a builtin the module does not bind.

    The module's functions, classes and decorators may read a global: the name written in the
    text anywhere but where the module-level code reads or binds it (a function, a string such
    as `__all__` or `getattr(module, "pending")`, a comment) counts as a read. The text is
    searched for the few names left rather than every function walked: every module comes here,
    and most keep a call in a global (`router = APIRouter()`)."""
    nodes = own_nodes(body)
    calls: dict[int, facts.Call] = {}
    handed: set[int] = set()
    for node in nodes:
        if type(node) is ast.Call:
            call = calls[id(node.func)] = facts.Call(line=node.lineno, callee=callee(node.func))
            if type(node.func) is ast.Name and not node.keywords and (call.callee or "").removeprefix("builtins.") in NEVER_RUN:
                handed.update(id(item) for item in node.args if type(item) is ast.Call)
    holds = [
        (name, call) for statement, name, element, call in _holds(body, calls)
        if not element and not isinstance(statement, ast.AugAssign)
    ]
    if not holds:
        return handed, {}
    held_names = {name for name, _ in holds}
    written: dict[str, int] = {}  # a held name -> the times the module-level code writes it
    for inner in nodes:
        if type(inner) is ast.Name and inner.id in held_names:
            written[inner.id] = written.get(inner.id, 0) + 1
    # first the text, which rules out most (a router read by the decorators of its routes)
    held_names = {name for name in held_names if not _written_elsewhere(text, name, written.get(name, 0))}
    if not held_names or _DYNAMIC_GLOBALS.search(text):
        return handed, {}
    idle: dict[int, str] = {}
    for inner in nodes:
        _idle_reads(inner, held_names, calls, idle)
    read: set[str] = set()
    unrun: dict[str, list[str]] = {}
    for inner in nodes:
        if type(inner) is ast.Name and inner.id in held_names and type(inner.ctx) is ast.Load:
            how = idle.get(id(inner))
            if how is None:
                read.add(inner.id)
            else:
                unrun.setdefault(inner.id, []).append(f"{how} at line {inner.lineno}")
    lost = held_names - read
    by_call = {id(call): name for name, call in holds if name in lost}
    kept = {}
    for node in nodes:
        if type(node) is ast.Call and (name := by_call.get(id(calls[id(node.func)]))) is not None:
            kept[id(node)] = (name, tuple(dict.fromkeys(unrun.get(name, ()))))
    return handed, kept


def _written_elsewhere(text: str, name: str, times: int) -> bool:
    """Whether `text` holds `name` as a word more than `times` times (stops at the first beyond)."""
    if text.count(name) <= times:
        return False
    for seen, _ in enumerate(re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text), 1):
        if seen > times:
            return True
    return False


# Reads of a module's globals by a name given at run time.
_DYNAMIC_GLOBALS = re.compile(r"\b(?:globals|vars|locals|eval|exec|__dict__)\b")


# Calls that read local names by a name given at run time.
_DYNAMIC_READS = frozenset({"locals", "vars", "eval", "exec"})
_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef})


def awaited_params(
    node: ast.AsyncFunctionDef | ast.FunctionDef, calls: dict[int, facts.Call], nodes: list[Any] | None = None
) -> tuple[str, ...]:
    """The parameters of an `async def` its own body awaits in place on every path from its entry
    (`return await coro`, `await wait_for(coro, 5)`), reading them no other way: a coroutine handed
    to one runs before the function returns. Stored, handed on, put in a task, read by a nested
    scope or awaited only on some paths, it is not."""
    args = node.args
    names = {p.arg for p in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    reads: dict[str, int] = {}
    for inner in ast.walk(node):
        if type(inner) is ast.Name and inner.id in names:
            reads[inner.id] = reads.get(inner.id, 0) + 1
    in_place: dict[str, int] = {}
    for inner in own_nodes(node.body) if nodes is None else nodes:
        if type(inner) is not ast.Await:
            continue
        value = inner.value
        if type(value) is ast.Call and value.args:
            call = calls.get(id(value.func))
            value = value.args[0] if call is not None and call.callee in RUN_WHEN_AWAITED else value
        if type(value) is ast.Name and value.id in names:
            in_place[value.id] = in_place.get(value.id, 0) + 1
    # every read of it one of those awaits: then a path running it (`_every_path`) awaits it there
    candidates = [name for name, count in in_place.items() if reads.get(name) == count]
    if not candidates:
        return ()
    try:
        graph = Graph(node.body)
        return tuple(
            name for name in candidates if _every_path(graph, [graph.entry], name, False, calls, frozenset())
        )
    except RecursionError:
        return ()


def _schedules(call: facts.Call, func: ast.expr, awaited: bool) -> bool:
    """Whether the call runs the coroutines it is handed (`wait_for` only when awaited itself)."""
    return (
        call.callee in _RUNS or (type(func) is ast.Attribute and func.attr in _RUN_METHODS)
        or (awaited and call.callee in RUN_WHEN_AWAITED)
    )


def _inline(argument: ast.AST, calls: dict[int, facts.Call]) -> Iterator[facts.Call]:
    """The calls whose coroutine an argument hands on as itself or its elements: `f(x)`,
    `*[f(x) for x in xs]`, `[f(), g()]`, `f() if a else g()`."""
    stack = [argument]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Starred):
            stack.append(current.value)
        elif isinstance(current, (ast.List, ast.Tuple, ast.Set)):
            stack.extend(current.elts)
        elif isinstance(current, _COMPREHENSIONS):
            stack.append(current.elt)
        elif isinstance(current, ast.IfExp):
            stack.extend((current.body, current.orelse))
        elif isinstance(current, ast.Call):
            found = calls.get(id(current.func))
            if found is not None:
                yield found


# Node type -> those of its fields, in this order, that hold statements, `except` clauses or cases.
_BLOCKS: dict[type, tuple[str, ...]] = {}


def _holds(body: list[ast.stmt], calls: dict[int, facts.Call]) -> Iterator[tuple[ast.stmt, str, bool, facts.Call]]:
    """(statement, name, whether the name holds it as an element of a list, the call) for each
    call a plain local name is given: `c = f()`, `c = f() if x else g()`, `coros = [f(x) ...]`,
    `coros.append(f(x))`, `coros += [f(x)]`."""
    stack: list[ast.AST] = list(body)
    while stack:
        s = stack.pop()
        if isinstance(s, _NESTED):
            continue
        fields = _BLOCKS.get(type(s))
        if fields is None:
            fields = _BLOCKS[type(s)] = tuple(
                name for name in ("body", "orelse", "finalbody", "handlers", "cases") if name in type(s)._fields
            )
        for field in fields:
            stack.extend(getattr(s, field, None) or ())
        if not isinstance(s, ast.stmt):  # an `except` clause, a `case`: their bodies only
            continue
        value: ast.AST | None = None
        name: str | None = None
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            value, name = s.value, s.targets[0].id
        elif isinstance(s, ast.Assign) and len(s.targets) == 1 and unpacked_pairs(s.targets[0], s.value):
            # `a, b = f(db), g(db)`: each name holds the coroutine at its place
            for target, item in unpacked_pairs(s.targets[0], s.value):
                for call in _held(item, calls, element=False):
                    yield s, target, False, call
            continue
        elif isinstance(s, (ast.AnnAssign, ast.AugAssign)) and isinstance(s.target, ast.Name):
            value, name = s.value, s.target.id
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            func = s.value.func
            if isinstance(func, ast.Attribute) and func.attr in ("append", "add") and isinstance(func.value, ast.Name):
                if len(s.value.args) == 1 and not s.value.keywords:
                    for call in _held(s.value.args[0], calls, element=False):
                        yield s, func.value.id, True, call
            continue
        if value is None or name is None:
            continue
        for element in (False, True):
            for call in _held(value, calls, element):
                yield s, name, element, call


def _held(value: ast.AST, calls: dict[int, facts.Call], element: bool) -> Iterator[facts.Call]:
    """The calls whose coroutine `value` is itself (or, with `element`, the elements of the list,
    set or comprehension it builds)."""
    if element:
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            for item in value.elts:
                yield from _held(item, calls, element=False)
        elif isinstance(value, _COMPREHENSIONS):
            yield from _held(value.elt, calls, element=False)
        return
    if isinstance(value, ast.IfExp):
        yield from _held(value.body, calls, element=False)
        yield from _held(value.orelse, calls, element=False)
    elif isinstance(value, ast.Call):
        found = calls.get(id(value.func))
        if found is not None:
            yield found


def _every_path(
    graph: Graph, starts: list[int], name: str, element: bool, calls: dict[int, facts.Call], lost: frozenset[int]
) -> bool:
    """Every path from `starts` runs `name` before it ends, meets a node of `lost`, or binds it again."""
    seen: set[int] = set()
    stack = list(starts)
    while stack:
        index = stack.pop()
        if index in seen:
            continue
        seen.add(index)
        if index == _EXIT or index in lost:
            return False
        node = graph.nodes[index]
        if any(_runs(e, name, element, calls) for e in node.exprs) or (
            element and node.loop is not None and _loop_runs(graph, index, name, calls)
        ) or (element and node.loop is not None and _completed(node.loop, name, calls)):
            continue
        if name in node.binds:
            return False
        stack.extend(node.succ)
    return True


def _loop_runs(graph: Graph, header: int, name: str, calls: dict[int, facts.Call]) -> bool:
    """`for c in coros:` whose body runs `c` on every path through it, and never breaks out."""
    loop = graph.nodes[header].loop
    assert loop is not None
    if not (isinstance(loop.iter, ast.Name) and loop.iter.id == name and isinstance(loop.target, ast.Name)):
        return False
    if isinstance(loop, ast.AsyncFor) or loop.orelse or any(isinstance(n, ast.Break) for n in _own(loop.body)):
        return False
    return _every_path(graph, graph.nodes[header].succ[:1], loop.target.id, False, calls, frozenset({header}))


def _completed(loop: ast.For | ast.AsyncFor, name: str, calls: dict[int, facts.Call]) -> bool:
    """`for done in as_completed(coros):` schedules every one of them on the first iteration."""
    iterated = loop.iter
    if type(loop) is not ast.For or not isinstance(iterated, ast.Call) or not iterated.args:
        return False
    call = calls.get(id(iterated.func))
    first = iterated.args[0]
    return call is not None and call.callee == _AS_COMPLETED and isinstance(first, ast.Name) and first.id == name


def _runs(expression: ast.AST, name: str, element: bool, calls: dict[int, facts.Call]) -> bool:
    """Whether evaluating the expression certainly awaits `name` or hands it to what runs it."""
    return any(
        found == (name, element) for found in _run_names(expression, calls, running=False)
    )


def _run_names(  # noqa: PLR0912
    expression: ast.AST, calls: dict[int, facts.Call], running: bool
) -> Iterator[tuple[str, bool]]:
    """(name, element) for each local name the expression runs: `running` when the value of the
    expression itself is run. Only what is evaluated every time: the first operand of `and`/`or`,
    the test of a conditional, the first iterable of a comprehension (its element, per element)."""
    kind = type(expression)
    if kind is ast.Name:
        if running:
            yield expression.id, False  # type: ignore[attr-defined]
        return
    if kind is ast.Await:
        yield from _run_names(expression.value, calls, True)  # type: ignore[attr-defined]
        return
    if kind is ast.Lambda or isinstance(expression, _NESTED):
        return
    if kind is ast.BoolOp:
        yield from _run_names(expression.values[0], calls, False)  # type: ignore[attr-defined]
        return
    if kind is ast.IfExp:
        yield from _run_names(expression.test, calls, False)  # type: ignore[attr-defined]
        return
    if isinstance(expression, ast.DictComp):
        yield from _run_names(expression.generators[0].iter, calls, False)
        return
    if isinstance(expression, _COMPREHENSIONS):
        generators = expression.generators
        yield from _run_names(generators[0].iter, calls, False)
        one = generators[0]
        if (
            len(generators) == 1 and not one.ifs and not one.is_async
            and isinstance(one.iter, ast.Name) and isinstance(one.target, ast.Name)
            and (one.target.id, False) in set(_run_names(expression.elt, calls, running))
        ):
            yield one.iter.id, True  # each element of the list run
        return
    if kind is ast.Call:
        call = calls.get(id(expression.func))  # type: ignore[attr-defined]
        func = expression.func  # type: ignore[attr-defined]
        runs = call is not None and _schedules(call, func, running)
        yield from _run_names(func, calls, False)
        arguments = [*expression.args, *(k.value for k in expression.keywords)]  # type: ignore[attr-defined]
        waits = call is not None and call.callee == "asyncio.wait"
        for position, argument in enumerate(arguments):
            if runs and type(argument) is ast.Starred and type(argument.value) is ast.Name:
                yield argument.value.id, True
            elif runs and waits and position == 0 and type(argument) is ast.Name:
                yield argument.id, True  # `wait` takes the iterable of them
            elif runs and type(argument) is ast.Starred:
                yield from _elements(argument.value, calls)
            else:
                yield from _run_names(argument, calls, runs and not waits)
        return
    if kind is ast.For or kind is ast.AsyncFor:
        return
    for child in ast.iter_child_nodes(expression):
        if isinstance(expression, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and child in _targets(expression):
            continue
        yield from _run_names(child, calls, False)


def _elements(value: ast.AST, calls: dict[int, facts.Call]) -> Iterator[tuple[str, bool]]:
    """`gather(*[wait_for(c, 5) for c in coros])`: the elements a starred display or comprehension
    hands to what runs them."""
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        for item in value.elts:
            yield from _run_names(item, calls, True)
    elif isinstance(value, _COMPREHENSIONS):
        one = value.generators[0]
        yield from _run_names(one.iter, calls, False)
        if (
            len(value.generators) == 1 and not one.ifs and not one.is_async
            and isinstance(one.iter, ast.Name) and isinstance(one.target, ast.Name)
            and (one.target.id, False) in set(_run_names(value.elt, calls, True))
        ):
            yield one.iter.id, True


def _targets(statement: ast.Assign | ast.AnnAssign | ast.AugAssign) -> list[ast.AST]:
    return list(statement.targets) if isinstance(statement, ast.Assign) else [statement.target]


def _bound(statement: ast.stmt) -> set[str]:
    """Names a simple statement binds (or unbinds)."""
    if isinstance(statement, ast.Assign):
        return {n for t in statement.targets for n in _names(t)}
    if isinstance(statement, ast.AnnAssign):
        return _names(statement.target) if statement.value is not None else set()
    if isinstance(statement, ast.Delete):
        return {n for t in statement.targets for n in _names(t)}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).partition(".")[0] for a in statement.names}
    return set()


def _names(target: ast.AST) -> set[str]:
    """Names an assignment target binds: `a`, `a, b`, `*rest`; not `a.x` nor `a[i]`."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {n for t in target.elts for n in _names(t)}
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return set()


def _own(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The statements of a loop body, not into nested loops or scopes (whose `break` is theirs)."""
    stack: list[ast.AST] = list(body)
    while stack:
        s = stack.pop()
        yield s
        if isinstance(s, (*_NESTED, ast.For, ast.AsyncFor, ast.While)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            stack.extend(getattr(s, field, ()) or ())
