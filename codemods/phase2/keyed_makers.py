"""Sessionmakers a session dependency picks at run time out of a module-level dict.

A multi-tenant dependency opens `sessionmakers[tenant]()` (or `maker = SessionLocals.get(tenant)`)
from a dict built per tenant, `{t: sessionmaker(bind=engine, ...) for t in TENANTS}`, a display
of such calls, or a comprehension binding each tenant to an engine of its own (`bind=engines[t]`).
No module-level sessionmaker names the stack then, and phase two needs to know which database the
dependency's Sessions reach before it reuses an async stack written beside it: the engine every
sessionmaker in the dict is bound to, when it is one module-level name, is that database; anything
else (an engine per tenant, a bind phase two cannot read) leaves it unknown (None).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods import sources
from async_migrate.codemods.facts import Module
from async_migrate.codemods.phase2.expired_lists import function_node
from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary.sqlalchemy import PLAIN_SESSIONMAKERS


def engine_of_keyed_makers(
    project: Project, read: Callable[[str], str] | None, fid: tuple[str, str],
    makers: frozenset[str] = PLAIN_SESSIONMAKERS,
) -> tuple[str, tuple[str, int]] | None:
    """The module-level engine (its reference, and where the dict is written) that every
    sessionmaker of the dicts the dependency `fid` looks its sessionmaker up in is bound to;
    None when it looks up none, or they are not all bound to one module-level engine. `makers`:
    the sessionmaker constructors (`async_sessionmaker` for an async dependency's dict)."""
    dicts = _dicts(project, read, fid)
    if dicts is None:
        return None
    found: tuple[str, tuple[str, int]] | None = None
    for owner, value, line in dicts:

        def resolve(written: str, at: Module = owner) -> str | None:
            return project.canonical(_reference(at, written))

        binds = _binds(value, resolve, makers)
        if binds is None or len(binds) != 1:
            return None
        engine = (next(iter(binds)), (owner.path, line))
        if found is not None and found[0] != engine[0]:
            return None
        found = engine
    return found


def keyed_expires(
    project: Project, read: Callable[[str], str] | None, fid: tuple[str, str], makers: frozenset[str],
) -> tuple[bool, str] | None:
    """Whether the sessionmakers of the dicts the dependency `fid` picks from expire objects on
    commit, with where the dict is written: False only when every one says
    `expire_on_commit=False`; None when it picks from none phase two can read."""
    dicts = _dicts(project, read, fid)
    if dicts is None:
        return None
    expires = False
    for owner, value, line in dicts:
        calls = _calls(value)
        if calls is None or any(
            not isinstance(c, ast.Call)
            or project.canonical(_reference(owner, ast.unparse(c.func))) not in makers
            or any(k.arg is None for k in c.keywords)  # `**options`
            for c in calls
        ):
            return None
        for call in calls:
            assert isinstance(call, ast.Call)
            written = next((k.value for k in call.keywords if k.arg == "expire_on_commit"), None)
            if not (isinstance(written, ast.Constant) and written.value is False):
                expires = True
        where = f"{owner.path}:{line}"
    return expires, where


def keyed_flag(
    project: Project, read: Callable[[str], str] | None, fid: tuple[str, str], makers: frozenset[str],
    keyword: str,
) -> tuple[bool | None, str] | None:
    """A Session flag whose default is True (`autoflush`) of the sessionmakers of the dicts the
    dependency `fid` picks from, with where the dict is written: None (unknown) as the value
    when they disagree or one cannot be read; None when it picks from none phase two can read."""
    dicts = _dicts(project, read, fid)
    if dicts is None:
        return None
    values: set[bool | None] = set()
    where = ""
    for owner, value, line in dicts:
        where = f"{owner.path}:{line}"
        calls = _calls(value)
        if calls is None:
            return None
        for call in calls:
            if not isinstance(call, ast.Call) or project.canonical(_reference(owner, ast.unparse(call.func))) not in makers:
                return None
            written = next((k.value for k in call.keywords if k.arg == keyword), None)
            if written is None:
                values.add(None if any(k.arg is None for k in call.keywords) else True)
            else:
                values.add(written.value if isinstance(written, ast.Constant) and isinstance(written.value, bool) else None)
    if len(values) == 1:
        return next(iter(values)), where
    return None, where


def tables(project: Project, read: Callable[[str], str] | None, fid: tuple[str, str]) -> set[str]:
    """The module-level dicts the dependency `fid` picks its sessionmaker from, as canonical
    references (`app.db.SESSIONMAKERS`); empty when it picks from none phase two can read."""
    if read is None or fid not in project.functions:
        return set()
    module, function = project.functions[fid]
    node = function_node(_tree(read, module.path), function)
    if node is None or _dicts(project, read, fid) is None:
        return set()
    refs = (module.imports.get(name) or f"{module.name}.{name}" for name in _looked_up(node))
    return {project.canonical(ref) or ref for ref in refs}


def carried_tables(project: Project, read: Callable[[str], str] | None, fid: tuple[str, str]) -> set[str]:
    """The dicts of synchronous sessionmakers whose Session classes the async sessionmakers of the
    dicts the async dependency `fid` picks from run: each built with `sync_session_class=
    SESSIONMAKERS[t].class_`, the class that tenant's sessionmaker makes and its listeners are
    on. Every value of every dict must say so of one dict; else empty."""
    dicts = _dicts(project, read, fid)
    if dicts is None:
        return set()
    found: set[str] = set()
    for owner, value, _ in dicts:
        for call in _calls(value) or [value]:
            written = next((
                k.value for k in call.keywords if k.arg == "sync_session_class"
            ), None) if isinstance(call, ast.Call) else None
            if not (
                isinstance(written, ast.Attribute) and written.attr == "class_"
                and isinstance(written.value, ast.Subscript) and isinstance(written.value.value, ast.Name)
            ):
                return set()
            ref = _reference(owner, written.value.value.id)
            found.add(project.canonical(ref) or ref)
    return found if len(found) == 1 else set()


def _dicts(
    project: Project, read: Callable[[str], str] | None, fid: tuple[str, str],
) -> list[tuple[Module, ast.expr, int]] | None:
    """The module-level dicts the dependency picks its sessionmaker from: (the module, the value
    assigned, its line); None when it picks from none, or from a name phase two cannot find."""
    if read is None:
        return None
    module, function = project.functions[fid]
    node = function_node(_tree(read, module.path), function)
    if node is None:
        return None
    found = []
    for name in _looked_up(node):
        ref = module.imports.get(name) or f"{module.name}.{name}"
        owner_name, _, attribute = ref.rpartition(".")
        owner = project.modules.get(owner_name)
        if owner is None:
            return None
        tree = _tree(read, owner.path)
        assigned = _module_assignment(tree, attribute) if tree is not None else None
        if assigned is None:
            return None
        found.append((owner, assigned[0], assigned[1]))
    return found or None


def _calls(value: ast.expr) -> list[ast.expr] | None:
    """The values of a dict display or comprehension (one for a comprehension)."""
    if isinstance(value, ast.DictComp):
        return [value.value]
    if isinstance(value, ast.Dict) and all(v is not None for v in value.values):
        return [v for v in value.values if v is not None]
    return None


def _tree(read: Callable[[str], str], path: str) -> ast.Module | None:
    try:
        return sources.tree_of(read, path)
    except (OSError, SyntaxError, ValueError):
        return None


def _looked_up(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Module-level names the function subscripts or calls `.get` on (`sessionmakers[t]`,
    `SessionLocals.get(t)`), where the result is called or assigned: the dicts it picks from."""
    local = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
    names: list[str] = []
    every = (node for statement in function.body for node in ast.walk(statement))  # not the annotations
    for node in every:
        target: ast.expr | None = None
        if isinstance(node, ast.Subscript):
            target = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            target = node.func.value
        if isinstance(target, ast.Name) and target.id not in local and target.id not in names:
            names.append(target.id)
    return names


def _module_assignment(tree: ast.Module, name: str) -> tuple[ast.expr, int] | None:
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
            return statement.value, statement.lineno
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.target.id == name:
            return (statement.value, statement.lineno) if statement.value is not None else None
    return None


def _binds(value: ast.expr, resolve: Callable[[str], str | None], makers: frozenset[str]) -> set[str] | None:
    """The engines the sessionmakers of a dict display or comprehension are bound to, resolved;
    None when a value is no sessionmaker call or binds something other than a module-level name."""
    calls = _calls(value)
    if calls is None:
        return None  # no dict, or `**other` in it
    bound_here = {
        n.id for g in value.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
    } if isinstance(value, ast.DictComp) else set()
    found: set[str] = set()
    for call in calls:
        if not isinstance(call, ast.Call) or not isinstance(call.func, (ast.Name, ast.Attribute)):
            return None
        if resolve(ast.unparse(call.func)) not in makers:
            return None
        bind = next((k.value for k in call.keywords if k.arg == "bind"), call.args[0] if call.args else None)
        if not isinstance(bind, ast.Name) or bind.id in bound_here:
            return None
        engine = resolve(bind.id)
        if engine is None:
            return None
        found.add(engine)
    return found


def _reference(module: Module, written: str) -> str:
    """A name as written in `module`, as the dotted reference its imports make of it."""
    head, _, rest = written.partition(".")
    base = module.imports.get(head) or f"{module.name}.{head}"
    return f"{base}.{rest}" if rest else base
