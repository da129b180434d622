"""What the synchronous stack does per request that a generated async stack would not.

Phase two replaces the session dependency the routes reach with an async one that only opens a
session, yields it and (when the sync one does) commits, bound to a new engine and sessionmaker.
What the synchronous stack does beside that is read here, from the modules' text: what the
dependency does more (`provider_extras`, AM271), listeners the async stack would not run
(`listeners`, AM270), a Session a middleware put on the request's state
(`request_state_blockers`, AM264), and the tests' overrides and redirects the async dependency
escapes (`overrides`, `redirects`: follow-ups).

Over 500 lines: the readings walk the same module trees and resolve names the same way
(which engine, sessionmaker or dependency an expression means).
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import parse_read
from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.engine_work import connection_dependencies
from async_migrate.codemods.flow import SESSION
from async_migrate.codemods.phase1.shared_session import request_context_variable
from async_migrate.codemods.phase2 import expired_lists, opener_calls, scope_openers, tenant_binds
from async_migrate.codemods.phase2.registry_provider import registry_blocker
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary import ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ASYNC_SESSIONMAKERS,
    MODEL_EVENTS,
    SCOPED_SESSION_MAKERS,
    SYNC_SESSIONMAKERS,
)

LISTEN = frozenset({
    "sqlalchemy.event.listen", "sqlalchemy.event.listens_for",
    "sqlalchemy.event.api.listen", "sqlalchemy.event.api.listens_for",
})
# Session classes an AsyncSession's synchronous Session is an instance of: a class-level
# listener on one of these runs for the async stack's sessions too.
SESSION_BASES = frozenset({"sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session"})
SQLMODEL_BASES = SESSION_BASES | {"sqlmodel.Session", "sqlmodel.orm.session.Session"}
_ENDS_SESSION = frozenset({"commit", "rollback", "close"})


class Texts:
    """Module syntax trees by path, each read and parsed once."""

    def __init__(self, read: Callable[[str], str] | None) -> None:
        self.read = read
        self._texts: dict[str, str | None] = {}
        self._trees: dict[str, tuple[str, ast.Module] | None] = {}

    def text(self, path: str) -> str | None:
        if path not in self._texts:
            try:
                self._texts[path] = self.read(path) if self.read is not None else None
            except (OSError, ValueError):
                self._texts[path] = None
        return self._texts[path]

    def get(self, path: str, needle: str = "") -> tuple[str, ast.Module] | None:
        """The module's text and tree; None when it cannot be read, or does not contain `needle`
        (most modules do not: those are never parsed). A reader keeping what an analysis read
        (`run._Reads`) is asked first whether the module lacks `needle`: then the analysis
        depends on that alone, not on the rest of the text."""
        lacks = getattr(self.read, "lacks", None)
        if needle and path not in self._texts and lacks is not None:
            try:
                if lacks(path, needle):
                    return None
            except (OSError, ValueError):
                pass  # `text` says it cannot be read
        text = self.text(path)
        if text is None or needle not in text:
            return None
        if path not in self._trees:
            try:
                self._trees[path] = parse_read(text, path)
            except (SyntaxError, ValueError):
                self._trees[path] = None
        return self._trees[path]


def absolute(module: facts.Module, name: str) -> str:
    head, _, rest = name.partition(".")
    base = module.imports.get(head, f"{module.name}.{head}")
    return f"{base}.{rest}" if rest else base


def first_line(text: str, node: ast.AST) -> str:
    """The first line of `node` as written in `text` (`ast.get_source_segment`'s), at most 100
    characters; unparsed when the node has no position."""
    segment = _first_segment_line(text, node) or ast.unparse(node)
    line = segment.splitlines()[0].strip() if segment else ""
    return line if len(line) <= 100 else line[:97] + "..."


@lru_cache(maxsize=8)
def _source_lines(text: str) -> list[str]:
    # The line ends Python counts (`ast.get_source_segment` splits the whole text on each call,
    # which the many registrations of one large module paid again and again).
    return re.split(r"\r\n|\r|\n", text)


def _first_segment_line(text: str, node: ast.AST) -> str | None:
    line, column = getattr(node, "lineno", None), getattr(node, "col_offset", None)
    end_line, end_column = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
    lines = _source_lines(text)
    if line is None or column is None or end_line is None or end_column is None or not 0 < line <= len(lines):
        return None
    encoded = lines[line - 1].encode()  # the offsets count UTF-8 bytes
    return (encoded[column:end_column] if end_line == line else encoded[column:]).decode()


# ------------------------------------------------------------------ listeners


@dataclass(frozen=True, slots=True)
class Listener:
    path: str
    line: int
    written: str  # the registering call's first line, as written
    target: str  # the target expression, as written
    ref: str | None  # the target resolved and canonical; None for a local or an expression
    identifier: str | None  # "connect", "before_flush"; None when not a literal
    scope: str | None  # "module.qualname" of the enclosing function; None at module level
    local: bool  # the target is a name local to that function
    handler: str  # the listening function, as written ("?" when not given)
    # The target is the enclosing function's parameter: (its name, position, default as written)
    param: tuple[str, int | None, str | None] | None = None
    # On a parameter whose calls are not all seen: why (what reaches it is unverified)
    unseen: str | None = None
    # On an element of a container (`SESSIONMAKERS["acme"]`, each `_maker` of `for _maker in
    # SESSIONMAKERS.values()`): the container as written, and the module-level dict it is, as a
    # canonical reference (None where phase two cannot name one: a call's result, a local)
    element: str | None = None
    table: str | None = None


def listeners(project: Project, texts: Texts, modules: Iterable[facts.Module]) -> Iterator[Listener]:
    """Every `event.listen(target, ...)` and `@event.listens_for(target, ...)` in `modules`; one
    whose target is a parameter of the function registering it (`def install(maker):
    event.listen(maker, ...)`) also once per call of that function, on what the call passes.

    Those on the sync engine, the sync sessionmaker or the Session subclass it makes never run for
    migrated routes (PRAGMA foreign_keys, before_flush normalisation): the async engine is another
    Engine and the async sessionmaker another factory, so AM270 blocks the stack. Listeners on the
    `Session` class itself and on mapped classes reach the async stack too (an AsyncSession runs a
    sync Session of class `sync_session_class`, `Session` by default) and are left, and so do a
    sessionmaker's (`SessionLocal.class_`, where SQLAlchemy puts them) when the async sessionmaker
    runs that class (`maker_listened`)."""
    modules = list(modules)
    for module in modules:
        found = texts.get(module.path, "listen")
        if found is None:
            continue
        text, tree = found
        for listener in _walk(project, module, text, tree.body, None, set(), ""):
            yield listener
            if listener.param is not None and listener.scope is not None:
                yield from _through_calls(project, texts, modules, listener)


def _through_calls(
    project: Project, texts: Texts, modules: list[facts.Module], listener: Listener
) -> Iterator[Listener]:
    """`install_listeners(SessionLocal)` calling `def install_listeners(maker): event.listen(maker,
    "after_commit", f)`: a listener on SessionLocal, named at the call. No call seen, or one
    handing the parameter what the tool cannot name (`install(make())`, `install(*targets)`): a
    listener whose target is unverified (`Listener.unseen`)."""
    assert listener.param is not None and listener.scope is not None
    name, position, default = listener.param
    function = listener.scope.rpartition(".")[2]
    seen, unread = 0, ""
    for module in modules:
        found = texts.get(module.path, function)
        if found is None:
            continue
        text, tree = found
        for node in ast.walk(tree):
            callee = dotted(node.func) if isinstance(node, ast.Call) else None
            if callee is None or project.canonical(absolute(module, callee)) != listener.scope:
                continue
            assert isinstance(node, ast.Call)
            given: ast.expr | None = next((k.value for k in node.keywords if k.arg == name), None)
            if given is None and position is not None and position < len(node.args):
                given = node.args[position]
            where = module
            seen += 1
            if given is None:
                if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                    unread = unread or f"`{first_line(text, node)}` ({module.path}:{node.lineno})"
                    continue  # `*args` / `**kwargs`: what reaches the parameter is unknown
                # Not passed: the default, read where the function is defined.
                where = project.modules.get(listener.scope.rpartition(".")[0], module)
            target = dotted(given) if given is not None else default
            if target is None:
                unread = unread or f"`{first_line(text, node)}` ({module.path}:{node.lineno})"
                continue
            yield Listener(
                module.path, node.lineno, first_line(text, node), target,
                project.canonical(absolute(where, target)), listener.identifier, None, False, listener.handler,
            )
    if not seen or unread:
        why = (
            f"no call of `{function}` is seen" if not seen
            else f"{unread} hands its parameter `{name}` what phase two cannot name"
        )
        yield Listener(
            listener.path, listener.line, listener.written, listener.target, None, listener.identifier,
            listener.scope, True, listener.handler, listener.param, why,
        )


def _walk(
    project: Project, module: facts.Module, text: str, nodes: Iterable[ast.AST], scope: str | None,
    local: set[str], prefix: str, loops: Mapping[str, tuple[str, ast.expr, ast.expr]] | None = None,
) -> Iterator[Listener]:
    loops = dict(loops or {})
    for child in nodes:
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in child.decorator_list:
                for found in _walk(project, module, text, [decorator], scope, local, prefix, loops):
                    yield found if found.handler != "?" else _with_handler(found, child.name)
            qualname = f"{prefix}{child.name}"
            names = {a.arg for a in ast.walk(child.args) if isinstance(a, ast.arg)}
            names |= {n.id for n in ast.walk(child) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            params = function_params(child) if not prefix else {}  # a module-level function's, called by name
            inner = {name: loop for name, loop in loops.items() if name not in names}
            for found in _walk(
                project, module, text, child.body, f"{module.name}.{qualname}", names, qualname + ".", inner,
            ):
                if found.local and found.target in params:
                    found = _replace_param(found, (found.target, *params[found.target]))
                yield found
        elif isinstance(child, ast.ClassDef):
            yield from _walk(project, module, text, child.body, scope, local, f"{prefix}{child.name}.", loops)
        else:
            yield from _walk_node(project, module, text, child, scope, local, loops)
            inner = {**loops, **_loop_bindings(child)} if isinstance(child, (ast.For, ast.AsyncFor)) else loops
            yield from _walk(project, module, text, ast.iter_child_nodes(child), scope, local, prefix, inner)


def _loop_bindings(loop: ast.For | ast.AsyncFor) -> dict[str, tuple[str, ast.expr, ast.expr]]:
    """What each name a `for` binds stands for, with the expression looped over: "display", each
    element of a tuple or list display (the display); "values", each value of a container
    (`T.values()`, `T`, the second of `k, v in T.items()`: the container); "unread" for anything
    else."""
    target, iterated = loop.target, loop.iter
    if isinstance(iterated, ast.Call) and isinstance(iterated.func, ast.Name) and iterated.func.id in (
        "list", "tuple", "sorted"
    ) and len(iterated.args) == 1:
        iterated = iterated.args[0]
    method, receiver = bare_method_call(iterated) or ("", iterated)
    if isinstance(target, ast.Name):
        if isinstance(iterated, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in iterated.elts):
            return {target.id: ("display", iterated, loop.iter)}
        if method == "values" or (not method and isinstance(iterated, (ast.Name, ast.Attribute))):
            return {target.id: ("values", receiver, loop.iter)}
    elif method == "items" and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(
        target.elts[1], ast.Name
    ):
        found = {n.id: ("unread", loop.iter, loop.iter) for n in ast.walk(target.elts[0]) if isinstance(n, ast.Name)}
        return {**found, target.elts[1].id: ("values", receiver, loop.iter)}
    return {n.id: ("unread", loop.iter, loop.iter) for n in ast.walk(target) if isinstance(n, ast.Name)}


def bare_method_call(node: ast.expr) -> tuple[str, ast.expr] | None:
    """`T.values()`, a method called with no arguments: (the method, its receiver); else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args and not node.keywords:
        return node.func.attr, node.func.value
    return None


def _walk_node(
    project: Project, module: facts.Module, text: str, node: ast.AST, scope: str | None, local: set[str],
    loops: Mapping[str, tuple[str, ast.expr, ast.expr]] | None = None,
) -> Iterator[Listener]:
    if not isinstance(node, ast.Call) or not node.args:
        return
    callee = dotted(node.func)
    if callee is None or project.canonical(absolute(module, callee)) not in LISTEN:
        return
    target = node.args[0]
    looped = (loops or {}).get(target.id) if isinstance(target, ast.Name) else None
    if looped is not None and looped[0] == "display":
        # `for maker in (SessionLocal, ReportingSession): event.listen(maker, ...)`: on each
        for element in looped[1].elts:  # type: ignore[attr-defined]
            each = copy.copy(node)
            each.args = [element, *node.args[1:]]
            yield from _walk_node(project, module, text, each, scope, local)
        return
    second = node.args[1] if len(node.args) > 1 else None
    identifier = second.value if isinstance(second, ast.Constant) and isinstance(second.value, str) else None
    handler = ast.unparse(node.args[2]) if len(node.args) > 2 else "?"
    container = looped[1] if looped is not None and looped[0] == "values" else None
    if container is None and looped is None:
        looked_up = table_lookup(target)
        container = target.value if isinstance(target, ast.Subscript) else (
            target.func.value if looked_up is not None else None  # type: ignore[attr-defined]
        )
    if looped is not None or container is not None:
        element = ast.unparse(looped[2]) if looped is not None else ast.unparse(target)
        name = dotted(container) if container is not None else None
        table = None
        if name is not None and name.split(".")[0] not in local:
            table = project.canonical(absolute(module, name)) or absolute(module, name)
        yield Listener(
            module.path, node.lineno, first_line(text, node), ast.unparse(target), None, identifier, scope, False,
            handler, element=element, table=table,
        )
        return
    name = dotted(target)
    is_local = name is not None and name.split(".")[0] in local
    ref = project.canonical(absolute(module, name)) if name is not None and not is_local else None
    if scope is not None and ref is not None:
        # in a function, a name it imports itself (`from db import engine as bind`), as the facts resolved it
        ref = next((project.canonical(t) for _, t, _, _, line in module.listens if line == node.lineno), ref)
    yield Listener(
        module.path, node.lineno, first_line(text, node), ast.unparse(target), ref, identifier, scope, is_local,
        handler,
    )


def function_params(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, tuple[int | None, str | None]]:
    """A function's parameters: name -> (position, or None for keyword-only; default as written)."""
    args = function.args
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    found: dict[str, tuple[int | None, str | None]] = {
        a.arg: (i, dotted(d) if d is not None else None) for i, (a, d) in enumerate(zip(positional, defaults))
    }
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        found[a.arg] = (None, dotted(d) if d is not None else None)
    return found


def _replace_param(found: Listener, param: tuple[str, int | None, str | None]) -> Listener:
    return Listener(
        found.path, found.line, found.written, found.target, found.ref, found.identifier, found.scope,
        found.local, found.handler, param, element=found.element, table=found.table,
    )


def _with_handler(found: Listener, name: str) -> Listener:
    return Listener(
        found.path, found.line, "@" + found.written.lstrip("@"), found.target, found.ref, found.identifier,
        found.scope, found.local, name, found.param, element=found.element, table=found.table,
    )


# ------------------------------------------------------------- maker tables

MAKERS = "<makers>"  # a table of sessionmakers, sync or async, in normalised statements


def maker_table(
    project: Project, texts: Texts, module: facts.Module, name: str, makers: frozenset[str]
) -> bool:
    """Whether `name`, read in `module`, is a module-level dict of sessionmakers, one per tenant
    or shard (`{t: sessionmaker(bind=tenant_engine(t)) for t in TENANTS}`, or a display), each
    built by a call in `makers` (the sync or the async constructors)."""
    if "." in name:
        return False
    where, attribute = module, name
    if name in module.imports:
        ref = module.imports[name]
        home, _, attribute = ref.rpartition(".")
        found = project.modules.get(home)
        if found is None:
            return False
        where = found
    parsed = texts.get(where.path, attribute)
    if parsed is None:
        return False
    value = None
    for statement in parsed[1].body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == attribute for t in statement.targets
        ):
            value = statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and (
            statement.target.id == attribute
        ):
            value = statement.value
    if isinstance(value, ast.DictComp):
        built = [value.value]
    elif isinstance(value, ast.Dict) and value.values and None not in value.keys:
        built = list(value.values)
    else:
        return False

    def made(node: ast.expr) -> bool:
        callee = dotted(node.func) if isinstance(node, ast.Call) else None
        return callee is not None and project.canonical(absolute(where, callee)) in makers

    return all(made(node) for node in built)


