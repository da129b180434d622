"""The engine a session dependency binds its Session to per request, when it picks the tenant's.

A schema-per-tenant service opens each request's Session on the tenant's engine: one derived from
a module-level engine by `engine.execution_options(schema_translate_map={...})`, through a
function (`SessionLocal(bind=tenant_engine(tenant))`, `def tenant_engine(t): return
engine.execution_options(...)`) or a module-level dict built per tenant (`Session(bind=engines[t])`,
`engines = {t: engine.execution_options(...) for t in TENANTS}`). The async dependency written
beside it covers that choice only when it makes the same one on the async twin of the engine: the
same key, the same options. `derivation` reads such a bind down to a signature (the expression,
with the function's parameters, the dict's loop variables and the engine replaced by placeholders,
every other name by what it stands for) and the module-level engine it derives from: two
dependencies with one signature pick the same schema for the same key, and reach the same database
when their engines do (`stack_source`, AM243). Anything else (two engines, a local, a call of
another kind) is no derivation: None.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary import ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.sqlalchemy import ASYNC_SESSIONMAKERS

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.stack_extras import Texts

_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Derivation:
    """What a name standing for a tenant's engine (or a function or dict giving one) is."""

    signature: str  # the normalised definition; equal for the sync and async twins
    engine: str  # the canonical reference of the module-level engine it derives from
    written: str  # the definition as written (`engine.execution_options(...)`)
    path: str
    line: int

    @property
    def token(self) -> str:
        """The placeholder it reads as in normalised statements (opaque: names in it stay put)."""
        return "<bind " + hashlib.sha1(self.signature.encode()).hexdigest()[:12] + ">"


def _absolute(module: facts.Module, name: str) -> str:
    head, _, rest = name.partition(".")
    base = module.imports.get(head, f"{module.name}.{head}")
    return f"{base}.{rest}" if rest else base


def _definition(project: Project, texts: Texts, module: facts.Module, name: str) -> tuple[facts.Module, ast.stmt] | None:
    """The module-level `def` or assignment a name read in `module` stands for."""
    home, attribute = module, name
    for _ in range(_DEPTH):  # through re-exports: `from app.db import engines`
        if attribute not in home.imports:
            break
        owner, _, attribute = home.imports[attribute].rpartition(".")
        imported = project.modules.get(owner)
        if imported is None:
            return None
        home = imported
    parsed = texts.get(home.path, attribute)
    if parsed is None:
        return None
    found: ast.stmt | None = None
    for statement in parsed[1].body:
        if isinstance(statement, ast.FunctionDef) and statement.name == attribute:
            found = statement
        elif isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == attribute for t in statement.targets
        ):
            found = statement
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and (
            statement.target.id == attribute
        ):
            found = statement
    return (home, found) if found is not None else None


def derivation(
    project: Project, texts: Texts, module: facts.Module, name: str, _depth: int = 0
) -> Derivation | None:
    """What `name`, read in `module`, stands for when it is a function returning a tenant's engine
    derived from one module-level engine, or a module-level dict of such engines; else None."""
    if _depth > _DEPTH or "." in name:
        return None
    found = _definition(project, texts, module, name)
    if found is None:
        return None
    home, statement = found
    text = texts.text(home.path) or ""
    if isinstance(statement, ast.FunctionDef):
        body = statement.body[1:] if _docstring(statement.body[0]) else statement.body
        args = statement.args
        if (
            len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None
            or statement.decorator_list or args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs
            or args.defaults
        ):
            return None
        local = {a.arg: f"_p{i}" for i, a in enumerate(args.args)}
        read = _normalised(project, texts, home, body[0].value, local, _depth)
        if read is None:
            return None
        signature, engine = read
        return Derivation(
            f"def({len(args.args)}): {signature}", engine,
            ast.get_source_segment(text, body[0].value) or ast.unparse(body[0].value), home.path, statement.lineno,
        )
    value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
    if isinstance(value, ast.DictComp) and all(not g.is_async for g in value.generators):
        local = {
            n.id: f"_k{i}" for i, n in enumerate(
                n for g in value.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
            )
        }
        values: list[ast.expr] = [value.value]
    elif isinstance(value, ast.Dict) and value.values and None not in value.keys:
        local, values = {}, list(value.values)
    else:
        return None
    if not all(_derives(v) for v in values):
        return None  # a dict of engines built each by a constructor: no one engine behind them
    if any(f"{home.name}.{_bound_name(statement, name)}" in m.mutated for m in project.modules.values()):
        return None  # changed in place or handed on somewhere: its display is not all it holds
    read = _normalised(project, texts, home, value, local, _depth)
    if read is None:
        return None
    signature, engine = read
    return Derivation(
        f"dict: {signature}", engine, ast.get_source_segment(text, value) or ast.unparse(value),
        home.path, statement.lineno,
    )


