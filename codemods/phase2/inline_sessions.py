"""Sessions opened inline on the engine: `with Session(engine) as s:` (SQLModel's tutorial shape).

When the async stack stands for exactly one synchronous engine (`StackPlan.inline_engine`), a
`with` block opening a Session on that very engine moves to `async with AsyncSession(<async
engine>) as s:` (SQLModel's AsyncSession for `sqlmodel.Session`, SQLAlchemy's otherwise; a project
subclass, `AppSession(engine)`, is kept as `sync_session_class=AppSession`). The
`with` block closes the Session as `async with` does; what the Session is handed to inside it
moves as for any Session. Keywords with the same meaning on AsyncSession (`expire_on_commit`,
`autoflush`, `future`) are kept as written; an omitted one keeps its default, the same on both.
`expire_on_commit=True` (the default) is what `expired_reads` is told, per Session name and for
the helpers it is handed to, so reads after `commit()` are refreshed or block; a read after a
`with s.begin():` block (which commits on exit, unseen there) blocks (AM248).

Everything else stays synchronous with AM262 and the precise reason: a Session bound to a
connection, to another engine, or to an expression phase two cannot follow; `binds=`,
`twophase=` and other keywords; `s = Session(engine)` outside a `with` (its lifetime is not
visible as a whole); a stack that stands for no single engine.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import name_chain
from async_migrate.codemods.phase2 import expired_lists
from async_migrate.codemods.phase2.query_class import QueryClass
from async_migrate.codemods.phase2.stack_plan import Blocker, Piece, StackPlan
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.sqlmodel import SQLMODEL_SESSION_TYPES

SQLMODEL_ASYNC = ("sqlmodel.ext.asyncio.session", "AsyncSession")
SQLALCHEMY_ASYNC = ("sqlalchemy.ext.asyncio", "AsyncSession")
# Session keywords AsyncSession hands to its synchronous Session unchanged.
KEPT_KEYWORDS = frozenset({"expire_on_commit", "autoflush", "future"})
_WHY_NOT = {
    "binds": "maps mappers or tables to engines of their own: AsyncSession would need an async engine for each",
    "twophase": "asks for two-phase commit, not offered alike by the async drivers",
    "join_transaction_mode": "joins an outer transaction of a connection phase two does not move",
    "query_cls": "names a legacy Query class, which AsyncSession does not use",
    "info": "carries a dictionary the synchronous code may read through `Session.info`",
}


@dataclass(frozen=True, slots=True)
class StackEngine:
    """The engine the async stack stands for: the synchronous one (canonical reference) and the
    async engine built from it; or why a Session opened on an engine cannot move."""

    sync: str | None
    async_engine: Piece | None
    problem: str = ""
    # Synchronous sessionmakers the stack does not stand for: (canonical reference, description).
    other_makers: tuple[tuple[str, str], ...] = ()
    # The one it stands for, as a reason names it.
    maker: str = ""
    # Its project Query class (`query_cls=`), which legacy chains on its Sessions go through.
    query: QueryClass | None = None
    # What blocks the async stack itself, the reason there is none to stand for an engine.
    blocked: Blocker | None = None
    # Of `other_makers`, those bound to the stack's own engine: (canonical reference, engine name).
    same_engine: tuple[tuple[str, str], ...] = ()

    def other_database(self, ref: str) -> str:
        """What opening from the async stack's sessionmaker instead of the sessionmaker `ref` (one of
        `other_makers`) would change, as a reason ends: another database, or, on the same engine,
        only that sessionmaker's own options."""
        engine = dict(self.same_engine).get(ref)
        if engine is None:
            return "another database's"
        return (f"the same database (both are bound to the engine `{engine}`), but with the stack sessionmaker's "
                "options instead of its own")


def stack_engine(stack: StackPlan) -> StackEngine:
    """What the async stack plan says about the engine it stands for."""
    maker = stack.sessionmaker
    return StackEngine(
        stack.inline_engine, stack.async_engine, stack.inline_problem, tuple(stack.other_sessionmakers.items()),
        f"`{maker.name}` ({maker.path}:{maker.line})" if maker is not None else "", stack.query_class,
        stack.blockers[0] if stack.blockers else None, tuple(stack.same_engine_makers.items()),
    )