def table_lookup(node: ast.expr | None) -> str | None:
    """The table a sessionmaker is looked up in: `T[key]`, `T.get(key)`; its name, else None."""
    if isinstance(node, ast.Subscript):
        return dotted(node.value)
    if (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
        and len(node.args) == 1 and not node.keywords
    ):
        return dotted(node.func.value)
    return None


# ----------------------------------------------------------- provider extras


@dataclass(frozen=True, slots=True)
class Extra:
    path: str
    line: int
    written: str
    normalised: str  # the statement with the session's name replaced and awaits dropped
    label: str = ""  # "parameter " for a parameter
    note: str = ""  # why a `with` on a project `@contextmanager` opener is not read as the opening
    place: str = ""  # where in the dependency it runs (`statement_place`); "" for a parameter


def function_node(texts: Texts, module: facts.Module, function: facts.Function) -> tuple[str, ast.AST] | None:
    found = texts.get(module.path)
    if found is None:
        return None
    text, tree = found
    node = expired_lists.function_node(tree, function)
    return (text, node) if node is not None else None


def provider_extras(
    project: Project, texts: Texts, module: facts.Module, function: facts.Function,
    _seen: frozenset[FunctionId] = frozenset(),
) -> list[Extra] | None:
    """What a session dependency does beyond opening, yielding, committing, rolling back and
    closing its session: each other statement, and each parameter other than a maker it
    opens. None when its text cannot be read (the caller cannot show it does nothing more).

    The shapes the generated dependency reproduces: open from the sessionmaker, `yield`, commit /
    rollback / close, a scoped_session's `remove()`, `try` / `except` / `finally` around them.
    Anything else left behind changes behaviour (`db.info["tenant"] = ...` dropped means a query
    filter keyed on it stops filtering): AM271 blocks the stack."""
    found = function_node(texts, module, function)
    if found is None:
        return None
    text, node = found
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    received = received_sessions(project, module, function)
    reader = _read_provider(project, texts, module, function, text, node, set(received))
    params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    params += [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
    extras = [
        Extra(module.path, arg.lineno, first_line(text, arg), f"param:{arg.arg}", "parameter ")
        for arg in params
        if arg.arg not in reader.openers_used and arg.arg != reader.instance and arg.arg not in received
    ]
    extras += reader.extras
    # The Session it receives was opened by that provider: what it does there is done for this
    # dependency's routes too.
    seen = {(module.name, function.key)} | set(_seen)
    for upstream in sorted(set(received.values()) - seen):
        above = provider_extras(project, texts, *project.functions[upstream], _seen=frozenset(seen))
        if above is None:
            return None
        extras += above
    return extras


def received_sessions(project: Project, module: facts.Module, function: facts.Function) -> dict[str, FunctionId]:
    """A session dependency's parameters injected by another session dependency
    (`db: Session = Depends(get_db)` in `get_tenant_db`, which sets `db.info` and returns it): name ->
    that provider. Such a parameter is the opening, not more work per request."""
    from async_migrate.codemods.phase2.dependencies import dependency_function

    found = {}
    for param in function.params:
        provider = dependency_function(project, project.param_dependency(param))
        if provider is not None and provider != (module.name, function.key) and provider in project.session_dependencies:
            found[param.name] = provider
    return found


def held_opening(
    project: Project, texts: Texts, module: facts.Module, function: facts.Function
) -> tuple[str, int] | None:
    """`session = self.factory()` in a `__call__` session dependency (`get_db =
    SessionDependency(SessionLocal)`): the opening call as written and its line, or None."""
    reader = _provider_of(project, texts, module, function)
    return reader.held_opened if reader is not None else None


def app_state_maker(
    project: Project, texts: Texts, module: facts.Module, function: facts.Function
) -> str | None:
    """`request.app.state.sessionmaker` when a session dependency opens its Session from what its
    `Request` parameter's application keeps on its state, as written; None otherwise."""
    reader = _provider_of(project, texts, module, function)
    return reader.app_state if reader is not None else None


def _provider_of(project: Project, texts: Texts, module: facts.Module, function: facts.Function) -> _Provider | None:
    found = function_node(texts, module, function)
    if found is None:
        return None
    text, node = found
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    return _read_provider(project, texts, module, function, text, node)


def _read_provider(
    project: Project, texts: Texts, module: facts.Module, function: facts.Function, text: str,
    node: ast.FunctionDef | ast.AsyncFunctionDef, received: set[str] | None = None,
) -> _Provider:
    reader = _Provider(project, module, text, texts)
    reader.sessions |= received or set()
    reader.fid = (module.name, function.key)
    reader.root = node
    if _instance_method(project, module, function) and node.args.args:
        # FastAPI calls the instance (or its bound method, `Depends(container.session)`): what it
        # holds (`self.factory`) may be the sessionmaker, when what its call gives is what the
        # dependency hands out
        reader.instance = node.args.args[0].arg
        reader.statements(node.body, top=True)
        if reader.held_opened is None or not reader.held_names & reader.handed:
            reader = _Provider(project, module, text, texts)
            reader.sessions |= received or set()
            reader.fid = (module.name, function.key)
            reader.root = node
            reader.statements(node.body, top=True)
        return reader
    reader.statements(node.body, top=True)
    return reader


def _instance_method(project: Project, module: facts.Module, function: facts.Function) -> bool:
    """A `__call__`, or a plain method of a project class (not a static or class method)."""
    if function.qualname.endswith(".__call__"):
        return True
    owner = project.flow.classes.owner((module.name, function.key))
    return owner is not None and not any(
        d.callee in ("staticmethod", "classmethod", "builtins.staticmethod", "builtins.classmethod")
        for d in function.decorators
    )


class _Provider:
    def __init__(self, project: Project, module: facts.Module, text: str, texts: Texts) -> None:
        self.project, self.module, self.text, self._texts = project, module, text, texts
        self.sessions: set[str] = set()
        self.openers_used: set[str] = set()
        self.extras: list[Extra] = []
        self.tables: set[str] = set()  # module-level dicts of sessionmakers it looks a maker up in
        self.aliases: set[str] = set()  # locals holding the sessionmaker looked up
        # the last opening read passed arguments to a sessionmaker (`SessionLocal(bind=...)`):
        # the session it opens is the session, but the generated dependency would open it without them
        self.argued = False
        # a `__call__` dependency's first parameter, and a call of what that instance holds
        # (`self.factory()`) read as the opening, as written with its line
        self.instance: str | None = None
        self.held_opened: tuple[str, int] | None = None
        self.handed: set[str] = set()  # names yielded or returned
        self.held_calls: set[int] = set()  # the `self.factory()` calls read as openings
        self.held_names: set[str] = set()  # the names they were assigned to (`with ... as`, `=`)
        self.fid: FunctionId | None = None  # the provider read, whose `Request` parameter opens from app state
        self.app_state: str | None = None  # `request.app.state.sessionmaker`, the first such opening read
        self.notes: dict[int, str] = {}  # a `with` statement -> why the opener it enters is no opening
        self.call_notes: dict[int, str] = {}  # an opener's call -> why, for its arguments, it is no opening
        self.with_items: set[int] = set()  # the calls a `with` statement enters
        self.pending: set[str] = set()  # names set to None before they open a Session
        self.root: ast.FunctionDef | ast.AsyncFunctionDef | None = None  # the dependency read

    def _flag(self, statement: ast.stmt, opening: ast.expr | None = None) -> None:
        """The statement as more work; with `opening`, only that opening of the Session with arguments
        of its own (`db = SessionLocal(bind=tenant_engine(t))`, `with maker(info=...) as db:`), which an
        async dependency opening its AsyncSession with the same arguments covers, whichever way it is written."""

        def text_of(node: ast.AST) -> str:
            return normalise(node, self.sessions, self.tables, stack_names(self.project, self.module, node, self._texts))

        place = statement_place(self.root, statement, text_of, self.sessions) if self.root is not None else ""
        self.extras.append(Extra(
            self.module.path, statement.lineno, first_line(self.text, statement),
            OPENS + text_of(opening) if opening is not None else text_of(statement),
            note=self.notes.get(id(statement), ""), place=place,
        ))

    def _lookup(self, node: ast.expr | None) -> bool:
        """`T[key]` / `T.get(key)` on a module-level dict of sessionmakers: a sessionmaker."""
        table = table_lookup(node)
        if table is None or not maker_table(self.project, self._texts, self.module, table, SYNC_SESSIONMAKERS):
            return False
        self.tables.add(table)
        return True

    def _opens(self, node: ast.expr | None) -> bool:
        """`maker()`, `maker.begin()`, `Session(engine)`, `session.begin()`. Sets `argued` when
        it passes arguments to a sessionmaker (a Session class takes its engine as one)."""
        self.argued = False
        if not isinstance(node, ast.Call):
            return False
        if self._lookup(node.func):
            return True  # `SessionLocals[tenant]()`
        name = dotted(node.func)
        if name is None:
            return False
        if name in self.aliases:
            # `maker = SessionLocals.get(tenant)` or `maker = request.app.state.sessionmaker`, then `maker()`
            self.argued = bool(node.args or node.keywords)
            return True
        head, _, rest = name.partition(".")
        if head in self.sessions and rest == "begin":
            return True
        if self._state_maker(node.func):
            # `request.app.state.sessionmaker()`: the sessionmaker an application factory keeps on the
            # application's state; which database it reaches is the configuration's word (AM243)
            self.argued = bool(node.args or node.keywords)
            return True
        if head == self.instance and rest.isidentifier():
            self.held_opened = self.held_opened or (f"{name}()", node.lineno)
            self.held_calls.add(id(node))
            self.argued = bool(node.args or node.keywords)
            return True
        opener = self._scope_opener(name)
        if opener is not None:
            # `with session_scope() as s:` on an opener phase two twins: its body is only the
            # lifecycle of a Session opened from the sessionmaker, what the generated dependency does
            # (its commit is read where the dependency's is, `async_stack._commits_on_exit`)
            self.argued = bool(node.args or node.keywords)
            return True
        if self._entered_with_constants(name, node):
            return True
        if not node.args and not node.keywords and self.project.opener_maker(absolute(self.module, name)):
            self.argued = False  # `db = get_api_session()`, which only returns `SessionLocal()`
            return True
        if self.project.is_sessionmaker(absolute(self.module, name)):
            self.openers_used.add(head)
            if self.project.is_sync_session_type(absolute(self.module, name)):
                self.argued = _session_class_argued(node)
            else:
                self.argued = bool(node.args or node.keywords)
            return True
        return False

    def _state_maker(self, node: ast.expr | None) -> bool:
        """`request.app.state.<name>` on the provider's connection parameter: records the
        parameter as the opener's and the first such name read."""
        name = dotted(node) if isinstance(node, ast.Attribute) else None
        head, _, rest = (name or "").partition(".")
        if not (rest.startswith("app.state.") and rest.count(".") == 2 and self._request(head)):
            return False
        self.openers_used.add(head)
        self.app_state = self.app_state or name
        return True

    def _scope_opener(self, name: str) -> FunctionId | None:
        return scope_opener(self.project, absolute(self.module, name))

    def _entered_with_constants(self, name: str, node: ast.Call) -> bool:
        """`with create_session(scoped=False) as s:`: an opener taking parameters whose body, for
        these constant arguments, is only a new Session's lifecycle (`opener_calls`). Otherwise
        the reason is kept for the `with` statement's note."""
        fid = parameter_opener(self.project, absolute(self.module, name))
        if fid is None or id(node) not in self.with_items:
            return False  # called outside a `with`, it hands out the context manager, not a Session
        module, function = self.project.functions[fid]
        found = function_node(self._texts, module, function)
        if found is None or not isinstance(found[1], ast.FunctionDef):
            return False
        problem = opener_calls.specialise(self.project, module, found[0], found[1], node)
        if problem is not None:
            self.call_notes[id(node)] = (
                f"`{name}` is a `@contextmanager` opener phase two does not read as only its Session's lifecycle "
                f"when entered as `{first_line(self.text, node)}`: {problem}"
            )
            return False
        self.argued = False
        return True

    def _request(self, name: str) -> bool:
        """Whether `name` is the provider's parameter FastAPI hands the connection in (`request: Request`)."""
        return self.fid is not None and self.project.flow.request_param(self.fid, name)

    def _scoped(self, name: str) -> bool:
        target = self.project.resolve(absolute(self.module, name))
        value = target.value if target is not None else None
        return value is not None and self.project.canonical(value.ref) in SCOPED_SESSION_MAKERS

    def statements(self, body: list[ast.stmt], top: bool = False, handler: bool = False) -> None:
        for index, statement in enumerate(body):
            if index == 0 and top and _docstring(statement):
                continue
            if not self._allowed(statement, handler):
                self._flag(statement)

    def _allowed(self, statement: ast.stmt, handler: bool) -> bool:
        if isinstance(statement, ast.Pass):
            return True
        if isinstance(statement, ast.Raise):
            return statement.exc is None  # a bare re-raise; raising anything else is behaviour
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            # item by item: `with maker() as s, s.begin():` opens s, then begins on it
            argued: list[ast.expr] = []
            for item in statement.items:
                self.with_items.add(id(item.context_expr))
                if not self._opens(item.context_expr):
                    note = self.call_notes.get(id(item.context_expr)) or _opener_note(
                        self.project, self.module, item.context_expr
                    )
                    if note:
                        self.notes[id(statement)] = note
                    return False
                if self.argued:
                    argued.append(item.context_expr)
                if isinstance(item.optional_vars, ast.Name):
                    self.sessions.add(item.optional_vars.id)
                    if id(item.context_expr) in self.held_calls:
                        self.held_names.add(item.optional_vars.id)
                elif item.optional_vars is not None:
                    return False
            if any(not isinstance(item.optional_vars, ast.Name) for item in statement.items if item.context_expr in argued):
                return False
            for opening in argued:
                self._flag(statement, opening)
            self.statements(statement.body)
            return True
        if isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and self._opens(statement.value):
                self.sessions.add(targets[0].id)
                if id(statement.value) in self.held_calls:
                    self.held_names.add(targets[0].id)
                if self.argued and statement.value is not None:
                    self._flag(statement, statement.value)
                return True
            called = dotted(statement.value.func) if isinstance(statement.value, ast.Call) else None
            problem = self.project.opener_problem(absolute(self.module, called)) if called else None
            if called and self.project.builds_maker(absolute(self.module, called)):
                problem = (f"`{called}` builds a new sessionmaker on each call: there is no module-level one "
                           "the async sessionmaker could stand beside")
            if problem is not None:
                self.notes[id(statement)] = problem
            if isinstance(statement, ast.Assign) and _is_none(statement.value) and isinstance(targets[0], ast.Name):
                # `db = None` before the `try` that opens it, so the `finally` can test it
                self.pending.add(targets[0].id)
                return len(targets) == 1
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and self._lookup(statement.value):
                # choosing the tenant's sessionmaker is behaviour the async dependency must repeat
                # (flagged), but what it then opens is the session
                self.aliases.add(targets[0].id)
            elif len(targets) == 1 and isinstance(targets[0], ast.Name) and self._state_maker(statement.value):
                # `maker = request.app.state.sessionmaker`, then `with maker() as session:`: the same
                # opening as `request.app.state.sessionmaker()`, in two statements
                self.aliases.add(targets[0].id)
                return True
            return False
        if isinstance(statement, ast.Return):
            value = statement.value
            if isinstance(value, ast.Name):
                self.handed.add(value.id)
            return isinstance(value, ast.Name) and value.id in self.sessions or self._opens(value)
        if isinstance(statement, ast.Expr):
            value = statement.value
            if isinstance(value, ast.Yield):
                if isinstance(value.value, ast.Name):
                    self.handed.add(value.value.id)
                return isinstance(value.value, ast.Name) and value.value.id in self.sessions
            if isinstance(value, ast.Await):
                value = value.value
            if isinstance(value, ast.Call) and not value.args and not value.keywords:
                name = dotted(value.func)
                head, _, method = (name or "").partition(".")
                # commit only where it runs when the request succeeded: the generated
                # dependency never commits the work of a request that failed
                if head in self.sessions and method in _ENDS_SESSION and not (handler and method == "commit"):
                    return True
                # `Scoped.remove()` on the scoped_session it opened from closes that session, as
                # leaving the generated dependency's `async with` does
                if method == "remove" and head in self.openers_used and self._scoped(head):
                    return True
            if (
                isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords
                and isinstance(value.args[0], ast.Name) and value.args[0].id in self.sessions
                and (name := dotted(value.func)) is not None and self.project.closes_only(absolute(self.module, name))
            ):
                return True  # `close_session(db)`, which only calls `db.close()`
            return False
        if (
            isinstance(statement, ast.If) and not statement.orelse and isinstance(statement.test, ast.Name)
            and statement.test.id in self.sessions & self.pending
        ):
            # `if db:` in the `finally`: whether the opening ran, for `db = None` before it
            self.statements(statement.body, handler=handler)
            return True
        if isinstance(statement, (ast.Try, ast.TryStar)):
            self.statements(statement.body)
            self.statements(statement.orelse)
            for except_handler in statement.handlers:
                self.statements(except_handler.body, handler=True)
            self.statements(statement.finalbody, handler=True)
            return True
        return False


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def scope_opener(project: Project, ref: str) -> FunctionId | None:
    """The project `@contextmanager` opener `ref` names when phase two twins it (`scope_openers`),
    or None."""
    fid = scope_openers.named(project, ref)
    if fid is None or not scope_openers.is_opener(project, fid):
        return None
    return fid if scope_openers.problem(project, fid) is None else None


def parameter_opener(project: Project, ref: str) -> FunctionId | None:
    """The project `@contextmanager` opener `ref` names when it takes parameters and is otherwise
    what phase two reads as an opener (decorated with `@contextmanager` alone, handed no
    Session): whether a call of it is only a Session's lifecycle is `opener_calls.specialise`'s
    question, asked with the call's arguments. None otherwise."""
    target = project.resolve(ref)
    if target is None or target.kind != "function" or target.module is None or target.function is None:
        return None
    fid = (target.module.name, target.function.key)
    if fid not in project.functions:
        return None
    function = target.function
    if not function.params or not function.is_generator or function.is_async or "." in function.qualname:
        return None
    if [project.canonical(d.callee) for d in function.decorators] != [scope_openers.CONTEXTMANAGER]:
        return None
    if any(p.name in project.session_params[fid] for p in function.params):
        return None
    return fid


def _opener_note(project: Project, module: facts.Module, node: ast.expr) -> str:
    """Why `node`, a call of a project `@contextmanager` generator (`create_session(scoped=False)`),
    is not read as opening the dependency's Session; "" when it calls none, or phase two cannot say."""
    name = dotted(node.func) if isinstance(node, ast.Call) else None
    if name is None:
        return ""
    ref = absolute(module, name)
    fid = scope_openers.named(project, ref)
    if fid is None or not scope_openers.entered_by_code(project, fid):
        return ""
    problem = scope_openers.problem(project, fid)
    if problem is None:
        return ""
    return f"`{name}` is a `@contextmanager` opener phase two does not read as only its Session's lifecycle: {problem}"


def _session_class_argued(node: ast.Call) -> bool:
    """`Session(engine, info=...)`, `Session(bind=engine.execution_options(...))`: a Session
    class given more than its engine by name (the stack phase two derives from it binds the
    async engine and nothing else; `expire_on_commit=` is decided on its own)."""
    rest = list(node.args[1:]) + [k.value for k in node.keywords if k.arg not in ("bind", "expire_on_commit")]
    bound = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "bind"), None)
    # `Session(make_engine())`: an engine factory is the engine question (AM230 names it), not
    # more work per request.
    factory = isinstance(bound, ast.Call) and not bound.args and not bound.keywords
    return bool(rest) or (bound is not None and not isinstance(bound, ast.Name) and not factory)