def _bound_name(statement: ast.stmt, fallback: str) -> str:
    """The name a module-level assignment of one target binds (`fallback` otherwise: the name read)."""
    targets = [statement.target] if isinstance(statement, ast.AnnAssign) else (
        statement.targets if isinstance(statement, ast.Assign) else []
    )
    return targets[0].id if len(targets) == 1 and isinstance(targets[0], ast.Name) else fallback


def _derives(node: ast.expr | None) -> bool:
    """`<engine>.execution_options(...)`, possibly chained: an engine derived from another."""
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "execution_options"
    )


def _normalised(
    project: Project, texts: Texts, module: facts.Module, node: ast.expr, local: dict[str, str], depth: int,
) -> tuple[str, str] | None:
    """The expression as text, with `local` names renamed, the one module-level engine it reaches
    (directly or through another derivation) as `<engine>`, every other name as the reference it
    stands for; with that engine's reference. None when it reaches no engine, or more than one."""
    text, engines = _rewritten(project, texts, module, node, local, depth)
    if len(engines) != 1:
        return None
    return text, next(iter(engines))


def _rewritten(
    project: Project, texts: Texts, module: facts.Module, node: ast.expr, local: dict[str, str], depth: int,
) -> tuple[str, set[str]]:
    tree = copy.deepcopy(node)
    engines: set[str] = set()
    for child in ast.walk(tree):
        if not isinstance(child, ast.Name):
            continue
        if child.id in local:
            child.id = local[child.id]
            continue
        ref = _absolute(module, child.id)
        target = project.resolve(ref)
        value = target.value if target is not None else None
        if value is not None and value.kind == "call" and project.canonical(value.ref) in ENGINE_CONSTRUCTORS:
            engines.add(project.canonical(ref) or ref)
            child.id = "<engine>"
            continue
        inner = derivation(project, texts, module, child.id, depth + 1)
        if inner is not None:
            engines.add(inner.engine)
            child.id = inner.token
            continue
        child.id = project.canonical(ref) or ref
    return ast.unparse(tree), engines


def table_token(project: Project, texts: Texts, module: facts.Module, name: str) -> str:
    """The placeholder of a dict of engines each built by a constructor (`{t: create_engine(URL,
    execution_options={"schema_translate_map": ...}) for t in TENANTS}`), read in `module`:
    which database each tenant's URL reaches is the configuration's word (`async-dependency`,
    AM243), but the schema its `execution_options=` maps each key to is read, so that a dict of
    async engines dropping or changing it (every tenant writing to one schema) is no twin."""
    found = _definition(project, texts, module, name)
    value = found[1].value if found is not None and isinstance(found[1], (ast.Assign, ast.AnnAssign)) else None
    if found is None or value is None:
        return "<engines>"
    home = found[0]
    if isinstance(value, ast.DictComp):
        local = {
            n.id: f"_k{i}" for i, n in enumerate(
                n for g in value.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
            )
        }
        entries: list[tuple[ast.expr | None, ast.expr]] = [(None, value.value)]
    elif isinstance(value, ast.Dict):
        local, entries = {}, list(zip(value.keys, value.values, strict=True))
    else:
        return "<engines>"
    options = []
    for key, built in entries:
        given = next(
            (k.value for k in built.keywords if k.arg == "execution_options"), None
        ) if isinstance(built, ast.Call) else None
        read = _rewritten(project, texts, home, given, local, 0)[0] if given is not None else ""
        options.append(f"{ast.unparse(key) if key is not None else ''}: {read}")
    if not any(o.partition(": ")[2] for o in options):
        return "<engines>"
    return "<engines " + hashlib.sha1("; ".join(sorted(options)).encode()).hexdigest()[:12] + ">"


def _docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def bind_argument(call: ast.Call, session_class: bool) -> ast.expr | None:
    """The `bind=` a Session (class: its first argument too) or a sessionmaker is opened with."""
    keyword = next((k.value for k in call.keywords if k.arg == "bind"), None)
    if keyword is not None or not session_class:
        return keyword
    return call.args[0] if call.args else None