@dataclass(frozen=True, slots=True)
class Inline:
    """One `with Session(engine) as s:` that moves: what it becomes."""

    index: int  # the opening call's index
    line: int
    session: str  # the local name bound by `as`
    session_class: tuple[str, str]  # (module, name) of the AsyncSession class
    engine: Piece  # the async engine
    sync_engine: str  # the synchronous engine it stands for (canonical reference)
    expires: bool  # expire_on_commit, as AsyncSession will have it
    where: str  # for reasons: `api/heroes.py:12 (Session(engine))`
    # Opened on a project Session subclass (`AppSession(engine)`): the AsyncSession runs it, as
    # `sync_session_class=AppSession`, so its overrides and listeners stay
    subclass: bool = False


@dataclass(slots=True)
class Verdicts:
    moves: dict[int, Inline]  # call index -> the rewrite
    blocked: list[tuple[int, str]]  # (line, why), for AM262
    # (line, why), for AM248: a read after a `with session.begin():` block that committed
    expired: list[tuple[int, str]] = field(default_factory=list)


def judge(
    project: Project,
    fid: FunctionId,
    engine: StackEngine | None,
    tree: Callable[[str], ast.Module | None],
) -> Verdicts:
    """Each Session the function opens with arguments on a Session class: moves, or why not."""
    module, function = project.functions[fid]
    found = Verdicts({}, [])
    for opened in project.opens_directly(fid):
        if not project.is_sync_session_type(opened.callee) or opened.callee.endswith(".begin") or opened.by_hand:
            continue  # entered by hand: the function is blocked (AM290)
        call = _call(function, opened)
        if call is None or not call.args:
            continue  # `Session()`: opened like a sessionmaker's Session, by `session_open`
        written = _written(module, opened.callee)
        why = _problem(project, module, function, opened, call, engine, tree, written)
        if isinstance(why, str):
            found.blocked.append((call.line, why))
        else:
            found.moves[call.index] = why
            if why.expires:
                found.expired.extend(_read_after_begin(tree(module.path), function, why, written))
    return found


_SIMPLE = frozenset({"str", "int", "float", "bool", "bytes"})


def _read_after_begin(
    tree: ast.Module | None, function: facts.Function, inline: Inline, written: str
) -> list[tuple[int, str]]:
    """`reads_after_begin` inside the `with` block of a Session opened inline."""
    outer = _with_of(tree, inline.line, written)
    if outer is None:
        return []
    return reads_after_begin(tree, function, {inline.session: inline.where}, outer)