def _docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def normalise(
    node: ast.AST, sessions: set[str], tables: Iterable[str] = (), names: Mapping[str, str] | None = None
) -> str:
    """A statement as text with the session's own name, the table of sessionmakers it is
    opened from (sync or async), the module-level sessionmakers and engines it names (`names`,
    see `stack_names`) and `await` out of the way, to find the same statement in an async
    dependency that names them otherwise."""
    text = ast.unparse(node)
    for name in sessions:
        text = re.sub(rf"\b{re.escape(name)}\b", "<session>", text)
    for name in tables:
        text = re.sub(rf"(?<![\w.]){re.escape(name)}\b", MAKERS, text)
    for name, placeholder in (names or {}).items():
        text = re.sub(rf"(?<![\w.<]){re.escape(name)}\b(?!>)", placeholder, text)
    text = re.sub(r"\basync\s+(?=with\b|for\b)", "", text)
    return re.sub(r"\bawait\s+", "", text)


def stack_names(
    project: Project, module: facts.Module, node: ast.AST, texts: Texts | None = None
) -> dict[str, str]:
    """Names in `node` that stand for a module-level sessionmaker (`<maker>`) or engine
    (`<engine>`), sync or async: `SessionLocal(bind=engine.execution_options(...))` and
    `async_sessionmaker_(bind=async_engine.execution_options(...))` read the same. So do
    SQLAlchemy's `Session` and `AsyncSession` (`<Session>`), and, given the module `texts`, a
    module-level dict of engines built one per tenant (`<engines>`):
    `Session(bind=ENGINES[tenant])` and `AsyncSession(bind=ASYNC_ENGINES[tenant])`. Which
    database each tenant's async engine reaches is not read here: an async dependency beside a
    stack of no one engine is reused only where the configuration names it (AM243)."""
    found: dict[str, str] = {}
    for child in ast.walk(node):
        if not isinstance(child, ast.Name) or child.id in found:
            continue
        if project.canonical(absolute(module, child.id)) in _SESSION_CLASSES:
            found[child.id] = "<Session>"
            continue
        if texts is not None and maker_table(project, texts, module, child.id, ENGINE_CONSTRUCTORS):
            found[child.id] = tenant_binds.table_token(project, texts, module, child.id)
            continue
        derived = tenant_binds.derivation(project, texts, module, child.id) if texts is not None else None
        if derived is not None:
            # the tenant's engine picked through a function or a dict deriving it from one engine:
            # the same choice when defined the same way, whatever each is called
            found[child.id] = derived.token
            continue
        target = project.resolve(absolute(module, child.id))
        value = target.value if target is not None else None
        if value is None or value.kind != "call":
            continue
        callee = project.canonical(value.ref)
        if callee in SYNC_SESSIONMAKERS or callee in ASYNC_SESSIONMAKERS:
            found[child.id] = "<maker>"
        elif callee in ENGINE_CONSTRUCTORS:
            found[child.id] = "<engine>"
    return found


