"""Whether an existing async engine reaches the same database as the synchronous stack.

Phase two reuses an async stack the project already has. That is only right when its engine
is bound to the database the routes' synchronous stack uses: otherwise every migrated route
reads and writes another database, and answers 200. `Sources` reduces the URL an engine is
built from to a key; two engines are shown to share a database only when their keys match.

Over 500 lines: the URL keys and the engine and sessionmaker lookups they start from (a
sessionmaker's bind, its configure calls) follow the same module-level names, so they stay together.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import name_chain
from async_migrate.codemods.phase2 import configure_bind, scope_openers, tenant_binds
from async_migrate.codemods.phase2.drivers import URL_HELPER
from async_migrate.codemods.phase2.stack_plan import Found
from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary import SYNC_ENGINE_CONSTRUCTORS
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ASYNC_ENGINE_CONSTRUCTORS,
    ASYNC_SESSIONMAKERS,
    FROM_CONFIG,
    PLAIN_SESSIONMAKERS,
    SCOPED_SESSION_MAKERS,
)

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.stack_extras import Texts

_ENGINES = SYNC_ENGINE_CONSTRUCTORS | ASYNC_ENGINE_CONSTRUCTORS
_FROM_CONFIG = FROM_CONFIG | {
    "sqlalchemy.ext.asyncio.async_engine_from_config", "sqlalchemy.ext.asyncio.engine.async_engine_from_config",
}
_SESSIONMAKERS = ASYNC_SESSIONMAKERS | PLAIN_SESSIONMAKERS
_MAKE_URL = frozenset({"sqlalchemy.make_url", "sqlalchemy.engine.make_url", "sqlalchemy.engine.url.make_url"})
_SAME_URL_METHODS = frozenset({"render_as_string", "unicode_string", "__str__"})
_GETENV = frozenset({"os.getenv", "os.environ.get"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)(\+[A-Za-z0-9_]+)?(:(//)?)?$")
_DEPTH = 12


@dataclass(frozen=True, slots=True)
class Source:
    """Where an engine's database URL comes from."""

    # The URL's origin, normalised, and `engine-url:<engine>` for the engine's own `.url`;
    # empty: the analysis cannot tell.
    keys: frozenset[str]
    text: str  # the engine's construction (or the expression standing for it), as written
    path: str
    line: int

    def __str__(self) -> str:
        return f"`{self.text}` ({self.path}:{self.line})"

    @property
    def known(self) -> bool:
        return len(self.keys) > 1  # more than the engine's own identity

    def same_database(self, other: Source) -> bool:
        return bool(self.keys & other.keys)