def reads_after_begin(
    tree: ast.Module | None, function: facts.Function, sessions: dict[str, str], scope: ast.AST | None = None
) -> list[tuple[int, str]]:
    """Reads after a `with session.begin():` block (in `scope`, else the whole function) on a
    Session that expires on commit (`sessions`: name -> where it is opened): the block's commit on
    exit expired every object, and the read would load under AsyncSession (MissingGreenlet).
    `expired_reads` sees only `commit()` calls, so each such read blocks: an attribute of a local
    name (`hero.id`), or a local name returned or handed to a call."""
    definition = expired_lists.function_node(tree, function)
    if definition is None:
        return []
    arguments = definition.args.posonlyargs + definition.args.args + definition.args.kwonlyargs
    simple = {a.arg for a in arguments if isinstance(a.annotation, ast.Name) and a.annotation.id in _SIMPLE}
    # Only the function's own names can hold its objects: not a model class, not a module.
    local = {a.arg for a in arguments} | {
        n.id for n in ast.walk(definition) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    outer = scope if scope is not None else definition
    found: list[tuple[int, str]] = []
    for block in ast.walk(outer):
        if block is outer or not isinstance(block, ast.With):
            continue
        session = next((name for i in block.items for name in sessions if _begins(i.context_expr, name)), None)
        if session is None:
            continue
        ignored = simple | set(sessions)
        end = block.end_lineno or block.lineno
        for node in ast.walk(outer):
            if getattr(node, "lineno", 0) <= end:
                continue
            read = None
            if (
                isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in local and node.value.id not in ignored
            ):
                read = f"`{node.value.id}.{node.attr}` is read"
            elif (
                isinstance(node, ast.Return) and isinstance(node.value, ast.Name)
                and node.value.id in local and node.value.id not in ignored
            ):
                read = f"`{node.value.id}` is returned"
            elif isinstance(node, ast.Call):
                named = next(
                    (a.id for a in node.args if isinstance(a, ast.Name) and a.id in local and a.id not in ignored),
                    None,
                )
                read = f"`{named}` is passed to `{ast.unparse(node.func)}(...)`" if named else None
            if read is not None:
                found.append((getattr(node, "lineno", end), (
                    f"{read} after the `{session}.begin()` block (line {block.lineno}), whose commit expires every "
                    f"object: the Session opened at {sessions[session]} keeps expire_on_commit=True, so the read is "
                    "implicit IO and raises MissingGreenlet under AsyncSession; phase two refreshes only after "
                    f"`{session}.commit()`; fix: pass expire_on_commit=False to the Session, or commit with "
                    f"`{session}.commit()` where the read needs the object"
                )))
                break
    return found


def _with_of(tree: ast.Module | None, line: int, written: str) -> ast.With | None:
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.With) and any(
            isinstance(i.context_expr, ast.Call) and i.context_expr.lineno == line
            and name_chain(i.context_expr.func) == written for i in node.items
        ):
            return node
    return None


def _begins(expr: ast.expr, session: str) -> bool:
    return (
        isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "begin"
        and isinstance(expr.func.value, ast.Name) and expr.func.value.id == session
    )


def _call(function: facts.Function, opened: facts.SessionOpen) -> facts.Call | None:
    if opened.index >= 0:
        return next((c for c in function.calls if c.index == opened.index), None)
    return next((c for c in function.calls if c.line == opened.line and c.callee == opened.callee), None)


def _written(module: facts.Module, callee: str) -> str:
    for local, ref in module.imports.items():
        if ref == callee:
            return local
    return callee.rpartition(".")[2]


def _problem(
    project: Project,
    module: facts.Module,
    function: facts.Function,
    opened: facts.SessionOpen,
    call: facts.Call,
    engine: StackEngine | None,
    tree: Callable[[str], ast.Module | None],
    written: str,
) -> Inline | str:
    shape = f"`{written}(...)`"
    if engine is None or engine.sync is None or engine.async_engine is None:
        problem = engine.problem if engine is not None and engine.problem else (
            f"there is no async stack to open it from, since the stack is blocked ({engine.blocked.code}: "
            f"{engine.blocked})" if engine is not None and engine.blocked is not None
            else "there is no async stack to open it from"
        )
        return f"opens its Session as {shape} on an engine: {problem}"
    if opened.index < 0 or opened.name is None:
        return (
            f"opens its Session as {shape} outside a `with` block: phase two moves only `with {written}(engine) "
            "as session:`, whose whole lifetime it sees; write it as one"
        )
    if call.nested:
        return f"opens its Session as {shape} in a nested function, which phase two does not rewrite"
    node = _node(tree(module.path), call.line, written)
    if node is None:
        return f"opens its Session as {shape}, which phase two cannot find in the source to read its arguments"
    bind: ast.expr | None = None
    expires = True
    for position, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred) or position > 0:
            return f"opens its Session as {shape} with arguments beyond the engine, which phase two does not map"
        bind = arg
    for keyword in node.keywords:
        name = keyword.arg
        if name is None:
            return f"opens its Session as {shape} with `**{ast.unparse(keyword.value)}`, which phase two cannot read"
        if name == "bind":
            bind = keyword.value
        elif name == "expire_on_commit":
            expires = not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
        elif name not in KEPT_KEYWORDS:
            reason = _WHY_NOT.get(name, "has no counterpart phase two maps one to one on AsyncSession")
            return f"opens its Session as {shape} with `{name}=`, which {reason}"
    if bind is None:
        return f"opens its Session as {shape} without an engine, which phase two does not map"
    async_engine = engine.async_engine
    text = ast.unparse(bind)
    ref = _resolve(project, module, function, bind)
    sync_name = engine.sync.rpartition(".")[2]
    if ref is None:
        return (
            f"opens its Session as {shape} bound to `{text}`, which phase two cannot follow to a module-level "
            f"engine (a connection, or an engine made at run time); only a Session on `{sync_name}` "
            f"({engine.sync}), the engine `{async_engine.name}` is built from, moves"
        )
    if ref != engine.sync:
        return (
            f"opens its Session as {shape} bound to `{text}` ({ref}), not to `{sync_name}` ({engine.sync}), the "
            f"engine the async engine `{async_engine.name}` is built from: there is no async engine for it"
        )
    session_class = SQLMODEL_ASYNC if project.library_session(opened.callee) in SQLMODEL_SESSION_TYPES else SQLALCHEMY_ASYNC
    clash = _clash(project, module, function, session_class, async_engine)
    if clash is not None:
        return f"opens its Session as {shape}: {clash}"
    return Inline(
        call.index, call.line, opened.name, session_class, async_engine, engine.sync, expires,
        f"{module.path}:{call.line} (`{written}({text})`)",
        subclass=project.session_subclass(opened.callee) is not None,
    )