# SQLAlchemy's Session and AsyncSession, each opened on an engine (not SQLModel's, whose `exec` differs).
_SESSION_CLASSES = frozenset({
    "sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session",
    "sqlalchemy.ext.asyncio.AsyncSession", "sqlalchemy.ext.asyncio.session.AsyncSession",
})


def body_statements(
    node: ast.FunctionDef | ast.AsyncFunctionDef, sessions: set[str], tables: Iterable[str] = (),
    project: Project | None = None, module: facts.Module | None = None, texts: Texts | None = None,
) -> dict[tuple[str, str], int]:
    """Every statement of a function, at any depth, normalised, with where it runs
    (`statement_place`): (place, statement) -> its line."""

    def text_of(child: ast.AST) -> str:
        names = stack_names(project, module, child, texts) if project is not None and module is not None else None
        return normalise(child, sessions, tables, names)

    found: dict[tuple[str, str], int] = {}
    for child in ast.walk(node):
        if isinstance(child, ast.stmt) and child is not node:
            place = statement_place(node, child, text_of, sessions)
            found.setdefault((place, text_of(child)), child.lineno)
            for opening in _openings(child, sessions):
                found.setdefault((place, OPENS + text_of(opening)), child.lineno)
    return found


# what an opening of the Session with arguments of its own reads as (`_Provider._flag`)
OPENS = "open "


def _openings(statement: ast.stmt, sessions: set[str]) -> Iterator[ast.expr]:
    """The calls a statement opens a session with: `async with maker(bind=...) as db:`,
    `db = maker(bind=...)`."""
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        for item in statement.items:
            if isinstance(item.optional_vars, ast.Name) and item.optional_vars.id in sessions:
                yield item.context_expr
    elif (
        isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id in sessions and isinstance(statement.value, (ast.Call, ast.Await))
    ):
        yield statement.value


@lru_cache(maxsize=64)
def _parents(root: ast.AST) -> dict[int, tuple[ast.AST, str]]:
    """Each node under `root` -> its parent and the field holding it."""
    found: dict[int, tuple[ast.AST, str]] = {}
    for parent in ast.walk(root):
        for name, value in ast.iter_fields(parent):
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    found[id(child)] = (parent, name)
    return found


def statement_place(
    root: ast.FunctionDef | ast.AsyncFunctionDef, statement: ast.stmt, text_of: Callable[[ast.AST], str],
    sessions: set[str],
) -> str:
    """Where a statement of a session dependency runs: before or after its `yield`, under which
    conditions, loops, handlers and nested functions (`if <test>`, `except <type>`, `finally`,
    `def name`), as normalised text. A repeated statement does the same work only at the same
    place: `session.connection(execution_options=...)` under `if tenant == "acme":`, after the
    `yield` or in an `except` maps no schema for the route. The opening `with` (and a `with
    session.begin():`) and a `try` body run their statements as written around them, and add nothing."""
    parents = _parents(root)
    parts: list[str] = []
    node: ast.AST = statement
    while node is not root and id(node) in parents:
        parent, name = parents[id(node)]
        if parent is root:
            break
        if isinstance(parent, (ast.With, ast.AsyncWith)) and name == "body":
            if not all(_lifecycle_item(item, text_of, sessions) for item in parent.items):
                parts.append("with " + ", ".join(text_of(item.context_expr) for item in parent.items))
        elif isinstance(parent, (ast.Try, ast.TryStar)):
            if name not in ("body", "handlers"):  # a handler says `except <type>` itself
                parts.append({"orelse": "else", "finalbody": "finally"}.get(name, name))
        elif isinstance(parent, ast.ExceptHandler):
            parts.append("except " + (text_of(parent.type) if parent.type is not None else ""))
        elif isinstance(parent, ast.If):
            parts.append(("if " if name == "body" else "else of if ") + text_of(parent.test))
        elif isinstance(parent, (ast.For, ast.AsyncFor)):
            parts.append(("for " if name == "body" else "else of for ") + text_of(parent.iter))
        elif isinstance(parent, ast.While):
            parts.append(("while " if name == "body" else "else of while ") + text_of(parent.test))
        elif isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            parts.append("def " + getattr(parent, "name", "lambda"))
        elif isinstance(parent, ast.match_case):
            parts.append("case " + ast.unparse(parent.pattern))
        elif not isinstance(parent, (ast.Match, ast.With, ast.AsyncWith)):
            parts.append(type(parent).__name__)
        node = parent
    yields = [
        n.lineno for n in ast.walk(root) if isinstance(n, (ast.Yield, ast.YieldFrom))
        and not any(isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and p is not root
                    for p in _ancestors(parents, n, root))
    ]
    after = bool(yields) and min(yields) < statement.lineno
    return ("after the yield" if after else "") + "".join(f" > {p}" for p in reversed(parts))


def _ancestors(parents: Mapping[int, tuple[ast.AST, str]], node: ast.AST, root: ast.AST) -> Iterator[ast.AST]:
    while node is not root and id(node) in parents:
        node = parents[id(node)][0]
        yield node


def _lifecycle_item(item: ast.withitem, text_of: Callable[[ast.AST], str], sessions: set[str]) -> bool:
    """`with maker() as session` (the opening) or `with session.begin():`."""
    if isinstance(item.optional_vars, ast.Name) and item.optional_vars.id in sessions:
        return True
    return text_of(item.context_expr) == "<session>.begin()"


def place_described(place: str, phase: bool = True) -> str:
    """`statement_place` as the reason names it: `after the yield, under `if tenant == "acme"``
    (without `phase`, only what it runs under)."""
    where, _, nested = place.partition(" > ")
    parts = ["after the `yield`" if where else "before the Session is handed out"] if phase or not nested else []
    if nested:
        parts.append("under `" + nested.replace(" > ", "`, `") + "`")
    return ", ".join(parts)


def async_tables(project: Project, texts: Texts, module: facts.Module, node: ast.AST) -> set[str]:
    """The module-level dicts of async_sessionmakers an async dependency looks a maker up in."""
    return {
        table for child in ast.walk(node)
        if isinstance(child, ast.expr) and (table := table_lookup(child)) is not None
        and maker_table(project, texts, module, table, ASYNC_SESSIONMAKERS)
    }


def session_names(node: ast.AST, tables: set[str] | None = None) -> set[str]:
    """Names bound by `with ... as name` / `async with ... as name` in a function, or by a call;
    not those holding a sessionmaker looked up in one of `tables` (`maker = T.get(tenant)`)."""
    aliases = {
        child.targets[0].id for child in ast.walk(node)
        if isinstance(child, ast.Assign) and len(child.targets) == 1 and isinstance(child.targets[0], ast.Name)
        and table_lookup(child.value) in (tables or set())
    }
    return {
        item.optional_vars.id
        for child in ast.walk(node) if isinstance(child, (ast.With, ast.AsyncWith))
        for item in child.items if isinstance(item.optional_vars, ast.Name)
    } | {
        child.targets[0].id
        for child in ast.walk(node)
        if isinstance(child, ast.Assign) and len(child.targets) == 1 and isinstance(child.targets[0], ast.Name)
        and isinstance(child.value, (ast.Call, ast.Await)) and not _context_token(child.value)
    } - aliases


def _context_token(value: ast.expr) -> bool:
    """`token = request_session.set(session)`: a ContextVar's token, no Session (neither a Session
    nor a sessionmaker has a `set` method). Taken for one, the async dependency repeating the
    statement did not cover the synchronous one's."""
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "set"


# ------------------------------------------------------------------ overrides


@dataclass(frozen=True, slots=True)
class Override:
    path: str
    line: int
    written: str
    provider: str  # the overridden dependency's name, as written
    scope: str = ""  # the enclosing function (a fixture, say) by qualified name; "" at module level
    # The application whose overrides these are, as a project reference (`app.v2.app.v2_app`); ""
    # where the analysis cannot name it (`client.app`, a name for the mapping, a test's own app).
    app: str = ""
    owner: str = ""  # that application as written (`v2_app`)
    why: str = ""  # the key is unread (`unread_overrides`): why, and `provider` is ""


def covered(override: Override, by: Iterable[Override]) -> bool:
    """Whether one of `by` (overrides of the counterpart the migrated routes depend on) reaches
    where `override` does: made in the same place (the same fixture) or at module level, and on
    the same application. A mounted application (`app.mount("/v2", v2_app)`) looks its routes'
    overrides up in its own `dependency_overrides`, so an override on `app` leaves `v2_app`'s
    routes on the real dependency; an application the analysis cannot name matches any."""
    return any(
        (other.scope == "" or (other.path, other.scope) == (override.path, override.scope))
        and (not other.app or not override.app or other.app == override.app)
        for other in by
    )


def same_application(override: Override) -> str:
    """What an override note adds about where the counterpart's override goes."""
    if not override.app:
        return ""
    return (
        f" (on the same application, `{override.owner}.dependency_overrides`: a mounted application "
        "keeps overrides of its own)"
    )


def overrides(
    project: Project, texts: Texts, modules: Iterable[facts.Module], providers: set[str]
) -> Iterator[Override]:
    """`x.dependency_overrides[dep] = ...` and `x.dependency_overrides.update({dep: ...})` where
    `dep` resolves to one of `providers` (canonical references), also through a helper's
    parameter or a loop (`override_keys`: the override stands where the helper is called).
    Tests included: an override no longer applies to routes that depend on the async
    dependency, so a follow-up names each."""
    from async_migrate.codemods.phase2 import override_keys as keyed

    imports: dict[str, dict[str, dict[str, str]]] = {}
    for key in keyed.sites(project, texts, modules):
        if not isinstance(key, keyed.Key):
            continue
        name = dotted(key.expr)
        if name is None:
            continue
        module = key.module
        if module.path not in imports:
            found = texts.get(module.path)
            imports[module.path] = local_imports(module, found[1], function_scopes(found[1])) if found else {}
        imported = imports[module.path]
        local = imported_in(imported, key.scope, name)
        ref = local or absolute(module, name)
        if project.canonical(ref) in providers or _bound_method(project, ref) in providers:
            owner = key.owner
            yield Override(
                module.path, getattr(key.node, "lineno", 0), first_line(key.text, key.node), name,
                key.scope, _application(project, module, imported, key.scope, owner) if owner else "", owner or "",
            )