def bound_engine(project: Project, texts: Texts, module: facts.Module, node: ast.expr | None) -> str | None:
    """The module-level engine a bind derives from: `tenant_engine(t)`, `engines[t]`,
    `engines.get(t)` on a derivation; None otherwise."""
    head: ast.expr | None = node
    while _derives(head):  # `engine.execution_options(...)` written in the opening itself
        assert isinstance(head, ast.Call) and isinstance(head.func, ast.Attribute)
        head = head.func.value
        if isinstance(head, ast.Name):
            ref = _absolute(module, head.id)
            target = project.resolve(ref)
            value = target.value if target is not None else None
            if value is not None and value.kind == "call" and project.canonical(value.ref) in ENGINE_CONSTRUCTORS:
                return project.canonical(ref) or ref
    if isinstance(head, ast.Call) and isinstance(head.func, ast.Attribute) and head.func.attr == "get":
        head = head.func.value
    elif isinstance(head, ast.Call):
        head = head.func
    elif isinstance(head, ast.Subscript):
        head = head.value
    if not isinstance(head, ast.Name):
        return None
    found = derivation(project, texts, module, head.id)
    return found.engine if found is not None else None


@dataclass(frozen=True, slots=True)
class Bind:
    """A Session a session dependency opens with a `bind=` of its own."""

    written: str  # the bind as written
    line: int
    engine: str | None  # the module-level engine it derives from (None: no one engine)
    per_tenant: bool  # looked up in a dict of engines built each by a constructor
    defined: str = ""  # what the function or dict it reads is, as written, with where

    def described(self, path: str) -> str:
        return f"`bind={self.written}` ({path}:{self.line})" + (f", {self.defined}" if self.defined else "")


def opening_binds(
    project: Project, texts: Texts, module: facts.Module, function: ast.AST, sync: bool = True, text: str = "",
) -> list[Bind]:
    """The binds the Sessions a session dependency (`sync`, else async) opens are given, other
    than a plain name: `Session(bind=engines[tenant])`, `SessionLocal(bind=tenant_engine(tenant))`."""
    found = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name is None:
            continue
        ref = _absolute(module, name.removesuffix(".begin"))
        if sync:
            session_class = project.is_sync_session_type(ref)
            maker = project.is_sessionmaker(ref)
        else:
            session_class = project.is_async_session_type(ref)
            target = project.resolve(ref)
            value = target.value if target is not None else None
            maker = value is not None and value.kind == "call" and project.canonical(value.ref) in ASYNC_SESSIONMAKERS
        if not session_class and not maker:
            continue
        bind = bind_argument(node, session_class)
        if bind is None or isinstance(bind, ast.Name):
            continue
        head = bind.func.value if (
            isinstance(bind, ast.Call) and isinstance(bind.func, ast.Attribute) and bind.func.attr == "get"
        ) else bind.value if isinstance(bind, ast.Subscript) else None
        if isinstance(bind, ast.Call) and head is None:
            head = bind.func
        table = isinstance(head, ast.Name) and _constructor_table(project, texts, module, head.id)
        derived = derivation(project, texts, module, head.id) if isinstance(head, ast.Name) else None
        defined = (
            f"`{head.id}` being `{_short(derived.written)}` ({derived.path}:{derived.line})"
            if derived is not None and isinstance(head, ast.Name) else ""
        )
        written = (ast.get_source_segment(text, bind) if text else None) or ast.unparse(bind)
        found.append(Bind(written, node.lineno, bound_engine(project, texts, module, bind), table, defined))
    return found


def _short(written: str) -> str:
    line = re.sub(r"([\[{(])\s|\s(?=[\]})])", r"\1", " ".join(written.split()))
    return line if len(line) <= 120 else line[:117] + "..."


def _constructor_table(project: Project, texts: Texts, module: facts.Module, name: str) -> bool:
    """A module-level dict of engines each built by a constructor (`{t: create_engine(...) for t
    in TENANTS}`): an engine per tenant, none derived from one."""
    found = _definition(project, texts, module, name)
    value = found[1].value if found is not None and isinstance(found[1], (ast.Assign, ast.AnnAssign)) else None
    if isinstance(value, ast.DictComp):
        values = [value.value]
    elif isinstance(value, ast.Dict) and value.values and None not in value.keys:
        values = list(value.values)
    else:
        return False
    assert found is not None
    return all(
        isinstance(v, ast.Call) and (callee := _dotted(v.func)) is not None
        and project.canonical(_absolute(found[0], callee)) in ENGINE_CONSTRUCTORS
        for v in values
    )


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head is not None else None
    return None