def _node(tree: ast.Module | None, line: int, written: str) -> ast.Call | None:
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno == line and name_chain(node.func) == written:
            return node
    return None


def _resolve(project: Project, module: facts.Module, function: facts.Function, bind: ast.expr) -> str | None:
    """The canonical module-level reference `bind` names, or None (a local, a call, an expression)."""
    dotted = name_chain(bind)
    if dotted is None:
        return None
    head = dotted.split(".")[0]
    local = {p.name for p in function.params} | {b.name for b in function.bindings}
    if head in local:
        return None
    if head in module.imports:
        ref = module.imports[head] + dotted[len(head):]
    elif head in module.values:
        ref = f"{module.name}.{dotted}"
    else:
        return None
    target = project.resolve(ref)
    if target is None or target.kind != "value" or target.value is None or target.value.kind != "call":
        return None
    return project.canonical(ref) or ref


def _clash(
    project: Project, module: facts.Module, function: facts.Function, session_class: tuple[str, str], engine: Piece
) -> str | None:
    """A name the rewrite needs that the module or the function binds to something else."""
    local = {p.name for p in function.params} | {b.name for b in function.bindings}
    wanted = {session_class[1]: ".".join(session_class)}
    if engine.module != module.name:
        wanted[engine.name] = f"{engine.module}.{engine.name}"
    for name, ref in wanted.items():
        if name in local:
            return f"the function binds `{name}`, the name the rewrite needs for {ref}"
        bound = module.imports.get(name)
        if bound is not None and project.canonical(bound) != project.canonical(ref) and bound != ref:
            return f"the module imports `{name}` from {bound.rpartition('.')[0]}, and the rewrite needs {ref}"
        if bound is None and (name in module.values or any(f.qualname == name for f in module.functions)
                              or any(c.qualname == name for c in module.classes)):
            return f"the module defines `{name}`, the name the rewrite needs for {ref}"
    if engine.module == module.name and engine.name in local:
        return f"the function binds `{engine.name}`, the name of the async engine"
    flavours = {
        project.library_session(ref) in SQLMODEL_SESSION_TYPES
        for ref in module.imports.values() if project.is_sync_session_type(ref)
    }
    if len(flavours) > 1:
        return (
            "the module imports both SQLModel's and SQLAlchemy's Session, and one `AsyncSession` name cannot "
            "stand for both async classes"
        )
    return None


def expiring(verdicts: Verdicts) -> dict[str, tuple[bool, str]]:
    """Session name -> (expires on commit, where it is opened), for `expired_reads`."""
    found: dict[str, tuple[bool, str]] = {}
    for inline in sorted(verdicts.moves.values(), key=lambda i: i.line):
        # Two blocks under one name: the one that expires decides (a refresh too many is harmless).
        if inline.session not in found or inline.expires and not found[inline.session][0]:
            found[inline.session] = (inline.expires, inline.where)
    return found