def unread_overrides(project: Project, texts: Texts, modules: Iterable[facts.Module]) -> Iterator[Override]:
    """Writes into a `dependency_overrides` mapping whose key phase two cannot tell, which may
    override the synchronous session dependency: `provider` is "", `why` says what is unread."""
    from async_migrate.codemods.phase2 import override_keys as keyed

    for unread in keyed.sites(project, texts, modules):
        if isinstance(unread, keyed.Unread):
            yield Override(unread.path, unread.line, unread.written, "", unread.scope, why=unread.why)


def override_owner(node: ast.AST) -> str | None:
    """The application whose `dependency_overrides` `node` writes, as written (`v2_app` in
    `v2_app.dependency_overrides[get_db] = ...`, `setattr(v2_app, "dependency_overrides", {...})`);
    None where the mapping is reached through a name of its own."""
    if isinstance(node, ast.Call) and len(node.args) >= 3 and isinstance(node.args[1], ast.Constant) and (
        node.args[1].value == "dependency_overrides"
    ):
        return dotted(node.args[0])
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute) and child.attr == "dependency_overrides":
            return dotted(child.value)
    return None


def _application(
    project: Project, module: facts.Module, imported: dict[str, dict[str, str]], scope: str, owner: str
) -> str:
    """The project application `owner` names at module level of the application's code (`from
    app.main import app` in a conftest), as its reference; "" for anything else."""
    target = project.resolve(imported_in(imported, scope, owner) or absolute(module, owner))
    if target is None or target.kind != "value" or target.module is None or is_test_path(target.module.path):
        return ""
    return target.ref


def _bound_method(project: Project, ref: str) -> str | None:
    """The method `ref` names through an instance (`container.get_service` for a module-level
    `container = Container()`), as `module.Class.method`; None for anything else."""
    from async_migrate.codemods.flow import INSTANCE
    from async_migrate.codemods.phase2.dependencies import dependency_function

    fid = dependency_function(project, ref) if "." in ref else None
    if fid is None:
        # A twin method phase two has yet to write (`container.get_service_async`), through the
        # instance's one class.
        prefix, _, attribute = ref.rpartition(".")
        made = {v.target for v in project.flow.ref(prefix) if v.kind == INSTANCE} if prefix else set()
        if len(made) != 1:
            return None
        return f"{made.pop()}.{attribute}"
    module, function = project.functions[fid]
    named = f"{module.name}.{function.qualname}"
    return named if "." in function.qualname and project.canonical(ref) != named else None


@dataclass(frozen=True, slots=True)
class Redirect:
    path: str
    line: int
    written: str
    target: str  # the stack piece's own name (`SessionLocal`)
    scope: str = ""  # the test function (a fixture) it is in, "" at module level


def redirects(
    project: Project, texts: Texts, modules: Iterable[facts.Module], pieces: set[str]
) -> Iterator[Redirect]:
    """Where the tests point one of `pieces` (canonical references of module-level sessionmakers
    and engines) at another value, as tests redirect a stack to their database without a
    dependency override: `monkeypatch.setattr(app.db, "SessionLocal", Testing)` or with the dotted
    string, `mock.patch("app.db.SessionLocal", ...)` (a call, a `with`, a decorator),
    `mocker.patch(...)`, `patch.object(db_module, "engine", ...)`, `setattr(...)`, `app.db.SessionLocal = Testing`, and
    `SessionLocal.configure(bind=connection)`. Test modules only: the application's own
    `configure(bind=...)` is what the stack is (`configure_bind.py`). They change nothing the
    async stack opens: a follow-up names each, as for an override."""
    if not pieces:
        return
    names = {p.rpartition(".")[2] for p in pieces}
    for module in modules:
        if not is_test_path(module.path):
            continue
        found = next((f for name in sorted(names) if (f := texts.get(module.path, name)) is not None), None)
        if found is None:
            continue
        text, tree = found
        scopes = function_scopes(tree)
        resolve = _resolver(module, local_imports(module, tree, scopes), scopes)
        for node in ast.walk(tree):
            for ref in _redirected(node, resolve):
                canonical = project.canonical(ref) or ref
                if canonical in pieces:
                    yield Redirect(
                        module.path, getattr(node, "lineno", 0), first_line(text, node), ref.rpartition(".")[2],
                        scopes.get(id(node), ""),
                    )


def _resolver(
    module: facts.Module, imported: dict[str, dict[str, str]], scopes: dict[int, str]
) -> Callable[[str, ast.AST], str]:
    """A name written at a node of `module`, as a reference: through the imports of the function
    around the node, or the module's own."""

    def resolve(name: str, node: ast.AST) -> str:
        return imported_in(imported, scopes.get(id(node), ""), name) or absolute(module, name)

    return resolve


def _redirected(node: ast.AST, resolve: Callable[[str, ast.AST], str]) -> list[str]:
    """The module-level names `node` rebinds from outside their module, as references."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [
            f"{resolve(owner, node)}.{t.attr}" for t in targets
            if isinstance(t, ast.Attribute) and (owner := dotted(t.value)) is not None
        ]
    if not isinstance(node, ast.Call):
        return []
    func, args = dotted(node.func) or "", node.args
    last = func.rpartition(".")[2]
    strings = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in args]
    if last == "configure" and isinstance(node.func, ast.Attribute) and any(k.arg == "bind" for k in node.keywords):
        receiver = dotted(node.func.value)
        return [resolve(receiver, node)] if receiver is not None else []
    if last == "patch" or (last == "setattr" and len(args) == 2):
        # the dotted string names the module by its full name, as the patcher imports it
        return [strings[0]] if strings and strings[0] and "." in strings[0] else []
    if (last == "setattr" or func.endswith("patch.object")) and len(args) >= 2 and strings[1]:
        owner = dotted(args[0])
        return [f"{resolve(owner, node)}.{strings[1]}"] if owner is not None else []
    return []


def override_keys(
    node: ast.AST, displays: Mapping[str, list[ast.Dict]], aliases: frozenset[str] = frozenset()
) -> list[ast.expr]:
    """The dependencies `node` puts into a `dependency_overrides` mapping, however it is written:
    `overrides[dep] = f`; the mapping assigned whole (`app.dependency_overrides = {dep: f}`) or
    merged (`|= {dep: f}`); `.update({dep: f})`, `.setdefault(dep, f)`, `.__setitem__(dep, f)`;
    pytest's `monkeypatch.setitem(app.dependency_overrides, dep, f)` and `mock.patch.dict(
    app.dependency_overrides, {dep: f})`; the attribute replaced whole, `monkeypatch.setattr(app,
    "dependency_overrides", {dep: f})` or `mock.patch.object(app, "dependency_overrides", {...})`.
    A dict named by a module-level or local name (`OVERRIDES = {dep: f}` ... `.update(OVERRIDES)`)
    is read from its display, and a name that is the mapping itself (`aliases`: `ov =
    app.dependency_overrides` ... `ov[dep] = f`, or `app.dependency_overrides = OVERRIDES` ...
    `OVERRIDES[dep] = f`) is written to as the mapping is."""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        keys = [t.slice for t in targets if isinstance(t, ast.Subscript) and is_overrides(t.value, aliases)]
        whole = isinstance(node, ast.Assign) or (
            isinstance(node, ast.AugAssign) and isinstance(node.op, ast.BitOr)
        ) or (isinstance(node, ast.AnnAssign) and node.value is not None)
        if whole and node.value is not None and any(
            isinstance(t, (ast.Attribute, ast.Name)) and is_overrides(t, aliases) for t in targets
        ):
            keys += dict_keys(node.value, displays)
        return keys
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return []
    attr, args = node.func.attr, node.args
    if is_overrides(node.func.value, aliases):
        if attr == "update":
            return [k for arg in args for k in dict_keys(arg, displays)]
        if attr in ("setdefault", "__setitem__") and args:
            return [args[0]]
        return []
    if (attr == "setattr" or dotted(node.func) in ("patch.object", "mock.patch.object", "unittest.mock.patch.object")) and (
        len(args) >= 3 and isinstance(args[1], ast.Constant) and args[1].value == "dependency_overrides"
    ):
        return dict_keys(args[2], displays)
    if not args or not is_overrides(args[0], aliases):
        return []
    if attr == "setitem" and len(args) > 1:  # monkeypatch.setitem(mapping, key, value)
        return [args[1]]
    if attr == "dict":  # patch.dict(mapping, values), as a context manager or a decorator
        values = [*args[1:2], *(k.value for k in node.keywords if k.arg == "values")]
        return [k for value in values for k in dict_keys(value, displays)]
    return []


def dict_keys(value: ast.expr, displays: Mapping[str, list[ast.Dict]]) -> list[ast.expr]:
    """The keys of a dict display, `dict({...})`, or a name bound to displays in the module."""
    if isinstance(value, ast.Dict):
        keys = [k for k in value.keys if k is not None]
        # `{**BASE, dep: f}`: the unpacked mapping's keys too
        keys += [k for v, k0 in zip(value.values, value.keys) if k0 is None for k in dict_keys(v, displays)]
        return keys
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr):
        return dict_keys(value.left, displays) + dict_keys(value.right, displays)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict" and value.args:
        return dict_keys(value.args[0], displays)
    if isinstance(value, ast.Name):
        return [k for display in displays.get(value.id, []) for k in dict_keys(display, {})]
    return []


def dict_displays(tree: ast.Module) -> dict[str, list[ast.Dict]]:
    """Name -> the dict displays assigned to it anywhere in the module (`OVERRIDES = {get_db: f}`)."""
    found: dict[str, list[ast.Dict]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
    return found


def local_imports(module: facts.Module, tree: ast.Module, scopes: dict[int, str]) -> dict[str, dict[str, str]]:
    """Function -> name -> reference for the imports made inside a function (`from app.db import
    get_db` in a fixture): an override keyed by such a name is as real as one at module level."""
    found: dict[str, dict[str, str]] = {}
    package = module.name if module.path.endswith("__init__.py") else module.name.rpartition(".")[0]
    for node in ast.walk(tree):
        scope = scopes.get(id(node))
        if scope is None:
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                found.setdefault(scope, {})[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(scope, {})[alias.asname or alias.name.partition(".")[0]] = (
                    alias.name if alias.asname else alias.name.partition(".")[0]
                )
    return found


def imported_in(imported: dict[str, dict[str, str]], scope: str, name: str) -> str | None:
    """`name` resolved through the imports of `scope` or a function around it, if one binds its head."""
    head, _, rest = name.partition(".")
    while scope:
        base = imported.get(scope, {}).get(head)
        if base is not None:
            return f"{base}.{rest}" if rest else base
        scope = scope.rpartition(".")[0]
    return None


def function_scopes(tree: ast.Module) -> dict[int, str]:
    """id(node) -> the qualified name of the innermost function around it (absent at module level)."""
    scopes: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = f"{prefix}{child.name}"
                visit(child, inner + ".", inner if not isinstance(child, ast.ClassDef) else scope)
            else:
                if scope:
                    scopes[id(child)] = scope
                visit(child, prefix, scope)

    visit(tree, "", "")
    return scopes


def override_aliases(tree: ast.Module) -> frozenset[str]:
    """Names bound anywhere in the module to the `dependency_overrides` mapping itself, either way
    round (`ov = app.dependency_overrides`; `app.dependency_overrides = OVERRIDES`), or by a pytest
    fixture returning or yielding it (a test's parameter of that name): what is written into them
    is written into the application's overrides. Read module-wide, as the dict
    displays are: a name only some function binds so still counts everywhere, which at worst
    reads an override that is not one (a refusal to write, never a missed override)."""
    pairs: list[tuple[ast.expr, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            pairs += [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            pairs.append((node.target, node.value))
    found: set[str] = set()
    for node in ast.walk(tree):
        # a fixture handing out the mapping: the tests taking it by name write into it
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            isinstance(inner, (ast.Return, ast.Yield)) and inner.value is not None and is_overrides(inner.value)
            for inner in ast.walk(node)
        ):
            found.add(node.name)
    grew = True
    while grew:  # `a = app.dependency_overrides; b = a` chains
        grew = False
        for target, value in pairs:
            for name, other in ((target, value), (value, target)):
                if isinstance(name, ast.Name) and name.id not in found and is_overrides(other, frozenset(found)):
                    found.add(name.id)
                    grew = True
    return frozenset(found)


def is_overrides(node: ast.expr, aliases: frozenset[str] = frozenset()) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "dependency_overrides") or (
        isinstance(node, ast.Name) and (node.id == "dependency_overrides" or node.id in aliases)
    )


# --------------------------------------------------------------------- checks


@dataclass(slots=True)
class SyncStack:
    """The synchronous stack the async one replaces, as canonical references."""

    engines: set[str]  # the engines the sessionmakers are bound to
    factories: set[str]  # "module.qualname" of project functions that build those engines
    makers: set[str]  # the sessionmakers (and scoped_session objects around them)
    classes: set[str]  # project Session subclasses the sessionmakers make (class_= and its bases)
    carried: set[str]  # Session classes whose class-level listeners do reach the async sessions
    async_engine: str | None  # the reused async engine, whose `.sync_engine` a listener may be on
    # Dicts of sessionmakers the routes' session dependencies pick from (`SESSIONMAKERS[tenant]`)
    tables: set[str] = field(default_factory=set)
    # Those whose sessionmakers' classes the async sessionmakers run (`sync_session_class=
    # SESSIONMAKERS[t].class_` in the async dict the reused async dependency picks from)
    carried_tables: set[str] = field(default_factory=set)

    def target(self, ref: str | None) -> str:
        """What a listener registered on `ref` listens to. A sessionmaker's listeners go on the
        Session subclass it made, `SessionLocal.class_`, and a scoped_session's on its factory's,
        `Scoped.session_factory`: each stands for that sessionmaker."""
        current = ref or ""
        while current.rpartition(".")[2] in _FACTORY_ATTRIBUTES:
            current = current.rpartition(".")[0]
            if current in self.makers:
                return current
        return ref or ""