class Sources:
    """The URL an engine is built from, reduced to a key, following module-level names across
    modules (by the modules' text):

    - the same settings expression (`settings.DATABASE_URL`), the same variable or environment
      variable (`os.environ["DATABASE_URL"]`, `os.getenv("DATABASE_URL")`) give the same key;
    - a driver swap is no change of database: `url.replace("sqlite://", "sqlite+aiosqlite://")`,
      `url.set(drivername="postgresql+psycopg")`, `make_url(...)`, `str(...)`, the generated
      `_async_url(...)` or a project function of one parameter returning it or such a swap of it
      on every path (`to_async_url(url)`), and literal URLs that differ only in their driver
      (`"sqlite:///app.db"`, `"sqlite+aiosqlite:///app.db"`);
    - `sync_engine.url` is the sync engine's own source.

    Anything else (another variable, a call the table does not know, a local) is either a
    different key or no key at all: the caller then cannot show it is the same database.
    """

    def __init__(self, project: Project, texts: Texts) -> None:
        self.project = project
        self.read = texts.read
        self.texts = texts  # the trees, parsed once for every reader of the stack's modules

    # ----------------------------------------------------------------- entry points

    def engine(self, ref: str | None, where: tuple[str, int]) -> Source:
        """The source of the engine a module-level reference (`db.engine.async_engine`) names."""
        found = self.assignment(ref) if ref else None
        if ref is None:
            return Source(frozenset(), "?", *where)
        if found is None and self._module_level_name(ref):
            # Assigned in branches (`if DATABASE_URL == "sqlite://": engine = ...` / `else:`):
            # which URL is unknown, but an async engine built from `engine.url` (phase two's own,
            # `create_async_engine(_async_url(engine.url))`) reaches the same database whatever it is.
            return Source(frozenset({f"engine-url:{self.project.canonical(ref)}"}), ref.rsplit(".", 1)[-1], *where)
        if found is None:
            owner = self.project.resolve(ref.rpartition(".")[0])
            if owner is None or owner.kind != "value" or owner.value is None or owner.value.kind != "call":
                return Source(frozenset(), ref.rsplit(".", 1)[-1], *where)
            # `db.engine`, an attribute of a module-level instance: no assignment to read, but
            # an async engine built from `db.engine.url` is still built from this very engine.
            return Source(frozenset({f"engine-url:{self.project.canonical(ref)}"}), self._as_written(ref), *where)
        module, node = found
        parsed = self.texts.get(module.path)
        written = (ast.get_source_segment(parsed[0], node) if parsed else None) or ast.unparse(node)
        keys = {f"engine-url:{self.project.canonical(ref)}"}
        key = self._key(node, module, 0)
        if key is not None:
            keys.add(key[len("engine<"):-1] if key.startswith("engine<") else key)
        return Source(frozenset(keys), _text(written), module.path, node.lineno)

    def _module_level_name(self, ref: str) -> bool:
        """A name a module's own top-level statements bind (in any branch), not an attribute."""
        owner, _, name = ref.rpartition(".")
        module = self.project.modules.get(owner)
        tree = self.tree(module) if module is not None else None
        return tree is not None and any(name in _names_bound(statement) for statement in tree.body)

    def _as_written(self, ref: str) -> str:
        """A reference as its module spells it: `app.db.db.engine` -> `db.engine`."""
        parts = ref.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:cut]) in self.project.modules:
                return ".".join(parts[cut:])
        return ref.rsplit(".", 1)[-1]

    def async_dependency_engine(
        self, module: facts.Module, function: facts.Function, _depth: int = 0
    ) -> str | None:
        """The engine reference an async session dependency's sessions are bound to:
        `async with maker() as s` (the maker's engine), `AsyncSession(engine)`, or those of the
        project `@asynccontextmanager` opener it enters (`async with create_session_async() as s`)."""
        for call in function.calls:
            if call.callee is None or call.nested:
                continue
            opener = scope_openers.async_opener(self.project, call.callee) if _depth < 3 else None
            if opener is not None:
                engine = self.async_dependency_engine(*self.project.functions[opener], _depth=_depth + 1)
                if engine is not None:
                    return engine
                continue
            callee = call.callee.removesuffix(".begin")
            session_class = self.project.is_async_session_type(callee)
            if not session_class and self.maker_engine(callee) is None:
                continue
            node = self._call_at(module, call.line, callee)
            bind = tenant_binds.bind_argument(node, session_class) if node is not None else None
            if bind is not None and not isinstance(bind, ast.Name):
                # `AsyncSession(bind=async_engines[tenant])`, `maker(bind=tenant_engine(tenant))`:
                # the engine the tenant's is derived from, not the sessionmaker's own
                return tenant_binds.bound_engine(self.project, self.texts, module, bind)
            if session_class:
                first = next((a for a in call.args if a.position == 0 or a.keyword == "bind"), None)
                if first is not None and first.name is not None:
                    return module.imports.get(first.name, f"{module.name}.{first.name}")
                continue
            if bind is not None:
                return self._absolute(module, bind.id)
            return self.maker_engine(callee)
        return None

    def maker_engine(self, ref: str | None) -> str | None:
        """The engine reference a module-level `async_sessionmaker(engine, ...)` is bound to."""
        found = self.assignment(ref) if ref else None
        if found is None or ref is None:
            return None
        module, node = found
        if not isinstance(node, ast.Call):
            return None
        bind = next((k.value for k in node.keywords if k.arg == "bind"), node.args[0] if node.args else None)
        if isinstance(bind, (ast.Name, ast.Attribute)):
            dotted = name_chain(bind)
            if dotted is not None:
                return self._absolute(module, dotted)
        if bind is None:  # `maker.configure(bind=async_engine)`, when that names one engine
            name = (self.project.canonical(ref) or ref).rsplit(".", 1)[-1]
            configured = configure_bind.resolve(self.project, Found(module, name), None)
            arg = configured.arg
            if configured.problem is None and arg is not None and arg.ref is not None and not arg.local:
                return arg.ref
        return None

    def maker_expires(self, ref: str, keyword: str = "expire_on_commit") -> tuple[bool, str] | None:
        """Whether a module-level sessionmaker expires objects on commit, and where it is (with
        why, when its setting cannot be read and it counts as expiring). `keyword`: another
        Session flag whose default is True (`autoflush`), read the same way."""
        found = self.assignment(ref)
        if found is None:
            return None
        module, node = found
        if not isinstance(node, ast.Call):
            return None
        where = f"{module.path}:{node.lineno}"
        dotted = name_chain(node.func)
        callee = self.project.canonical(self._absolute(module, dotted)) if dotted is not None else None
        inner = node.args[0] if node.args and isinstance(node.args[0], ast.Call) else None
        if callee in SCOPED_SESSION_MAKERS and inner is not None:
            # `scoped_session(sessionmaker(...))`: the sessionmaker's keywords
            inner_dotted = name_chain(inner.func)
            if inner_dotted is not None and self.project.canonical(self._absolute(module, inner_dotted)) in _SESSIONMAKERS:
                node, callee = inner, self.project.canonical(self._absolute(module, inner_dotted))
        if callee not in _SESSIONMAKERS:
            # a factory of the project's own: its keywords are not the sessionmaker's
            return True, f"{where}, built by `{dotted or ast.unparse(node.func)}(...)`: {unread(keyword)}"
        return self._configured_expiry(module, ref, where, keyword) or _expiry_of(node, where, keyword)

    def _configured_expiry(
        self, module: facts.Module, ref: str, where: str, keyword: str = "expire_on_commit"
    ) -> tuple[bool, str] | None:
        """`maker.configure(expire_on_commit=...)` outside the tests: it runs before any request (at
        import or at startup), so the configured value decides; any value but a literal False
        counts as expiring."""
        name = ref.rsplit(".", 1)[-1]
        set_by = [
            (call, arg) for call, arg in configure_bind.keywords(
                configure_bind.Bind(calls=tuple(configure_bind.calls(self.project, Found(module, name))))
            ) if arg.keyword == keyword
        ]
        if not set_by:
            return None
        for call, arg in set_by:
            if arg.text != "False":
                shown = f"`{name}.configure({keyword}={arg.text})` ({call.where})"
                return True, shown if arg.text == "True" else f"{shown}: {unread(keyword)}"
        return False, set_by[-1][0].where

    def dependency_expires(
        self, module: facts.Module, function: facts.Function, sync: bool = False, keyword: str = "expire_on_commit"
    ) -> tuple[bool, str] | None:
        """Whether the sessions a session dependency opens (`async with maker() as s`,
        `AsyncSession(engine)`; `sync`: a synchronous one) expire objects on commit. A keyword
        of the opening call itself (`maker(expire_on_commit=False)`) overrides the maker's."""
        is_session = self.project.is_sync_session_type if sync else (
            lambda ref: self.project.is_async_session_type(ref)
        )
        for call in function.calls:
            if call.callee is None or call.nested:
                continue
            callee = call.callee.removesuffix(".begin")
            if not is_session(callee) and self.maker_engine(callee) is None:
                continue
            node = self._call_at(module, call.line, callee, call.callee)
            if is_session(callee):
                return _expiry_of(node, f"{module.path}:{call.line}", keyword) if node is not None else None
            own = _keyword(node, keyword) if node is not None else None
            if own is not None:
                return _expiry_of(node, f"{module.path}:{call.line}", keyword)  # type: ignore[arg-type]
            found = self.maker_expires(callee, keyword)
            if found is not None:
                return found
        return None

    def _call_at(self, module: facts.Module, line: int, *refs: str) -> ast.Call | None:
        """The call on `line` of a module whose callee resolves to one of `refs`."""
        tree = self.tree(module)
        if tree is None:
            return None
        wanted = {self.project.canonical(r) for r in refs}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node, "lineno", 0) == line:
                dotted = name_chain(node.func)
                if dotted is not None and self.project.canonical(self._absolute(module, dotted)) in wanted:
                    return node
        return None

    # ------------------------------------------------------------------- modules

    def tree(self, module: facts.Module) -> ast.Module | None:
        """The module's syntax tree, read once (None: it cannot be read or parsed)."""
        parsed = self.texts.get(module.path)
        return parsed[1] if parsed is not None else None

    def _absolute(self, module: facts.Module, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        base = module.imports.get(head, f"{module.name}.{head}")
        return f"{base}.{rest}" if rest else base

    def assignment(self, ref: str) -> tuple[facts.Module, ast.expr] | None:
        """The value expression of a module-level name assigned once, with its module (None:
        reassigned, conditional, or not found)."""
        target = self.project.resolve(ref)
        if target is not None and target.module is not None and target.kind == "value":
            module = target.module
            name = target.ref.rsplit(".", 1)[-1]
        else:
            # names assigned from expressions the index does not record (`URL = os.environ[...]`)
            owner, _, name = ref.rpartition(".")
            module = self.project.modules.get(owner)  # type: ignore[assignment]
            if module is None:
                return None
        tree = self.tree(module)
        if tree is None:
            return None
        found = [
            value for statement in tree.body for value in _assigned(statement, name)
        ]
        bound_elsewhere = any(
            name in _names_bound(statement) for statement in tree.body if not _assigned(statement, name)
        )
        if len(found) != 1 or bound_elsewhere:
            return None  # reassigned, or conditional: not one source
        return module, found[0]

    # ----------------------------------------------------------------------- keys

    def _key(self, node: ast.expr, module: facts.Module, depth: int) -> str | None:
        if depth > _DEPTH:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return _url_key(node.value)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                elif isinstance(value, ast.FormattedValue):
                    inner = self._key(value.value, module, depth + 1)
                    if inner is None:
                        return None
                    parts.append("{" + inner + "}")
            return _url_key("".join(parts))
        if isinstance(node, ast.Name):
            return self._name(module, node.id, depth)
        if isinstance(node, ast.Attribute):
            dotted = name_chain(node.value)
            if node.attr == "url" and dotted is not None:
                # `engine.url`: that engine's database, however it is built
                return f"engine-url:{self.project.canonical(self._absolute(module, dotted))}"
            owner = self._key(node.value, module, depth + 1)
            if owner is None:
                return None
            return f"{owner}.{node.attr}"
        if isinstance(node, ast.Subscript):
            owner = self._key(node.value, module, depth + 1)
            if owner == "ref:os.environ" and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                return f"env:{node.slice.value}"
            index = self._key(node.slice, module, depth + 1) if isinstance(node.slice, ast.expr) else None
            return None if owner is None or index is None else f"{owner}[{index}]"
        if isinstance(node, ast.Call):
            return self._call(node, module, depth)
        return None

    def _name(self, module: facts.Module, name: str, depth: int) -> str | None:
        ref = module.imports.get(name, f"{module.name}.{name}")
        if name not in module.imports:
            tree = self.tree(module)
            if tree is not None and any(name in _names_bound(s) for s in tree.body):
                found = self.assignment(ref)
                if found is None:
                    # a function, a class, or a name bound more than once
                    function = self.project.function(ref)
                    return f"ref:{self.project.canonical(ref)}" if function is not None or _is_class(tree, name) else None
                return self._key(found[1], found[0], depth + 1)
            if hasattr(builtins, name):
                return f"ref:{name}"
        target = self.project.resolve(ref)
        if target is not None and target.kind == "value" and target.module is not None:
            found = self.assignment(target.ref)
            if found is not None:
                return self._key(found[1], found[0], depth + 1)
        owner = ref.rpartition(".")[0]
        if owner in self.project.modules:
            found = self.assignment(ref)
            if found is not None:
                return self._key(found[1], found[0], depth + 1)
        return f"ref:{self.project.canonical(ref)}"

    def _call(self, node: ast.Call, module: facts.Module, depth: int) -> str | None:
        func = node.func
        first = node.args[0] if node.args else None
        if isinstance(func, ast.Attribute):
            receiver = func.value
            if func.attr == "replace" and _driver_swap(node):
                return self._key(receiver, module, depth + 1)
            if func.attr == "set" and not node.args and [k.arg for k in node.keywords] == ["drivername"]:
                return self._key(receiver, module, depth + 1)
            if func.attr in _SAME_URL_METHODS:
                return self._key(receiver, module, depth + 1)
            if func.attr == "execution_options" and not node.args and all(k.arg for k in node.keywords):
                # `engine.execution_options(...)`: the same URL; the options that change what its
                # sessions reach are compared on their own (engine_reach, AM266)
                return self._key(receiver, module, depth + 1)
        dotted = name_chain(func)
        callee = self.project.canonical(self._absolute(module, dotted)) if dotted else None
        if callee in _GETENV and isinstance(first, ast.Constant) and isinstance(first.value, str):
            default = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "default"), None)
            if default is None:
                return f"env:{first.value}"
            fallback = self._key(default, module, depth + 1)
            return None if fallback is None else f"env:{first.value}={fallback}"
        if (callee == "str" or callee in _MAKE_URL) and first is not None and len(node.args) == 1:
            return self._key(first, module, depth + 1)
        if callee in _ENGINES:
            url = next((k.value for k in node.keywords if k.arg == "url"), first)
            inner = self._key(url, module, depth + 1) if url is not None else None
            return None if inner is None else f"engine<{inner}>"
        if callee in _FROM_CONFIG:
            return self._generic(node, module, depth, "from_config")
        if dotted is not None and first is not None and len(node.args) == 1 and self._is_url_helper(module, dotted):
            return self._key(first, module, depth + 1)
        function = self.project.function(self._absolute(module, dotted)) if dotted else None
        if function is not None:
            built = self._factory(function, node, module, depth)
            if built is not None:
                return built
        return self._generic(node, module, depth, None)

    def _generic(self, node: ast.Call, module: facts.Module, depth: int, name: str | None) -> str | None:
        func = name or self._key(node.func, module, depth + 1)
        args = [self._key(a, module, depth + 1) for a in node.args]
        keywords = [(k.arg, self._key(k.value, module, depth + 1)) for k in node.keywords]
        known = [a for a in args if a is not None]
        named = sorted((k, v) for k, v in keywords if k is not None and v is not None)
        if func is None or len(known) != len(args) or len(named) != len(keywords):
            return None
        return f"{func}({','.join([*known, *(f'{k}={v}' for k, v in named)])})"

    def _is_url_helper(self, module: facts.Module, dotted: str) -> bool:
        """The driver-swapping function phase two generates (`_async_url`, `_async_url_2`):
        a project function of that name whose work is `url.set(drivername=...)`; or a project
        function of one parameter whose every `return` gives that parameter or a driver swap of it
        (`def to_async_url(url): if url.startswith("sqlite"): return url.replace("sqlite://",
        "sqlite+aiosqlite://", 1) ... return url`)."""
        found = self.project.function(self._absolute(module, dotted))
        if found is None:
            return False
        if found[1].name.startswith(URL_HELPER) and any(
            call.method == "set" and any(a.keyword == "drivername" for a in call.args) for call in found[1].calls
        ):
            return True
        tree = self.tree(found[0])
        if tree is None or "." in found[1].qualname:
            return False
        definition = next(
            (s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == found[1].name), None
        )
        return definition is not None and _swaps_only(definition)

    def _factory(
        self, found: tuple[facts.Module, facts.Function], call: ast.Call, caller: facts.Module, depth: int
    ) -> str | None:
        """An engine built by a project function: its one engine construction, with a URL
        that is a parameter (the caller's argument) or a module-level expression."""
        module, function = found
        tree = self.tree(module)
        if tree is None or "." in function.qualname:
            return None
        definition = next(
            (s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == function.name),
            None,
        )
        if definition is None:
            return None
        constructions = [
            n for n in ast.walk(definition)
            if isinstance(n, ast.Call) and (d := name_chain(n.func)) is not None
            and self.project.canonical(self._absolute(module, d)) in _ENGINES
        ]
        if len(constructions) != 1:
            return None
        inner = constructions[0]
        url = next((k.value for k in inner.keywords if k.arg == "url"), inner.args[0] if inner.args else None)
        if url is None:
            return None
        params = [a.arg for a in (*definition.args.posonlyargs, *definition.args.args)]
        if isinstance(url, ast.Name) and url.id in params:
            index = params.index(url.id)
            passed = next((k.value for k in call.keywords if k.arg == url.id), None)
            if passed is None and index < len(call.args):
                passed = call.args[index]
            if passed is None:
                return None
            key = self._key(passed, caller, depth + 1)
            return None if key is None else f"engine<{key}>"
        local = {n.id for n in ast.walk(definition) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if any(isinstance(n, ast.Name) and (n.id in local or n.id in params) for n in ast.walk(url)):
            return None
        key = self._key(url, module, depth + 1)
        return None if key is None else f"engine<{key}>"


def _assigned(statement: ast.stmt, name: str) -> list[ast.expr]:
    if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
        return [statement.value]
    if (
        isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
        and statement.target.id == name and statement.value is not None
    ):
        return [statement.value]
    return []


def _names_bound(statement: ast.stmt) -> set[str]:
    """Names a top-level statement binds, also inside if/try/with/for blocks."""
    found: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
            if node is not statement:
                continue
        elif isinstance(node, ast.alias):
            found.add((node.asname or node.name).split(".")[0])
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    return found


def _is_class(tree: ast.Module, name: str) -> bool:
    return any(isinstance(s, ast.ClassDef) and s.name == name for s in tree.body)


def _dialect(scheme: str) -> str:
    dialect = scheme.split("+", 1)[0].lower()
    return "postgresql" if dialect == "postgres" else dialect


def _url_key(text: str) -> str:
    """A literal URL without its driver: `sqlite+aiosqlite:///app.db` -> `url:sqlite:///app.db`."""
    scheme, separator, rest = text.partition("://")
    if separator and _SCHEME.match(scheme):
        return f"url:{_dialect(scheme)}://{rest}"
    return f"str:{text}"


def _swaps_only(definition: ast.FunctionDef) -> bool:
    """A function of one parameter, never rebound, with no nested scope, whose every `return`
    gives the parameter or a driver swap of it: the same database whichever branch runs."""
    arguments = definition.args
    params = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    if len(params) != 1 or arguments.vararg or arguments.kwarg or arguments.kwonlyargs:
        return False
    name = params[0]
    returns = []
    for node in ast.walk(definition):
        if node is not definition and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
            return False
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Global, ast.Nonlocal)):
            return False
        if isinstance(node, ast.Return):
            returns.append(node.value)
    return bool(returns) and all(value is not None and _swapped(value, name) for value in returns)


