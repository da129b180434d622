"""What a decorator's plain wrapper does, around each call, with the values it hands the function
it wraps: `session.commit()` after `result = fn(*args, session=session, **kwargs)`, on the Session
the wrapper read as `kwargs["session"]`, `args[0]` or its own parameter handed on.

Such work is the decorated function's: a helper whose own body only does `session.add(obj)` still
commits through its decorator, so it does I/O (phase two's `session_work.no_io_only`), and handed
an AsyncSession the commit is a coroutine the plain wrapper never awaits (check's AM311). Each use
says which argument of the wrapped call it acts on, by position or keyword, or neither where the
wrapper's code does not say (`session = find_session(args)`): the analysis then cannot clear it.
"""

from __future__ import annotations

import ast

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.module import Collector
from async_migrate.codemods.astcollect.syntax import dotted, name_of
from async_migrate.codemods.vocabulary.sqlalchemy import AWAITED_METHODS, SESSION_IO_METHODS

# A Session method doing I/O, or a coroutine on an AsyncSession: called on what the wrapper hands
# the function, it is Session work every call of the function does.
_IO = AWAITED_METHODS | SESSION_IO_METHODS
# (position, keyword): a value the wrapper hands the wrapped function at that argument; (None,
# None), one that comes from its arguments some way the code does not spell out.
_Slot = tuple[int | None, str | None]
_UNKNOWN: _Slot = (None, None)


def plain_wrapper_uses(
    collector: Collector, wrapper: ast.FunctionDef | ast.AsyncFunctionDef, wrapped: str,
) -> tuple[facts.WrapperUse, ...]:
    """The Session methods and functions the plain `wrapper` calls on what it hands the function
    its decorator's parameter `wrapped` holds (`fn(db, *args, **kwargs)`); the `async def` wrapper's
    alike (`await fn(...)`, `await db.commit()`)."""
    calls = [
        node for node in ast.walk(wrapper)
        if type(node) is ast.Call and dotted(node.func) == wrapped
    ]
    named: dict[str, _Slot] = {}
    star_args: dict[str, int | None] = {}  # `*args` -> the position its first item lands at
    star_kwargs: set[str] = set()
    for call in calls:
        position: int | None = 0
        for arg in call.args:
            if type(arg) is ast.Starred:
                held = name_of(arg.value)
                if held is not None:
                    star_args[held] = position if held not in star_args or star_args[held] == position else None
                position = None  # past a `*args`, positions are not known
                continue
            held = name_of(arg)
            if held is not None:
                _bind(named, held, (position, None))
            position = None if position is None else position + 1
        for keyword in call.keywords:
            held = name_of(keyword.value)
            if keyword.arg is None and held is not None:
                star_kwargs.add(held)
            elif held is not None:
                _bind(named, held, (None, keyword.arg))
    containers = set(star_args) | star_kwargs
    code = collector.source.code

    def slot(node: ast.expr) -> _Slot | None:
        """The argument `node` is of the wrapped call, `_UNKNOWN` when it comes from the wrapper's
        arguments some other way, None when it does not."""
        kind = type(node)
        if kind is ast.Name:
            name = node.id  # type: ignore[attr-defined]
            return None if name in containers else named.get(name)
        if kind is ast.Subscript:
            held = name_of(node.value)  # type: ignore[attr-defined]
            index = node.slice  # type: ignore[attr-defined]
            constant = index.value if type(index) is ast.Constant else None
            if held in star_args and type(constant) is int and constant >= 0:
                offset = star_args[held]
                return (offset + constant, None) if offset is not None else _UNKNOWN
            if held in star_kwargs and type(constant) is str:
                return (None, constant)
        if kind is ast.Call and type(node.func) is ast.Attribute and node.func.attr in ("get", "pop"):  # type: ignore[attr-defined]
            held = name_of(node.func.value)  # type: ignore[attr-defined]
            first = node.args[0] if node.args else None  # type: ignore[attr-defined]
            if held in star_kwargs and type(first) is ast.Constant and type(first.value) is str:
                return (None, first.value)
        # what mentions an argument another way (`kwargs.get("db") or args[0]`, `pick(args)`)
        mentioned = {n.id for n in ast.walk(node) if type(n) is ast.Name}
        return _UNKNOWN if mentioned & (containers | set(named)) else None

    # `session = kwargs["session"]`: a name bound once from the arguments stands for that argument
    bound: dict[str, list[ast.expr]] = {}
    for node in ast.walk(wrapper):
        if type(node) is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:
            bound.setdefault(node.targets[0].id, []).append(node.value)
        elif type(node) in (ast.AnnAssign, ast.AugAssign, ast.NamedExpr) and type(node.target) is ast.Name:  # type: ignore[attr-defined]
            bound.setdefault(node.target.id, []).append(node.value or node.target)  # type: ignore[attr-defined]
    for name, values in bound.items():
        if name in named or name in containers:
            continue
        slots = {slot(value) for value in values}
        if slots == {None}:
            continue
        # bound once, or always to the same argument; else (some bindings not from the arguments
        # at all) it may be any of them
        single = next(iter(slots)) if len(slots) == 1 else None
        named[name] = single if single is not None else _UNKNOWN
    awaited = {id(node.value) for node in ast.walk(wrapper) if type(node) is ast.Await} | {
        id(item.context_expr) for node in ast.walk(wrapper) if type(node) is ast.AsyncWith for item in node.items
    }
    found: list[facts.WrapperUse] = []
    for node in ast.walk(wrapper):
        if type(node) is not ast.Call or node in calls:
            continue
        run = id(node) in awaited
        func = node.func
        if type(func) is ast.Attribute and func.attr in _IO:
            where = slot(func.value)
            if where is not None:
                found.append(facts.WrapperUse(
                    line=node.lineno, text=f"{code(func.value)}.{func.attr}()",
                    position=where[0], keyword=where[1], method=func.attr, awaited=run,
                ))
                continue
        callee = collector.ref(func)
        for index, arg in enumerate(node.args):
            where = slot(arg) if type(arg) is not ast.Starred else None
            if where is not None:
                found.append(facts.WrapperUse(
                    line=node.lineno, text=f"{code(func)}({code(arg)})", position=where[0],
                    keyword=where[1], callee=callee, handed_position=index, awaited=run,
                ))
        for keyword in node.keywords:
            where = slot(keyword.value) if keyword.arg is not None else None
            if where is not None:
                found.append(facts.WrapperUse(
                    line=node.lineno, text=f"{code(func)}({keyword.arg}={code(keyword.value)})",
                    position=where[0], keyword=where[1], callee=callee, handed_keyword=keyword.arg, awaited=run,
                ))
    return tuple(sorted(found, key=lambda use: (use.line, use.text)))


def _bind(named: dict[str, _Slot], name: str, where: _Slot) -> None:
    """A name handed at two different arguments stands for neither with certainty."""
    named[name] = where if named.get(name, where) == where else _UNKNOWN