# The attributes of a sessionmaker or scoped_session that name the factory behind it.
_FACTORY_ATTRIBUTES = frozenset({"class_", "session_factory"})


def listener_blockers(
    project: Project, texts: Texts, modules: Iterable[facts.Module], stack: SyncStack, async_names: tuple[str, str],
    in_tests: Callable[[str], bool],
) -> tuple[list[tuple[str, int, str]], list[str]]:
    """AM270: listeners on the synchronous engine or sessionmaker that the async stack would not
    run (`async_names`: the async engine and async_sessionmaker, as the fix names them). Those in
    test code (`in_tests`) only change how the tests run: follow-ups, not blockers."""
    found = list(listeners(project, texts, modules))
    blockers = []
    notes = []
    for listener in found:
        if listener.element is not None:
            blocker = _element_blocker(project, texts, listener, stack, async_names, in_tests)
            if blocker is not None:
                blockers.append((listener.path, listener.line, blocker))
            continue
        if listener.unseen is not None:
            if (
                not in_tests(listener.path) and listener.identifier not in MODEL_EVENTS
                and not _on_session_param(project, listener)
            ):
                blockers.append((listener.path, listener.line, _unseen(listener, async_names)))
            continue
        if (
            listener.ref is None and not listener.local and not in_tests(listener.path)
            and not _NAMED.fullmatch(listener.target) and listener.identifier not in MODEL_EVENTS | _DDL_EVENTS
        ):
            blockers.append((listener.path, listener.line, _unnamed(listener, async_names)))
            continue
        if in_tests(listener.path):
            note = _test_listener(listener, stack, async_names)
            if note is not None:
                notes.append(note)
            continue
        ref = stack.target(listener.ref)
        if ref in stack.engines or any(ref.startswith(e + ".") for e in stack.engines) or (
            listener.local and listener.scope in stack.factories
        ):
            if stack.async_engine is not None and any(
                _same_listener(project, other, listener) and other.ref is not None
                and other.ref.endswith(".sync_engine")
                and project.canonical(other.ref.removesuffix(".sync_engine")) == stack.async_engine
                for other in found
            ):
                continue  # registered on the reused async engine as well
            what = f"the synchronous engine `{listener.target}`"
            if listener.local:
                what += " its factory builds"
            blockers.append((listener.path, listener.line, (
                f"`{listener.written}` registers {_event(listener)} listener on {what}; the async engine is "
                "another Engine and would never run it, so migrated routes would lose what it does: write the "
                f"async engine by hand and register the listener on it as well (`event.listen({async_names[0]}"
                f".sync_engine, {_quoted(listener)}, {listener.handler})`), then run phase two again, which "
                "reuses that engine"
            )))
        elif ref in stack.makers or ref in stack.classes:
            if ref in stack.carried or any(
                _same_listener(project, other, listener) and stack.target(other.ref) in stack.carried for other in found
            ):
                continue  # also registered on a Session class the async sessions are instances of
            what = "sessionmaker" if ref in stack.makers else "Session class"
            blockers.append((listener.path, listener.line, (
                f"`{listener.written}` registers {_event(listener)} listener on the synchronous {what} "
                f"`{listener.target}`; the sessions of {async_names[1]} run another Session class "
                "and would never run it, so migrated routes would lose what it does: give the async_sessionmaker "
                "(written by hand where phase two cannot generate it beside that sessionmaker) "
                "`sync_session_class=` the class the sessionmaker makes (its `.class_`, "
                "`.session_factory.class_` on a scoped_session), which carries the listener, or register the "
                "listener on the `Session` class instead (it then runs for every Session, async ones "
                "included), then run phase two again"
            )))
    return blockers, notes


def _element_blocker(
    project: Project, texts: Texts, listener: Listener, stack: SyncStack, async_names: tuple[str, str],
    in_tests: Callable[[str], bool],
) -> str | None:
    """A listener on an element of a container (`SESSIONMAKERS["acme"]`, each of `for m in
    SESSIONMAKERS.values()`): on a dict of sessionmakers the routes' dependencies pick from, lost
    unless the async sessionmakers run their classes; on one no route picks from, left alone; on
    a container phase two cannot read, unverified. Mapper, attribute and table events (a loop over
    the models) are no Session's."""
    if in_tests(listener.path) or listener.identifier in MODEL_EVENTS | _DDL_EVENTS:
        return None
    table = listener.table
    if table is not None and table in stack.tables:
        if table in stack.carried_tables:
            return None
        name = table.rpartition(".")[2]
        return (
            f"`{listener.written}` registers {_event(listener)} listener on "
            + f"each sessionmaker of `{name}`" + (f" (`{listener.element}`)" if listener.element != name else "")
            + ", the sessionmakers the routes' session dependency picks from; SQLAlchemy keeps "
            f"it on the Session class each of them makes (`{name}[key].class_`), which the sessions of "
            "the migrated routes' AsyncSessions do not run, so they would lose what it does: build each "
            "async_sessionmaker "
            f"the async dependency picks from with `sync_session_class={name}[key].class_` for the same key "
            f"(`{{t: async_sessionmaker(async_engines[t], sync_session_class={name}[t].class_, ...) for t in ...}}`, "
            "written by hand, which phase two then reuses), or register the listener on the `Session` class "
            "instead (it then runs for every Session, async ones included), then run phase two again"
        )
    if table is not None and _maker_table_ref(project, texts, table):
        return None  # a dict of sessionmakers no route's dependency picks from
    return (
        f"`{listener.written}` registers {_event(listener)} listener on `{listener.target}`, an element of "
        f"`{listener.element}`, which phase two cannot read as a dict of sessionmakers, so whether it is the "
        "synchronous engine or a sessionmaker the routes' dependencies open (or the class it makes) is unverified; "
        f"if it is, the async stack ({async_names[0]}, {async_names[1]}) would never run the listener and migrated "
        "routes would lose what it does: register it on the module-level names it stands for, or on the `Session` "
        "class, then run phase two again"
    )


def _maker_table_ref(project: Project, texts: Texts, ref: str) -> bool:
    """`ref` names a module-level dict of sessionmakers, sync or async."""
    owner, _, name = ref.rpartition(".")
    module = project.modules.get(owner)
    return module is not None and any(
        maker_table(project, texts, module, name, makers) for makers in (SYNC_SESSIONMAKERS, ASYNC_SESSIONMAKERS)
    )


def maker_listened(project: Project, texts: Texts, modules: Iterable[facts.Module], stack: SyncStack) -> bool:
    """A listener is registered on the synchronous sessionmaker (or on the class it makes,
    `SessionLocal.class_`, or a scoped_session around it): its sessions run it. One in test code
    counts too, so the tests of migrated routes run it as the application's sessions do."""
    return any(stack.target(listener.ref) in stack.makers for listener in listeners(project, texts, modules))


# A target written as a (dotted) name, which the listener's module resolves.
_NAMED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# Events of a Table or MetaData: no engine, sessionmaker or Session is their target.
_DDL_EVENTS = frozenset({
    "before_create", "after_create", "before_drop", "after_drop", "before_parent_attach",
    "after_parent_attach", "column_reflect",
})


def _unnamed(listener: Listener, async_names: tuple[str, str]) -> str:
    return (
        f"`{listener.written}` registers {_event(listener)} listener on `{listener.target}`, an expression "
        "phase two does not follow, so whether it is the synchronous engine or sessionmaker (or the class "
        f"the sessionmaker makes) is unverified; if it is, the async stack ({async_names[0]}, "
        f"{async_names[1]}) would never run the listener and migrated routes would lose what it does: "
        "register it on the module-level name it stands for (the engine, the sessionmaker) or on the "
        "`Session` class, then run phase two again"
    )


def _on_session_param(project: Project, listener: Listener) -> bool:
    """The listener's target is a parameter declared (or handed) a Session, such as a route's
    `db: DbSession`: a Session, never the engine or sessionmaker the async stack stands for.
    Registering on it is judged where the route migrates (an AsyncSession takes no listener)."""
    if listener.param is None or listener.scope is None:
        return False
    module = next((m for m in project.modules.values() if m.path == listener.path), None)
    if module is None or not listener.scope.startswith(module.name + "."):
        return False
    fid = (module.name, listener.scope[len(module.name) + 1:])
    return listener.param[0] in project.session_params.get(fid, {})


def _unseen(listener: Listener, async_names: tuple[str, str]) -> str:
    assert listener.param is not None and listener.scope is not None
    function = listener.scope.rpartition(".")[2]
    return (
        f"`{listener.written}` in `{function}` registers {_event(listener)} listener on its parameter "
        f"`{listener.param[0]}`, and {listener.unseen}, so whether it is the synchronous engine or "
        f"sessionmaker is unverified; if it is, the async stack ({async_names[0]}, {async_names[1]}) would "
        "never run the listener and migrated routes would lose what it does: register it on the `Session` "
        f"class or on `{async_names[0]}.sync_engine` as well, or call `{function}` with the name it "
        "registers on, then run phase two again"
    )


def _same_listener(project: Project, one: Listener, other: Listener) -> bool:
    """The same function listening for the same event: registered on the async stack too, what
    `one` does still happens. Another function for that event (an `after_commit` on `Session`
    beside one on the sessionmaker) does something else, and the sessionmaker's is lost."""
    if one.identifier is None or one.identifier != other.identifier or "?" in (one.handler, other.handler):
        return False
    return _handler_ref(project, one) == _handler_ref(project, other)


def _handler_ref(project: Project, listener: Listener) -> str:
    module = next((m for m in project.modules.values() if m.path == listener.path), None)
    if module is None:
        return f"{listener.path}:{listener.handler}"
    return project.canonical(absolute(module, listener.handler)) or f"{listener.path}:{listener.handler}"