def _swapped(node: ast.expr, name: str) -> bool:
    """`name`, `name.replace("sqlite://", "sqlite+aiosqlite://", 1)`, `name.set(drivername=...)`,
    `str(...)` of one, chained."""
    if isinstance(node, ast.Name):
        return node.id == name
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "replace" and _driver_swap(node):
        return _swapped(func.value, name)
    if isinstance(func, ast.Attribute) and func.attr == "set" and not node.args and [k.arg for k in node.keywords] == ["drivername"]:
        return _swapped(func.value, name)
    if isinstance(func, ast.Name) and func.id == "str" and len(node.args) == 1 and not node.keywords:
        return _swapped(node.args[0], name)
    return False


def _driver_swap(call: ast.Call) -> bool:
    """`.replace("postgresql://", "postgresql+asyncpg://")`: the same database, another driver.
    A count (`, 1`, `count=1`) only limits the swap to the scheme, which comes first."""
    count = [*call.args[2:], *(k.value for k in call.keywords if k.arg == "count")]
    if len(call.args) < 2 or len(call.args) + len(call.keywords) > 3 or any(k.arg != "count" for k in call.keywords):
        return False
    if count and not (isinstance(count[0], ast.Constant) and type(count[0].value) is int and count[0].value >= 1):
        return False
    old, new = call.args[0], call.args[1]
    if not (isinstance(old, ast.Constant) and isinstance(new, ast.Constant)):
        return False
    if not (isinstance(old.value, str) and isinstance(new.value, str)):
        return False
    a, b = _SCHEME.match(old.value), _SCHEME.match(new.value)
    return a is not None and b is not None and _dialect(a.group(1)) == _dialect(b.group(1)) and a.group(3) == b.group(3)


def _text(written: str) -> str:
    text = " ".join(written.split())
    return text if len(text) <= 200 else text[:197] + "..."


UNREAD = "phase two cannot read its expire_on_commit, so it counts as True"


def unread(keyword: str) -> str:
    return UNREAD.replace("expire_on_commit", keyword)


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def _expiry_of(call: ast.Call, where: str, name: str = "expire_on_commit") -> tuple[bool, str]:
    """Whether a sessionmaker/Session call expires objects on commit, and where (with why, when
    unread): its default does; a value the analysis cannot read (a variable, `**options`) counts
    as expiring, the conservative side: the refresh it leads to is harmless, a missed one raises
    MissingGreenlet or reads stale data."""
    keyword = _keyword(call, name)
    if keyword is None:
        unpacked = next((k for k in call.keywords if k.arg is None), None)
        if unpacked is not None:  # `**options` may say either
            return True, f"{where}, `**{ast.unparse(unpacked.value)}`: {unread(name)}"
        return True, where
    if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, bool):
        return keyword.value.value, where
    return True, f"{where}, `{name}={ast.unparse(keyword.value)}`: {unread(name)}"