def blocking_listeners(
    project: Project, texts: Texts, modules: Iterable[facts.Module], stack: SyncStack,
    in_tests: Callable[[str], bool],
) -> list[tuple[str, int, str]]:
    """AM283: listeners the migrated routes run whose function opens a synchronous Session or does
    synchronous Session work of its own: under an AsyncSession they run on the event loop. Those on
    a Session class the async sessions run (`Session`, or the subclass kept as
    `sync_session_class=`), and those on a mapped class, one of its attributes or every mapper
    (`before_insert`, `load`, `set`): the AsyncSession's flush and loads, and the route's own
    attribute writes, run them as they ran the synchronous Session's."""
    by_path = {m.path: m for m in project.modules.values()}
    found = []
    for listener in listeners(project, texts, modules):
        module = by_path.get(listener.path)
        if in_tests(listener.path) or module is None or listener.ref is None or listener.handler == "?":
            continue
        if stack.target(listener.ref) not in stack.carried and not model_target(project, listener.ref):
            continue
        handler = handler_function(project, module, listener)
        if handler is None:
            unread = _unread_handler(project, module, listener)
            if unread is not None:
                found.append((listener.path, listener.line, unread))
            continue
        fid = (handler[0].name, handler[1].key)
        opens, works = project.opens_session(fid), project.work_chains.get(fid)
        if not (opens or works) or handler[1].is_async:
            continue
        what = (
            f"opens a synchronous Session of its own (through {' -> '.join(opens)})" if opens
            else f"does synchronous Session work of its own ({' -> '.join(works or [])})"
        )
        instead = (
            "the Session the listener receives (`session.add(...)` in `before_commit` or `before_flush`)"
            if stack.target(listener.ref) in stack.carried else
            "the connection a mapper event receives (`connection.scalar(select(...))` in `before_insert`), "
            "the flush's own, or on the object's Session in a Session listener"
        )
        found.append((listener.path, listener.line, (
            f"`{listener.written}` registers `{listener.handler}` on `{listener.target}`, which the async sessions "
            f"run too, inside each AsyncSession call on the event loop; it {what}, which would block the event "
            f"loop on every migrated route: do that work on {instead}, or hand "
            "it to a worker thread or a queue, then run phase two again"
        )))
    return found


def handler_function(
    project: Project, module: facts.Module, listener: Listener
) -> tuple[facts.Module, facts.Function] | None:
    """The function a listener runs. In a registering function's body, a def nested in it
    (`setup_events.<locals>.audit`) or a name it imports itself, as the facts resolved it
    (`Module.listens`, by line), before a module-level name."""
    if listener.scope is not None:
        nested = project.function(f"{listener.scope}.<locals>.{listener.handler}")
        if nested is not None:
            return nested
        resolved = next((
            handler for _, _, _, handler, line in module.listens if line == listener.line and handler != "?"
        ), None)
        found = project.function(resolved) if resolved is not None else None
        if found is not None:
            return found
    return project.function(absolute(module, listener.handler))


# A write's attribute listeners the model analysis judges (AM247 where it cannot read them).
_WRITE_EVENTS = frozenset({"set", "append", "remove", "bulk_replace", "modified"})


def _unread_handler(project: Project, module: facts.Module, listener: Listener) -> str | None:
    """A listener the async sessions run whose function is no project function the tool reads (a
    bound method of an instance, a lambda), and no library's: what it does is unverified."""
    if listener.identifier in _WRITE_EVENTS:
        return None
    target = project.resolve(absolute(module, listener.handler))
    if target is not None and target.kind == "external":
        return None
    return (
        f"`{listener.written}` registers `{listener.handler}` on `{listener.target}`, which the async sessions "
        "run too, inside each AsyncSession call on the event loop; phase two cannot read what that function "
        "does, so whether it opens a synchronous Session or does Session work of its own, blocking the event "
        "loop on every migrated route, is unverified: register a module-level function instead (phase two "
        "reads it), then run phase two again"
    )


# Every mapper's events: `event.listen(Mapper, "before_insert", f)`.
_MAPPERS = frozenset({"sqlalchemy.orm.Mapper", "sqlalchemy.orm.mapper.Mapper", "sqlalchemy.orm.mapper"})


def model_target(project: Project, ref: str) -> bool:
    """`ref` names a project class that is no Session (a mapped class, its declarative base), an
    attribute of one (`Order.status`), or every mapper."""
    if project.canonical(ref) in _MAPPERS:
        return True
    classes = project_classes(project)
    found = classes.resolve(ref) or classes.resolve(ref.rpartition(".")[0])
    if found is None:
        return False
    return not any(
        project.is_sync_session_type(base) or project.is_sessionmaker(base)
        for cls in classes.mro(found) for base in classes.by_ref[cls][1].bases
    ) and not project.is_sync_session_type(found)


def _test_listener(listener: Listener, stack: SyncStack, async_names: tuple[str, str]) -> str | None:
    ref = stack.target(listener.ref)
    if ref in stack.engines or any(ref.startswith(e + ".") for e in stack.engines):
        where = (
            f"the synchronous engine `{listener.target}`; the async engine does not run it",
            f"register it on `{async_names[0]}.sync_engine` as well",
        )
    elif (ref in stack.makers or ref in stack.classes) and ref not in stack.carried:
        where = (
            f"the synchronous sessionmaker `{listener.target}`; the sessions of {async_names[1]} do not run it",
            "register it on the `Session` class instead",
        )
    else:
        return None
    return (
        f"{listener.path}:{listener.line}: `{listener.written}` in test code registers {_event(listener)} "
        f"listener on {where[0]}, so the tests of migrated routes run without it: {where[1]}"
    )


def _event(listener: Listener) -> str:
    return f'a "{listener.identifier}"' if listener.identifier else "an"


def _quoted(listener: Listener) -> str:
    return f'"{listener.identifier}"' if listener.identifier else "..."


def provider_blockers(
    project: Project, texts: Texts, providers: list[tuple[facts.Module, facts.Function]],
    reused: tuple[facts.Module, facts.Function] | None, async_dependency: str,
) -> list[tuple[str, int, str]]:
    """AM271: session dependencies that do more than the async dependency would. A reused async
    dependency that repeats a statement (the session's name aside) or takes the same parameter
    covers it."""
    covered: dict[tuple[str, str], int] = {}
    params: set[str] = set()
    if reused is not None:
        found = function_node(texts, *reused)
        if found is None:
            return []  # an async dependency the user wrote and the tool cannot read: theirs
        node = found[1]
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        tables = async_tables(project, texts, reused[0], node)
        covered = body_statements(node, session_names(node, tables), tables, project, reused[0], texts)
        params = {f"param:{a.arg}" for a in ast.walk(node.args) if isinstance(a, ast.arg)}
    blockers = []
    for module, function in providers:
        extras = provider_extras(project, texts, module, function)
        where = f"`{function.qualname}`"
        if extras is None:
            blockers.append((module.path, function.line, (
                f"phase two cannot read the session dependency {where}, so it cannot show that the async "
                f"dependency `{async_dependency}` would do all it does: write the async dependency by hand"
            )))
            continue
        missing = [e for e in extras if e.normalised not in params and (e.place, e.normalised) not in covered]
        shared = registry_blocker(project, (module.name, function.key), async_dependency)
        if shared is not None:
            blockers.append((module.path, function.line, shared))
            continue
        held = held_opening(project, texts, module, function) if reused is None and not missing else None
        if held is not None:
            # Open / yield / commit on a maker the instance holds: the generated dependency would
            # need the sessionmaker behind it, which the tool does not follow there.
            what = "the `__call__` of an instance FastAPI calls" if function.qualname.endswith(".__call__") else (
                "a method of an instance, which FastAPI calls bound"
            )
            blockers.append((module.path, function.line, (
                f"the session dependency {where} is {what}, and opens "
                f"its Session through `{held[0]}` ({module.path}:{held[1]}), a sessionmaker its instance "
                f"holds that phase two does not follow to an engine, so it cannot generate the async "
                f"dependency `{async_dependency}`: write it by hand (an `async_sessionmaker` on the same "
                "database, opening, yielding and committing as this one does), then run phase two again (it "
                "reuses it), or make the session dependency a plain function opening the module-level "
                "sessionmaker"
            )))
            continue
        if not missing:
            continue
        joined = [
            (name, written) for name, written in connection_dependencies(project, (module.name, function.key))
            if f"param:{name}" in {e.normalised for e in missing}
        ]
        if joined:
            name, written = joined[0]
            blockers.append((module.path, function.line, (
                f"the session dependency {where} opens its Session on the request's synchronous Connection "
                f"`{name}` (`{written}`), which FastAPI hands every route and dependency naming it: their "
                "Connection work and the Session's work are one transaction, which an AsyncSession cannot "
                "join, and moving either alone would commit them apart: move that Connection dependency and "
                "this session dependency to the async engine together by hand (`async with "
                "async_engine.begin() as conn: yield conn`, an `AsyncSession(bind=conn)` on it), with every "
                "route using either, then run phase two again"
            )))
            continue
        variable = _context_variable_handed_out(project, module, function)
        if variable is not None:
            name, set_at = variable
            blockers.append((module.path, function.line, (
                f"the session dependency {where} hands out the Session the context variable `{name}` holds "
                f"for each request (set at {set_at}), not one it opens: the async dependency "
                f"`{async_dependency}` would open a second Session beside it, and what the route's helpers "
                "do through the variable would commit apart from the route's work: open the request's "
                "AsyncSession where the variable is set (in a context variable of its own, handed out by an "
                "async dependency), then run phase two again, or give the routes a dependency that opens "
                "their Session"
            )))
            continue
        doing = "reused" if reused is not None else "generated"
        differs = _bind_mismatch(project, texts, module, function, reused, async_dependency) if reused is not None else ""
        listed = "; ".join(
            f"{e.path}:{e.line} {e.label}`{e.written}`" + (f", where {e.note}" if e.note else "")
            + _elsewhere(e, covered, reused, async_dependency)
            for e in missing
        )
        if reused is None:
            fix = "write the async dependency by hand with the same statements and parameters, then run phase two again (it reuses it)"
        else:
            # The reused one is compared statement by statement: naming it in a configuration changes
            # nothing, and a second one written by hand is reused only where the configuration names it.
            fix = (
                f"`{async_dependency}` covers a statement by repeating it at the same place (before or after the "
                "`yield`, under the same conditions; the Session's name, `async` and `await` aside) and a parameter "
                "by taking it: repeat each there, or write another async dependency that "
                "does and run phase two on this subsystem with a configuration (`--config`) naming it as "
                "`async-dependency` and its `Annotated` alias as `async-alias`"
            )
        blockers.append((module.path, function.line, (
            f"the session dependency {where} does more per request than open, yield and commit its session "
            f"({listed}); the {doing} async dependency `{async_dependency}` would not, and every migrated route "
            f"would lose it: {differs}{fix}, or move that work out of the session dependency"
        )))
    return blockers


def _elsewhere(
    extra: Extra, covered: Mapping[tuple[str, str], int], reused: tuple[facts.Module, facts.Function] | None,
    async_dependency: str,
) -> str:
    """`, which `get_async_db` repeats at db.py:12 but after the yield`: the same statement at
    another place, where it does not run as it does here; empty when it is not repeated at all."""
    if reused is None:
        return ""
    found = sorted((line, place) for (place, normalised), line in covered.items() if normalised == extra.normalised)
    if not found:
        return ""
    line, place = found[0]
    phase = place.partition(" > ")[0] != extra.place.partition(" > ")[0]
    return (
        f", which `{async_dependency}` repeats at {reused[0].path}:{line} but {place_described(place, phase)}, "
        f"where this one runs {place_described(extra.place)}"
    )


def _bind_mismatch(
    project: Project, texts: Texts, module: facts.Module, function: facts.Function,
    reused: tuple[facts.Module, facts.Function], async_dependency: str,
) -> str:
    """Where the session dependency and the reused async one bind their Sessions to differently
    chosen engines (another function, dict, key or options): both binds, with what each reads, so
    that the difference is named rather than the whole opening statement; empty otherwise."""
    found, other = function_node(texts, module, function), function_node(texts, *reused)
    if found is None or other is None:
        return ""
    sync = tenant_binds.opening_binds(project, texts, module, found[1], text=found[0])
    async_ = tenant_binds.opening_binds(project, texts, reused[0], other[1], sync=False, text=other[0])
    if not sync or not async_:
        return ""

    def read(bind: tenant_binds.Bind, where: facts.Module) -> str:
        node = ast.parse(bind.written, mode="eval").body
        return normalise(node, set(), (), stack_names(project, where, node, texts))

    if read(sync[0], module) == read(async_[0], reused[0]):
        return ""  # the same choice: what differs is elsewhere in the statement
    return (
        f"the Session is bound differently: `{function.qualname}` opens it with {sync[0].described(module.path)}, "
        f"`{async_dependency}` with {async_[0].described(reused[0].path)}, not the same choice of the tenant's "
        "engine (the same function or dict, key and options, on the async twin of the same engine), so a "
        "request could reach another tenant's schema: "
    )


def _context_variable_handed_out(
    project: Project, module: facts.Module, function: facts.Function
) -> tuple[str, str] | None:
    """A session dependency returning or yielding what a `ContextVar` holds for each request
    (`return db_session.get()`, `yield current_session()`): the variable's name and where it is
    set (`path:line`, every place), or None."""
    fid = (module.name, function.key)
    for expression in (*function.returned, *function.yielded):
        variable = request_context_variable(project, fid, expression)
        if variable is not None:
            where = sorted({
                f"{project.functions[setter][0].path}:{made.line}"
                for setter, made in project.context_variable_sets.get(variable, ())
            })
            return variable.rpartition(".")[2], ", ".join(where)
    return None


_STATE_READ = re.compile(r"^(?:return|yield)\s+\w+\.state\.(\w+)$")


def request_state_blockers(
    project: Project, texts: Texts, providers: list[tuple[facts.Module, facts.Function]], async_dependency: str
) -> list[tuple[facts.Module, facts.Function, str]]:
    """AM264: session dependencies that hand out the Session a middleware (or another dependency)
    opened on the request's state (`return request.state.db`) instead of opening one, each with
    its reason. A generated async dependency would open a second Session beside it for every
    migrated request that reaches one: AM264 blocks those routes, naming the middleware."""
    blockers = []
    for module, function in providers:
        extras = provider_extras(project, texts, module, function) or []
        for extra in extras:
            match = _STATE_READ.match(extra.written)
            if match is None or not any(v.kind == SESSION for v in project.flow.request_state(match.group(1))):
                continue
            attribute = match.group(1)
            # one assignment per line: a nested middleware's is listed under its enclosing function too
            by_line: dict[tuple[str, int], tuple[str, str]] = {}
            for fid, _head, expression, line in project.flow.state_assignments().get(attribute, []):
                opener_module, opener = project.functions[fid]
                known = by_line.get((opener_module.path, line))
                if known is None or len(opener.qualname) > len(known[0]):
                    by_line[opener_module.path, line] = (opener.qualname, project.written(expression))
            openers = [
                f"`{qualname}` ({path}:{line}: `request.state.{attribute} = {expression}`)"
                for (path, line), (qualname, expression) in sorted(by_line.items())
            ]
            blockers.append((module, function, (
                f"the session dependency `{function.qualname}` does not open a Session: it returns the one "
                f"{' and '.join(openers) or 'other code'} open{'s' if len(openers) < 2 else ''} on the request's state (`{extra.written}`); the "
                f"async dependency `{async_dependency}` would open a second Session beside it, so a migrated "
                "request would hold two, each with its own transaction and connection, and what the request's "
                "Session does (code reading the state, a context variable holding it, the opener's close) would "
                "miss the async one: open an AsyncSession where the Session is opened (the middleware: "
                f"`request.state.{attribute}` as an AsyncSession on the async stack, with an async dependency "
                "returning it), or have a dependency open and yield the routes' Session instead of the middleware"
            )))
            break
    return blockers


def application_overrides(
    project: Project, texts: Texts, modules: Iterable[facts.Module], providers: set[str], async_dependency: str,
    async_ref: str | None,
) -> list[tuple[str, int, str]]:
    """AM328: each `dependency_overrides[<sync provider>]` in the application's own code (not its
    tests), which the migrated routes would bypass in production; none once the application
    overrides the async dependency too."""
    modules = [m for m in modules if not is_test_path(m.path)]
    if async_ref is not None and any(overrides(project, texts, modules, {async_ref})):
        return []
    found = [(o.path, o.line, (
        f"the application writes into `dependency_overrides` (`{o.written}`), and {o.why}, so whether it overrides "
        f"its session dependency is unverified; if it does, the migrated routes, depending on `{async_dependency}`, "
        f"would bypass that override: write the dependency itself as the key, and override `{async_dependency}` "
        "there too with an async counterpart of it"
    )) for o in unread_overrides(project, texts, modules)]
    for o in overrides(project, texts, modules, providers):
        found.append((o.path, o.line, (
            f"the application overrides its session dependency (`{o.written}`): every route's Session comes "
            f"from that override rather than `{o.provider}`, and the migrated routes, depending on "
            f"`{async_dependency}`, would bypass it (what it does per request, the database it opens): "
            f"override `{async_dependency}` there too with an async counterpart of it"
        )))
    return found


def override_notes(
    project: Project, texts: Texts, modules: Iterable[facts.Module], providers: set[str], async_dependency: str,
    async_ref: str | None,
) -> list[str]:
    """Follow-ups: each `dependency_overrides[<sync provider>]` the tests make, which migrated
    routes no longer reach (the application's own are `application_overrides`)."""
    modules = list(modules)
    # An override of the async dependency covers a sync one made in the same place (the same
    # fixture, say), or everywhere when made at module level. A fixture overriding only the sync
    # one still lets the migrated routes reach the application's database in the tests using it.
    async_overrides = list(overrides(project, texts, modules, {async_ref} if async_ref else set()))
    notes = _outside_transaction(texts, modules, async_overrides, async_dependency)
    for o in unread_overrides(project, texts, modules):
        if covered(o, async_overrides) or not is_test_path(o.path):
            continue
        notes.append(
            f"{o.path}:{o.line}: `{o.written}` writes into `dependency_overrides`, and {o.why}, so whether it "
            f"overrides the synchronous session dependency is unverified; if it does, the migrated routes, which "
            f"depend on `{async_dependency}`, would escape it and use the application's own database: override "
            f"`{async_dependency}` there as well (or write the dependency itself as the key), "
            + _async_override_advice(texts, o.path)
        )
    for o in overrides(project, texts, modules, providers):
        if covered(o, async_overrides) or not is_test_path(o.path):
            continue
        note = (
            f"{o.path}:{o.line}: `{o.written}` overrides the synchronous `{o.provider}`; the migrated routes depend "
            f"on `{async_dependency}` instead, so the override no longer reaches them (they would use the "
            f"application's own database): override `{async_dependency}` as well{same_application(o)}, "
        )
        notes.append(note + _async_override_advice(texts, o.path))
    return notes


def _outside_transaction(
    texts: Texts, modules: Iterable[facts.Module], async_overrides: list[Override], async_dependency: str
) -> list[str]:
    """Where the tests override the async dependency, but run each test in a transaction on one
    connection that they roll back, and no test module binds an AsyncSession to a connection: the
    override's AsyncSession is on a connection of its own. The migrated routes then neither see the
    rows a test adds through its synchronous Session (a user the test just made is unknown: 401) nor
    are rolled back with it (their commits stay in the test database). An AsyncSession bound to an
    async connection anywhere in the tests (`AsyncSession(bind=conn, ...)`) is taken as the
    override's: which fixture hands which session to the override is not followed."""
    tests = [m.path for m in modules if is_test_path(m.path)]
    if not async_overrides or any(_binds_async_connection(texts, path) for path in tests):
        return []
    notes = []
    for o in async_overrides:
        # the rolled-back transaction is usually set up beside the override (one conftest.py)
        path = next((p for p in [o.path, *tests] if _outer_transaction(texts, p) is not None), None)
        if path is None or not is_test_path(o.path):
            continue
        notes.append(
            f"{o.path}:{o.line}: `{o.written}` overrides `{async_dependency}`, which the migrated routes use, with an "
            f"AsyncSession that no test binds to a connection, so it opens one of its own: "
            + _async_override_advice(texts, path).removeprefix("and not with an AsyncSession of its own: ")
        )
    return notes


def _binds_async_connection(texts: Texts, path: str) -> bool:
    """Whether `path` makes an AsyncSession (or an async_sessionmaker) bound to a connection: `bind=`
    (or the first argument) a name bound from `.connect()` (`conn = await engine.connect()`,
    `async with engine.connect() as conn`), or with a `join_transaction_mode`."""
    found = texts.get(path, "AsyncSession") or texts.get(path, "async_sessionmaker")
    if found is None:
        return False
    connections: set[str] = set()
    calls: list[ast.Call] = []
    for node in ast.walk(found[1]):
        if isinstance(node, (ast.Assign, ast.withitem)):
            value = node.value if isinstance(node, ast.Assign) else node.context_expr
            targets = node.targets if isinstance(node, ast.Assign) else [node.optional_vars]
            if isinstance(value, ast.Await):
                value = value.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "connect":
                connections.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Call) and (dotted(node.func) or "").rpartition(".")[2] in (
            "AsyncSession", "async_sessionmaker",
        ):
            calls.append(node)
    for call in calls:
        if any(k.arg == "join_transaction_mode" for k in call.keywords):
            return True
        binds = [*call.args[:1], *(k.value for k in call.keywords if k.arg == "bind")]
        if any(isinstance(b, ast.Name) and b.id in connections for b in binds):
            return True
    return False


def redirect_notes(
    project: Project, texts: Texts, modules: Iterable[facts.Module], stack: set[str], async_stack: set[str],
    async_dependency: str, async_ref: str | None,
) -> list[str]:
    """Gaps: the tests point the synchronous stack (`stack`: its sessionmakers and engines) at
    their own database, and neither override the async dependency nor redirect the async stack
    (`async_stack`): the migrated routes would open their AsyncSession on the application's."""
    modules = list(modules)
    if async_ref is not None and any(overrides(project, texts, modules, {async_ref})):
        return []
    if any(redirects(project, texts, modules, async_stack)):
        return []
    return [
        f"{r.path}:{r.line}: `{r.written}` points the synchronous `{r.target}` at the tests' database; the migrated "
        f"routes open their AsyncSession through `{async_dependency}` on the async engine instead, which this "
        "does not change, so they would use the application's own database: override "
        f"`{async_dependency}`, " + _async_override_advice(texts, r.path)
        for r in redirects(project, texts, modules, stack)
    ]


def _async_override_advice(texts: Texts, path: str) -> str:
    """How to override the async dependency in the tests of `path`."""
    line = _outer_transaction(texts, path)
    if line is None:
        return "with an async generator that yields an AsyncSession of the same test database"
    # The tests' Session lives inside a transaction each test rolls back. An AsyncSession
    # on a connection of its own would neither see the rows the tests add through that
    # Session nor be rolled back with it: its commits would stay and leak into later tests.
    note = (
        f"and not with an AsyncSession of its own: {path}:{line} runs each test in a transaction "
        "on one connection that the test rolls back, and an AsyncSession on another connection "
        "neither sees the rows the tests add through the synchronous Session nor is rolled back "
        "(its commits stay in the test database). Open an async connection in the same kind of "
        "transaction (`conn = await async_engine.connect(); await conn.begin()`), override with "
        "`AsyncSession(bind=conn, join_transaction_mode=\"create_savepoint\")`, drive the app from "
        "the same event loop (`httpx.AsyncClient(transport=httpx.ASGITransport(app=app))`), and add "
        "and assert the rows the migrated routes read or write through that AsyncSession "
        "(`await s.run_sync(factory, ...)` runs a synchronous factory on it)"
    )
    if "sqlite" in (texts.text(path) or ""):
        # aiosqlite wraps pysqlite, whose own transaction handling breaks the savepoint.
        note += (
            "; on SQLite, the listeners that let pysqlite keep the outer transaction (`isolation_level = "
            "None` on connect, `BEGIN` on begin) go on `async_engine.sync_engine` as well"
        )
    return note


def _outer_transaction(texts: Texts, path: str) -> int | None:
    """The line where the tests' module wraps each test in a transaction on one connection (the
    `connection.begin()` + `Session(bind=connection, join_transaction_mode=...)` recipe), if it does."""
    found = texts.get(path, "begin")
    if found is None:
        return None
    connections: set[str] = set()
    begins: list[tuple[str, int]] = []
    for node in ast.walk(found[1]):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "join_transaction_mode":
                    return node.lineno
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("begin", "begin_nested"):
                if isinstance(func.value, ast.Name):
                    begins.append((func.value.id, node.lineno))
        elif isinstance(node, (ast.Assign, ast.withitem)):
            value = node.value if isinstance(node, ast.Assign) else node.context_expr
            targets = node.targets if isinstance(node, ast.Assign) else [node.optional_vars]
            if (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and value.func.attr == "connect"
            ):
                connections.update(t.id for t in targets if isinstance(t, ast.Name))
    return min((line for name, line in begins if name in connections), default=None)
