"""One module's facts from Python's `ast`: names, module-level values, classes, signatures.

Function bodies are read by `codemods.astcollect.body`. The module knows nothing about
other modules: names resolve against its own imports and definitions, and the project
index joins the modules afterwards.

Over 500 lines: the module-level collector whose name resolution every function reader
and the other collectors call; its parts share the module's imports and definitions.
"""

from __future__ import annotations

import ast
import builtins
import functools
import sys
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import (
    by_name,
    coroutine_returns,
    dispatch,
    enclosing,
    item_stores,
    loop_holders,
    registries,
    syntax,
)
from async_migrate.codemods.astcollect.data_args import data_reads
from async_migrate.codemods.astcollect.generated import updated_by_database
from async_migrate.codemods.astcollect.syntax import (
    FUNCTIONS,
    Source,
    argument,
    dotted,
    methods,
    string,
    strings,
)
from async_migrate.codemods.facts import DefinitionKeys, module_name
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary import (
    ENGINE_CONSTRUCTORS,
    PROPERTY_DECORATORS,
    RELATIONSHIP_CONSTRUCTORS,
    pydantic,
)
from async_migrate.codemods.vocabulary.dependency_injector import (
    OBJECT_PROVIDERS,
    PROVIDE,
    PROVIDER,
    PROVIDERS_PREFIX,
)
from async_migrate.codemods.vocabulary.fastapi import (
    CBV_DECORATORS,
    DEPENDS,
    HTTP_VERBS,
    REGISTRATION_ATTRS,
    ROUTE_ATTRS,
    ROUTE_CLASSES,
    WEBSOCKET_ATTRS,
)
from async_migrate.codemods.vocabulary.pydantic import VALIDATOR_MARKERS
from async_migrate.codemods.vocabulary.python import (
    ANNOTATED,
    CALLABLE_TYPES,
    CASTS,
    CONTEXT_VARIABLES,
    GENERATED_INIT,
    PARTIALS,
)
from async_migrate.codemods.vocabulary.sqlalchemy import (
    ANNOTATED_STRATEGIES,
    ASSOCIATION_PROXIES,
    ASYNC_SESSIONMAKERS,
    BACKREF_CONSTRUCTORS,
    DECLARED_ATTRS,
    DEFERRABLE_COLUMNS,
    DEFERRED_COLUMNS,
    SYNC_SESSIONMAKERS,
    VALIDATES,
)
from async_migrate.codemods.vocabulary.starlette import (
    EVENT_HOOKS,
    HOOK_ATTRIBUTES,
    HOOK_DECORATORS,
    HOOK_KEYWORDS,
    HOOK_LISTS,
    HOOK_REGISTRATIONS,
    MIDDLEWARE_WRAPPERS,
    MOUNT,
    MOUNT_CLASSES,
    event_kind,
)

# Builtins that only look at a function handed to them.
_Node = TypeVar("_Node", bound=ast.AST)
_COLLECTIONS = frozenset({ast.Dict, ast.List, ast.Set, ast.Tuple, ast.DictComp, ast.ListComp, ast.SetComp})
_INSPECTS = frozenset({"repr", "str", "print", "id", "hash", "type", "isinstance", "callable", "hasattr", "getattr"})

# The argument of each hook registration method that names the hook: (position, keyword).
_HOOK_ARGUMENT = {"add_middleware": (0, "middleware_class"), "add_exception_handler": (1, "handler"),
                  "add_event_handler": (1, "func")}

# Names every module sees without binding them: never one a star import brings.
_BUILTINS = frozenset(dir(builtins))


def _type_like(node: ast.expr) -> bool:
    """A type argument as written: a capitalised name (`Out`, `schemas.Out`) or a builtin type;
    never a lower-case key (`kind` in `COUNTERS[kind]`)."""
    written = dotted(node)
    if written is None:
        return False
    last = written.rpartition(".")[2]
    return last[:1].isupper() or last in _BUILTIN_TYPES


_OWN_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)  # code run later, or not here

_BUILTIN_TYPES = frozenset({"int", "str", "float", "bool", "bytes", "dict", "list", "set", "tuple", "frozenset"})
# Methods changing a dict or list in place.
_IN_PLACE = dispatch.MUTATORS | {"pop", "popitem", "clear", "remove"}
# Collections whose last type argument is what an item taken out is (`dict[int, asyncio.Future]`),
# and those whose first is (`list[asyncio.Queue]`).
_MAPPINGS = frozenset({
    "dict", "builtins.dict", "typing.Dict", "typing.Mapping", "typing.MutableMapping", "collections.defaultdict",
    "collections.OrderedDict", "collections.abc.Mapping", "collections.abc.MutableMapping", "weakref.WeakValueDictionary",
})
_SEQUENCES = frozenset({
    "list", "builtins.list", "set", "builtins.set", "typing.List", "typing.Set", "typing.Deque", "collections.deque",
    "collections.abc.Sequence", "collections.abc.MutableSequence", "typing.Sequence",
})
# Wrappers whose arguments are the types an annotation allows: `Optional[asyncio.Event]`.
_OPTIONAL = frozenset({"typing.Optional", "typing.Union", "typing_extensions.Optional", "typing_extensions.Union"})


class Collector:
    """Collects `facts.Module` from one module's text and `ast` tree."""

    def __init__(self, path: str, text: str, tree: ast.Module, name: str | None = None) -> None:
        self.tree = tree
        self.source = Source(text)
        self.name, self.is_package = module_name(path)
        if name is not None:  # named from an import root other than PATH (codemods.roots)
            self.name = name
        self.facts = facts.Module(path=path, name=self.name)
        self.defined: set[str] = set()
        self._nested = False  # the module-level statement being read sits in a compound one
        # Imports inside the function being read (`from db import SessionLocal` in its body,
        # often to avoid an import cycle): they resolve like the module's own.
        self.scope_imports: dict[str, str] = {}
        # In a route nested in a router factory: what the factory's names may hold (`enclosing`)
        self.enclosing: enclosing.Bindings = {}
        self._bound: dict[str, int] = {}  # module-level name -> how many statements bind it
        self._collections: list[str] = []  # names assigned a display or comprehension
        # Module-level displays by name (`ROUTES = {...}`), and the `for` loops (module level, or the
        # function being read) by the names their targets bind: a registration in a loop reads its
        # endpoint from what the loop goes over.
        self.displays: dict[str, ast.expr] = {}
        self.loops: dict[int, dict[str, ast.For | ast.AsyncFor]] = {}
        # module-level names bound to an element of a container (`hooks = HOOKS["a"]`) -> the container
        self._elements: dict[str, str] = {}
        self._rebound: set[str] = set()  # module-level names bound more than once (`_module_lambda`)
        # Names in a module-level display that a loop over it registers as endpoints.
        self._registered: set[int] = set()
        # Module-level calls whose value nothing reads (`Module.called`).
        self._unread_results: set[int] = set()
        self._kept_results: dict[int, tuple[str, tuple[str, ...]]] = {}  # and those a global keeps
        self._module_level: frozenset[str] = frozenset()
        self._module_level_sizes = (0, 0)
        self._constants: dict[str, ast.expr] | None = None  # see `constant`
        self._constants_changed = False  # `_constants` has lost the names changed in place
        self._mounted: dict[int, str | None] | None = None  # see `mounted_path`

    @property
    def module_level(self) -> frozenset[str]:
        """The names the module binds or imports (`defined` and the keys of `facts.imports`),
        asked for every function and module-level expression: both only grow, so their sizes
        tell whether the set made last is still theirs."""
        sizes = (len(self.defined), len(self.facts.imports))
        if sizes != self._module_level_sizes:
            self._module_level = frozenset(self.defined.union(self.facts.imports))
            self._module_level_sizes = sizes
        return self._module_level

    def collect(self) -> facts.Module:
        statements = list(self.definitions(self.tree.body))
        for statement in statements:
            self.define(statement)
        top = {id(statement) for statement in self.tree.body}
        self.loops = loop_targets(statements)
        self._registered = self._registered_elements(statements)
        self._unread_results = _unread_results(self.tree.body)
        # imported here: it reads `objects`, which reads this module
        from async_migrate.codemods.astcollect import awaited_later

        handed, self._kept_results = awaited_later.module_level(self.tree.body, self.ref, self.source.text)
        self._unread_results |= handed
        for statement in statements:
            if not isinstance(statement, (*syntax.COMPOUND, *FUNCTIONS, ast.ClassDef, ast.Match)):
                self._nested = id(statement) not in top
                self._module_statement(statement)
        self._values_elsewhere(self.tree.body, {id(statement) for statement in statements})
        self.facts.constructions = self._module_calls()
        if self.source.mentions("Coroutine") or self.source.mentions("Awaitable"):
            self.facts.coroutine_aliases = coroutine_returns.aliases(self.tree, self.ref, self.constant)
        self.facts.collections = [name for name in self._collections if self._bound.get(name, 0) == 1]
        containers = self.facts.containers
        for name, values in containers.items():
            if self._bound.get(name, 0) > 1 and dispatch.UNREAD not in values:
                containers[name] = (*values, dispatch.UNREAD)
        keys = DefinitionKeys()
        for statement in statements:
            if isinstance(statement, FUNCTIONS):
                self.function(statement, statement.name, keys)
            elif isinstance(statement, ast.ClassDef):
                self._class(statement, keys)
        self._assigned_to_classes(statements)
        if "map_imperatively" in self.source.text:
            self._imperative_mappings()
        if self.source.mentions("ariadne") or self.source.mentions("graphene"):
            self._schema_callables()
        self.facts.scoped = syntax.may_name(self.source, "scoped_session")
        self.facts.by_name = by_name.lookups(self.source.text, self.tree, self.ref, self.name)
        # A scheduler or task queue given a function's dotted path calls it where no call shows; a
        # test's `patch("services.users.count_items", ...)` replaces it and calls nothing (phase
        # two names such patches in a follow-up of its own).
        if not is_test_path(self.facts.path):
            references = self.facts.references
            references += [ref for ref in by_name.dotted_strings(self.source.text, self.tree) if ref not in references]
        self.facts.registering_stores, self.facts.loose_names = registries.read(self.tree, self.resolve)
        return self.facts

    def _module_calls(self) -> list[facts.Value]:
        """`Module.constructions`: every call with arguments the module's own code makes (not in a
        function), at any depth of its statements and expressions; in a class body or a lambda
        too, which build what they build later or once (`uow = providers.Singleton(UnitOfWork,
        SessionLocal)` on a container, `make = lambda: UnitOfWork(SessionLocal)`)."""
        found: list[facts.Value] = []
        stack: list[ast.AST] = list(self.tree.body)
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                continue
            if kind is ast.Call and (node.args or node.keywords):  # type: ignore[attr-defined]
                value = self._value(node)  # type: ignore[arg-type]
                if value is not None and value.kind == "call" and value.ref is not None:
                    value.line = node.lineno  # type: ignore[attr-defined]
                    found.append(value)
            stack.extend(syntax.field_children(node))
        found.sort(key=lambda value: value.line)
        return found

    def _schema_callables(self) -> None:
        """`Module.schema_callables`: the functions a GraphQL schema is handed by call. Names are
        resolved at module level: a nested function so handed is not found (nor is it by calls)."""
        found = self.facts.schema_callables
        for call in ast.walk(self.tree):
            if type(call) is not ast.Call:
                continue
            func, line = call.func, self.source.line_of(call)
            if type(func) is ast.Attribute and func.attr == "set_field":
                given, owner = argument(call, 1, "resolver"), self.ref(func.value)
                target = self.ref(given) if given is not None else None
                if owner is not None and target is not None:
                    found.append((owner, "set_field", target, line))
                continue
            callee = self.ref(func) if type(func) is ast.Name or type(func) is ast.Attribute else None
            if callee is None:
                continue
            for named in call.keywords:
                target = self.ref(named.value) if named.arg == "resolver" else None
                if target is not None:
                    found.append((callee, "resolver", target, line))
            table = argument(call, 1, "bindings")
            if type(table) is ast.Dict:
                for value in table.values:
                    target = self.ref(value)
                    if target is not None:
                        found.append((callee, "bindings", target, line))

    def _imperative_mappings(self) -> None:
        """`facts.Module.mapped`: each `X.map_imperatively(Class, table, properties={...})`, its
        relationship() and deferred column properties read as a declarative class body's. A
        relationship may name the mapper another such call returned (`lines_mapper =
        reg.map_imperatively(OrderLine, ...)`)."""
        scopes = [self.tree, *(n for n in ast.walk(self.tree) if isinstance(n, FUNCTIONS))]
        keys: dict[str, tuple[str, ...]] = {}  # module-level `name = Table(...)` -> its primary key columns
        columns: dict[str, tuple[str, ...]] = {}  # and every column it names
        displays: dict[str, list[ast.expr]] = {}  # module-level names -> each value assigned them
        for statement in self.tree.body:
            if type(statement) is ast.Assign and len(statement.targets) == 1 and type(statement.targets[0]) is ast.Name:
                displays.setdefault(statement.targets[0].id, []).append(statement.value)
            if type(statement) is ast.Assign and len(statement.targets) == 1 and type(statement.targets[0]) is ast.Name \
                    and type(statement.value) is ast.Call and (self.ref(statement.value.func) or "").endswith(".Table"):
                keys[statement.targets[0].id] = tuple(
                    column_name for column in statement.value.args
                    if type(column) is ast.Call and (flag := argument(column, 99, "primary_key")) is not None
                    and syntax.named_constant(flag) == "True" and column.args
                    and (column_name := string(column.args[0])) is not None
                )
                columns[statement.targets[0].id] = tuple(
                    column_name for column in statement.value.args
                    if type(column) is ast.Call and column.args and (column_name := string(column.args[0])) is not None
                )
        # names a display is changed through after it is built (`props["x"] = ...`, `props.update(...)`)
        changed = {
            node.value.id for node in ast.walk(self.tree)
            if type(node) is ast.Subscript and type(node.ctx) is not ast.Load and type(node.value) is ast.Name
        } | {
            node.func.value.id for node in ast.walk(self.tree)
            if type(node) is ast.Call and type(node.func) is ast.Attribute and type(node.func.value) is ast.Name
        }
        for scope in scopes:
            calls = [
                n for n in ast.walk(scope) if type(n) is ast.Call and type(n.func) is ast.Attribute
                and n.func.attr == "map_imperatively" and n.args
            ]
            if not calls:
                continue
            mappers: dict[str, str] = {}
            local: dict[str, list[ast.expr]] = {name: [ast.Constant(None)] for name in changed}  # a function's own names shadow the module's
            for node in ast.walk(scope):
                if type(node) is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name \
                        and node.value in calls:
                    mapped = self.ref(node.value.args[0])
                    if mapped is not None:
                        mappers[node.targets[0].id] = mapped
                if scope is not self.tree and isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                    targets: list[ast.expr] = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        for part in ast.walk(target):
                            if type(part) is ast.Name:
                                value = node.value if type(node) is ast.Assign and target is part else None
                                local.setdefault(part.id, []).append(
                                    value if value is not None else ast.Constant(None)  # rebound otherwise: unread
                                )
            for call in calls:
                mapped = self.ref(call.args[0])
                if mapped is None:
                    continue
                found = facts.ClassFacts(name="", qualname="", line=call.lineno)
                given = argument(call, 2, "properties")
                properties = _mapping_properties(given, {**displays, **local})
                table = argument(call, 1, "local_table")
                table_name = table.id if type(table) is ast.Name else None
                primary = keys.get(table_name, ()) if table_name is not None else ()
                renamed = argument(call, 99, "column_prefix") is not None or properties is None
                for key, value in properties or ():
                    if type(value) is ast.Call:
                        self._relationship(found, [key], value)
                        first = argument(value, 0, "argument")
                        if key in found.relationships and type(first) is ast.Name and first.id in mappers:
                            found.targets[key] = mappers[first.id]
                        self._descriptor(found, [key], value)
                    if key not in found.relationships and self._may_move_key(key, value, table_name, primary):
                        renamed = True
                before = self.facts.mapped.get(mapped, facts.ImperativeMapping())
                self.facts.mapped[mapped] = facts.ImperativeMapping(
                    relationships={**before.relationships, **found.relationships},
                    targets={**before.targets, **found.targets},
                    primary=before.primary or (() if renamed else primary),
                    deferred=(*before.deferred, *(name for name in found.deferred if name not in before.deferred)),
                    history=(*before.history, *(name for name in found.history if name not in before.history)),
                    columns=before.columns or (
                        () if argument(call, 99, "column_prefix") is not None else columns.get(table_name or "", ())
                    ),
                    unread=before.unread or (ast.unparse(given) if properties is None and given is not None else ""),
                )

    def _may_move_key(self, key: str, value: ast.expr, table: str | None, primary: tuple[str, ...]) -> bool:
        """Whether the mapping property `key: value` (no relationship) may map a primary key column
        of `table` under another attribute name, or another column under a key column's name: the
        class's key is then not the Table's column names. A SQL expression (`column_property(
        select(...).scalar_subquery())`, `func.length(t.c.email)`) maps no column of its own."""
        columns: list[ast.expr]
        if type(value) is ast.Call:
            if self.ref(value.func) not in DEFERRED_COLUMNS | DEFERRABLE_COLUMNS:
                return True
            columns = list(value.args)
        else:
            columns = [value]
        for column in columns:
            if type(column) is ast.Call or type(column) is ast.BinOp:
                continue  # an expression over columns: read, never mapped as one
            written = _table_column(column)
            if written is None:
                return True  # a name or anything else: which column it is is not read
            owner, name = written
            if owner == table and (name in primary or key in primary) and name != key:
                return True
        return False

    @functools.cached_property
    def module_defs(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        """The module's top-level functions by name (a later definition wins, as at run time)."""
        return {s.name: s for s in self.tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def definitions(self, body: list[ast.stmt]) -> Iterator[ast.stmt]:
        """Statements of a module or class body, looking through if/try/with/for blocks
        (indented ones: a one-line `if x: y` suite is not looked into)."""
        for statement in body:
            yield statement
            if isinstance(statement, syntax.COMPOUND):
                for block in _blocks(statement):
                    if block and not self.source.one_line_suite(block):
                        yield from self.definitions(block)

    # ------------------------------------------------------- names and imports

    def define(self, statement: ast.stmt) -> None:
        """Record the names a module-level statement binds: imports and definitions."""
        kind = type(statement)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
            self.defined.add(statement.name)  # type: ignore[attr-defined]
        elif kind is ast.Import:
            self.facts.imports.update(self.imported(statement))  # type: ignore[arg-type]
        elif kind is ast.ImportFrom:
            self._import_from(statement)  # type: ignore[arg-type]
        elif kind is ast.Assign:
            for target in statement.targets:  # type: ignore[attr-defined]
                if type(target) is ast.Name:
                    self.defined.add(target.id)
                    self._bound[target.id] = self._bound.get(target.id, 0) + 1
        elif kind is ast.AnnAssign and type(statement.target) is ast.Name:  # type: ignore[attr-defined]
            self.defined.add(statement.target.id)  # type: ignore[attr-defined]
            self._bound[statement.target.id] = self._bound.get(statement.target.id, 0) + 1  # type: ignore[attr-defined]
        elif kind is ast.AugAssign and type(statement.target) is ast.Name:  # type: ignore[attr-defined]
            self._bound[statement.target.id] = self._bound.get(statement.target.id, 0) + 1  # type: ignore[attr-defined]

    def constant(self, name: str) -> ast.expr | None:
        """The value a module-level name is assigned, when one top-level statement binds it and
        nothing in the module changes it in place (`STREAM["stream_results"] = True`,
        `STREAM.update(...)`, `del STREAM[k]`)."""
        if self._constants is None:
            self._constants = {
                statement.targets[0].id: statement.value
                for statement in self.tree.body
                if type(statement) is ast.Assign and len(statement.targets) == 1
                and type(statement.targets[0]) is ast.Name and self._bound.get(statement.targets[0].id) == 1
            }
        # Most names asked are bound otherwise (an import, a definition): only a name bound
        # once needs the walk of the whole module for its changes in place, made once.
        if name not in self._constants or self._constants_changed:
            return self._constants.get(name)
        self._constants_changed = True
        for node in ast.walk(self.tree):
            changed: ast.expr | None = None
            if type(node) is ast.Subscript and type(node.ctx) is not ast.Load:
                changed = node.value
            elif type(node) is ast.Attribute and node.attr in _IN_PLACE:
                changed = node.value
            if type(changed) is ast.Name:
                self._constants.pop(changed.id, None)
        return self._constants.get(name)

    def path_string(self, node: ast.AST | None, local: AbstractSet[str] = frozenset(), depth: int = 0) -> str | None:
        """A route's path as a string: a literal, a module-level constant bound once and not
        shadowed by `local` (`BASE = "/projects/{project_id}/notes"`), or a `+` or f-string join
        of those (`BASE + "/{note_id}"`); else None."""
        if node is None or depth > 8:
            return None
        found = string(node)
        if found is not None:
            return found
        kind = type(node)
        if kind is ast.Name:
            name = node.id  # type: ignore[attr-defined]
            return None if name in local else self.path_string(self.constant(name), local, depth + 1)
        if kind is ast.BinOp and type(node.op) is ast.Add:  # type: ignore[attr-defined]
            left = self.path_string(node.left, local, depth + 1)  # type: ignore[attr-defined]
            right = self.path_string(node.right, local, depth + 1) if left is not None else None  # type: ignore[attr-defined]
            return left + right if left is not None and right is not None else None
        if kind is ast.JoinedStr:
            parts = []
            for value in node.values:  # type: ignore[attr-defined]
                if type(value) is ast.FormattedValue:
                    if value.conversion != -1 or value.format_spec is not None:
                        return None
                    value = value.value
                part = self.path_string(value, local, depth + 1)
                if part is None:
                    return None
                parts.append(part)
            return "".join(parts)
        return None

    def _import_from(self, node: ast.ImportFrom) -> None:
        if node.names[0].name == "*":
            base = self._import_base(node)
            if base is None:
                return
            self.facts.imports.setdefault("*", "")
            stars = self.facts.imports["*"]
            self.facts.imports["*"] = f"{stars},{base}" if stars else base
            return
        self.facts.imports.update(self.imported(node))

    def _import_base(self, node: ast.ImportFrom) -> str | None:
        """The absolute module a `from ... import` reads from; None above the top package."""
        base = node.module or ""
        if node.level:
            package = self.name.split(".") if self.is_package else self.name.split(".")[:-1]
            depth = node.level - 1
            if depth > len(package):
                return None
            anchor = package[: len(package) - depth] if depth else package
            base = ".".join([*anchor, base] if base else anchor)
        return base

    def imported(self, node: ast.Import | ast.ImportFrom) -> dict[str, str]:
        """The names an import statement binds -> the absolute references they stand for
        (`*` imports aside)."""
        found: dict[str, str] = {}
        if type(node) is ast.Import:
            for alias in node.names:
                if alias.asname is not None:
                    found[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    found[head] = head
            return found
        base = self._import_base(node)  # type: ignore[arg-type]
        if base is None:
            return found
        for alias in node.names:
            if alias.name != "*":
                local = alias.asname if alias.asname is not None else alias.name
                found[local] = f"{base}.{alias.name}" if base else alias.name
        return found

    def resolve(self, expression: str | None, local: AbstractSet[str] = frozenset()) -> str | None:
        """Absolute reference of a dotted expression written in this module."""
        if expression is None:
            return None
        head, _, rest = expression.partition(".")
        if head in local:
            return None
        target = self.scope_imports.get(head) or self.facts.imports.get(head)
        if target is None:
            if head in self.defined or (self.name and "*" in self.facts.imports and head not in _BUILTINS):
                # A name neither bound nor imported by name, in a module with a star import
                # (`from app.db import *` then `Depends(get_db)`): it may come from a star, so it
                # is this module's name, which the index follows through the stars
                # (`Project.resolve`); read as a bare name it would be no project definition.
                target = f"{self.name}.{head}" if self.name else head
            else:
                target = head
        # Interned: a module names the same references over and over, and its facts are
        # pickled (by object) and kept for the whole run; one string each is a fifth of them.
        return sys.intern(f"{target}.{rest}" if rest else target)

    def ref(self, node: ast.AST | None, local: frozenset[str] = frozenset()) -> str | None:
        return self.resolve(dotted(node), local)

    def cast_value(self, node: _Node, local: AbstractSet[str] = frozenset()) -> _Node | ast.expr:
        """`x` for `typing.cast(T, x)` (a cast of a cast too), else `node`: the cast hands back its
        value itself, so where the Session is followed it is `x`, whatever type `T` names."""
        found: _Node | ast.expr = node
        while (
            isinstance(found, ast.Call) and len(found.args) == 2 and not found.keywords
            and syntax.last_name(found.func) == "cast" and type(found.args[1]) is not ast.Starred
            and type(found.args[0]) is not ast.Starred and self.resolve(dotted(found.func), local) in CASTS
        ):
            found = found.args[1]
        return found

    def expression(self, node: ast.AST, local: frozenset[str] = frozenset(), awaits: bool = False) -> str | None:
        """An expression in the value-flow notation of `facts.Function.bindings`, or None.

        Names, attributes and calls only: `$self.db.query` (a local head),
        `app.db.SessionLocal()` (a resolved head), `super().get`; with `awaits`, an awaited
        step is read as the call it awaits (`facts.Call.through_await`).
        """
        steps: list[str] = []
        while True:
            kind = type(node)
            if kind is ast.Attribute:
                steps.append("." + node.attr)  # type: ignore[attr-defined]
                node = node.value  # type: ignore[attr-defined]
            elif kind is ast.Call:
                func = node.func  # type: ignore[attr-defined]
                if type(func) is ast.Name and func.id == "super" and "super" not in local:
                    head = "super()"
                    break
                cast = self.cast_value(node, local)
                if cast is not node:  # `cast(Session, request.state.db)` is `request.state.db`
                    node = cast
                    continue
                attribute = _getattr_literal(node, local)  # type: ignore[arg-type]
                if attribute is not None:  # `getattr(request.state, "db")` is `request.state.db`
                    steps.append("." + attribute)
                    node = node.args[0]  # type: ignore[attr-defined]
                    continue
                steps.append("()")
                node = func
            elif awaits and kind is ast.Await:
                node = node.value  # type: ignore[attr-defined]
            else:
                name = syntax.name_of(node)
                if name is None:
                    return None
                head = f"${name}" if name in local else (self.resolve(name) or name)
                break
        return sys.intern(head + "".join(reversed(steps)))  # as `resolve`

    # -------------------------------------------------------- module level

    def _pair_ends(self, target: ast.expr, value: ast.expr, line: int) -> None:
        """`SEND, RECV = anyio.create_memory_object_stream(10)`: each end a module-level value
        built by that call (`facts.Module.values`), as AM138 reads a primitive built at import."""
        made = loop_holders.pair_made(value, self.ref) if type(target) in (ast.Tuple, ast.List) else None
        recorded = self._value(made) if made is not None else None
        if recorded is None:
            return
        recorded.line = line
        for element in target.elts:  # type: ignore[attr-defined]
            if type(element) is ast.Name:
                self.facts.values[element.id] = recorded

    def _module_statement(self, statement: ast.stmt) -> None:
        value: ast.expr | None = None
        target: str | None = None
        kind = type(statement)
        if kind is ast.Assign and len(statement.targets) == 1:  # type: ignore[attr-defined]
            if type(statement.targets[0]) is ast.Name:  # type: ignore[attr-defined]
                target = statement.targets[0].id  # type: ignore[attr-defined]
                element_of = dispatch.accessed(statement.value)  # type: ignore[attr-defined]
                if element_of is not None and not element_of.startswith(dispatch.BY_NAME):
                    self._elements[target] = element_of
            value = statement.value  # type: ignore[attr-defined]
            self._pair_ends(statement.targets[0], value, statement.lineno)  # type: ignore[attr-defined]
            self._set_attribute(statement.targets[0], value, statement.lineno)  # type: ignore[attr-defined]
            self._state_set(statement.targets[0], value, statement.lineno)  # type: ignore[attr-defined]
            self._handoff(statement.targets[0], value, statement.lineno, assigned=True)  # type: ignore[attr-defined]
            self.assigned_hook(statement.targets[0], value)  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign and type(statement.target) is ast.Name:  # type: ignore[attr-defined]
            target, value = statement.target.id, statement.value  # type: ignore[attr-defined]
            self.facts.declared[target] = self._declared_types(statement.annotation)  # type: ignore[attr-defined]
            items = self._declared_items(statement.annotation)  # type: ignore[attr-defined]
            if items:
                self.facts.declared_items[target] = items
            context_held = self._context_type(statement.annotation)  # type: ignore[attr-defined]
            if context_held:
                self.facts.context_types[target] = context_held
        elif kind is ast.Expr:
            value = statement.value  # type: ignore[attr-defined]
            if type(value) is ast.Call and type(value.func) is ast.Attribute and value.func.attr == "include_router":
                self.include(value, self.ref(value.func.value))
            if type(value) is ast.Call and type(value.func) is ast.Attribute and value.func.attr == MOUNT:
                self.mount(value, self.ref(value.func.value))
            if type(value) is ast.Call:
                self.configure(value, statement.lineno)
                self._listen(value, statement.lineno)
                self._handoff(value.func, value, statement.lineno)
                self._named_set(value, statement.lineno)
        if kind is ast.Assign or kind is ast.AugAssign or kind is ast.AnnAssign:
            targets = statement.targets if kind is ast.Assign else [statement.target]  # type: ignore[attr-defined]
            for changed in targets:
                self.changed(dispatch.changed(changed), inert=dispatch.inert(statement.value))  # type: ignore[attr-defined]
            if kind is ast.AugAssign:
                for node in ast.walk(statement.value):  # type: ignore[attr-defined]
                    if type(node) is ast.Call:
                        # `routes += [Route("/x", f)]`: a route object as in the display assigned
                        self.registration(node)
                        self.handed(node)
        if target is not None:
            self._module_lambda(target, value)
            self._url(target, value)
        if value is None:
            return
        for node in syntax.walk_fields(value):
            if type(node) is ast.Call:
                self.hooks(node)
                self.registration(node)
                self.handed(node)
        self.scan_depends(value)
        taken = overrides(statement)
        overridden = override(statement)
        if overridden is not None:
            self.overriding(overridden[1], overridden[0])
        if target is not None and type(value) is ast.Call and value.args and self.ref(value.func) in PARTIALS:
            # `get_repo = partial(get_repository, Repo)`: what uses `get_repo` uses the function
            # it runs, and is read where `get_repo` is (a value, a call, a `Depends`).
            taken = taken | {id(value.args[0])}
        self._module_references(value, statement.lineno, taken, whole_value=target is not None)
        if target is None:
            return
        if type(value) in _COLLECTIONS:
            self._collections.append(target)
            if self._makers(value, ASYNC_SESSIONMAKERS):
                self.facts.async_maker_tables.append(target)
                self.facts.containers.setdefault(target, (dispatch.UNREAD,))
            elif self._makers(value, SYNC_SESSIONMAKERS):
                self.facts.sync_maker_tables.append(target)
                self.facts.containers.setdefault(target, (dispatch.UNREAD,))
        held = dispatch.display(value)
        if type(value) in (ast.List, ast.Tuple):
            rows = self._rows(value)  # type: ignore[arg-type]
            if rows is not None:
                self.facts.rows[target] = rows
        if held is not None:
            self.facts.displayed[target] = loop_holders.displayed(value, self.expression)
            self.displays[target] = value
            self.facts.containers[target] = tuple(
                dispatch.UNREAD if written == dispatch.UNREAD else self._held_ref(written) or dispatch.UNREAD
                for written in held
            )
        recorded = self._value(value)
        if recorded is not None:
            recorded.line = statement.lineno
            self.facts.values[target] = recorded
            if recorded.kind == "call" and recorded.ref in ENGINE_CONSTRUCTORS:
                self.facts.engines.append(
                    facts.EngineCall(
                        line=statement.lineno,
                        callee=recorded.ref,
                        args=recorded.args,
                        target=target,
                        conditional=self._nested,
                    )
                )

    def _url(self, target: str, value: ast.expr | None) -> None:
        """`facts.Module.urls`: a URL literal bound to a module-level name, once."""
        literal = value.value if type(value) is ast.Constant else None
        urls = self.facts.urls
        if isinstance(literal, str) and "://" in literal:
            urls[target] = literal if urls.get(target, literal) == literal else ""
        elif target in urls:
            urls[target] = ""

    def _held_ref(self, written: str) -> str | None:
        """A module-level display's element resolved: a lookup by name (`getattr(crud, name)`)
        stays one, on the object resolved (the module itself for `globals()[name]`)."""
        if written.startswith(dispatch.BY_NAME):
            looked = written[len(dispatch.BY_NAME):]
            ref = self.resolve(looked) if looked else self.name
            return None if ref is None else dispatch.BY_NAME + ref
        return self.resolve(written)

    def _makers(self, value: ast.expr, makers: AbstractSet[str]) -> bool:
        """Whether every value a display or comprehension holds is a call of one of `makers`."""
        if type(value) is ast.DictComp:
            made = [value.value]
        elif type(value) is ast.Dict:
            made = list(value.values) if None not in value.keys else []
        elif type(value) in (ast.ListComp, ast.SetComp):
            made = [value.elt]  # type: ignore[attr-defined]
        else:
            made = list(value.elts)  # type: ignore[attr-defined]
        return bool(made) and all(
            type(node) is ast.Call and self.resolve(dotted(node.func)) in makers
            for node in made
        )

    def _values_elsewhere(self, body: list[ast.stmt], read: AbstractSet[int]) -> None:
        """Names used as values outside what `_module_statement` reads (`read`: the statements it
        was given, of which it reads one assigned value or expression): compound statements'
        headers (`for opener in (get_session,)`), one-line suites, `match` cases, class bodies
        (`handler = get_session`), decorators' arguments (`@retry(fallback=get_session)`), parameter
        defaults that are no plain name (`cb=partial(get_session)`; a name is `Param.default_ref`),
        and every other statement (`TABLE += [f]`, `a = b = f`, `assert f`). Function bodies are
        the body reader's."""
        for statement in body:
            kind = type(statement)
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
                for decorator in statement.decorator_list:  # type: ignore[attr-defined]
                    # a bare `@name` is called with the function; a call's arguments are values
                    if type(decorator) is ast.Call:
                        for given in [*decorator.args, *(k.value for k in decorator.keywords)]:
                            self._module_references(given, given.lineno)
                if kind is ast.ClassDef:
                    for given in (k.value for k in statement.keywords):  # type: ignore[attr-defined]
                        self._module_references(given, given.lineno)
                    self._values_elsewhere(statement.body, read)  # type: ignore[attr-defined]
                    continue
                for _, default in syntax.parameters(statement.args):  # type: ignore[attr-defined]
                    if default is not None and type(default) is not ast.Name and type(default) is not ast.Attribute:
                        self._module_references(default, default.lineno)
            elif isinstance(statement, syntax.COMPOUND) or kind is ast.Match:
                for header in _headers(statement):
                    self._module_references(header, header.lineno)
                blocks = [case.body for case in statement.cases] if kind is ast.Match else _blocks(statement)  # type: ignore[attr-defined]
                for block in blocks:
                    self._values_elsewhere(block, read)
            elif kind is ast.Assign or kind is ast.AnnAssign or kind is ast.AugAssign:
                # the assigned value, as `_module_statement` reads it (a target's key is no value given)
                value = statement.value  # type: ignore[attr-defined]
                whole = id(statement) in read and kind is not ast.AugAssign and (
                    kind is ast.AnnAssign or len(statement.targets) == 1  # type: ignore[attr-defined]
                )
                if value is not None and not whole:
                    self._module_references(value, statement.lineno, overrides(statement))
            elif kind is ast.Import or kind is ast.ImportFrom:
                continue  # names and aliases only, no expression: nothing used as a value
            elif kind is not ast.Expr or id(statement) not in read:
                self._module_references(statement, statement.lineno)  # type: ignore[arg-type]

    def _registered_elements(self, statements: list[ast.stmt]) -> set[int]:
        """`for path, fn in [("/a", a), ...]: router.add_api_route(path, fn)` at module level, the
        display written in the loop or assigned once to a module-level name it goes over: the ids
        of the names in it that the loop's body registers as endpoints, which FastAPI takes as a
        route's (not a value other code may await)."""
        assigned: dict[str, list[ast.expr]] = {}
        for statement in statements:
            if type(statement) is ast.Assign:
                for target in statement.targets:
                    if type(target) is ast.Name:
                        assigned.setdefault(target.id, []).append(statement.value)
        found: set[int] = set()
        for loop in statements:
            if type(loop) is not ast.For and type(loop) is not ast.AsyncFor:
                continue
            over = loop.iter
            if type(over) is ast.Name and len(assigned.get(over.id, ())) == 1:
                over = assigned[over.id][0]
            if type(over) is not ast.List and type(over) is not ast.Tuple:
                continue
            inside = [n for part in loop.body for n in ast.walk(part)]
            taken: list[int] = []
            for node in inside:
                if type(node) is not ast.Call:
                    continue
                func = node.func
                registers = type(func) is ast.Attribute and func.attr in REGISTRATION_ATTRS or (
                    type(func) in (ast.Name, ast.Attribute) and self.ref(func) in ROUTE_CLASSES
                )
                endpoint = argument(node, 1, "endpoint") if registers else None
                if type(endpoint) is ast.Name:
                    taken.append(id(endpoint))
            # a loop name used anywhere else in the body (`HANDLERS.append(fn)`) is a value there
            uses: dict[str, list[int]] = {}
            for node in inside:
                if type(node) is ast.Name:
                    uses.setdefault(node.id, []).append(id(node))
            endpoints = {name for name, found_ids in uses.items() if found_ids and set(found_ids) <= set(taken)}
            for element in over.elts:
                bound = _unpack(loop.target, element) or {}
                for name in endpoints & bound.keys():
                    held = bound[name]
                    if type(held) is ast.Call and held.args and self.ref(held.func) in PARTIALS:
                        held = held.args[0]
                    found.add(id(held))
        return found

    def _set_attribute(self, target: ast.expr, value: ast.expr, line: int) -> None:
        """`Base.query = ScopedSession.query_property()`: a call's result set on a name's attribute
        (a class defined elsewhere gets it as if its body assigned it)."""
        if type(target) is not ast.Attribute or type(value) is not ast.Call:
            return
        owner = self.ref(target.value)
        callee = self.ref(value.func)
        if owner is not None and callee is not None:
            self.facts.set_attributes.append((owner, target.attr, callee, line))

    def _named_set(self, call: ast.Call, line: int) -> None:
        """`setattr(Repo, "session", SessionLocal())` at module level: `Repo.session = SessionLocal()`."""
        func = call.func
        if type(func) is not ast.Name or func.id != "setattr" or len(call.args) != 3 or call.keywords:
            return
        name = syntax.string(call.args[1])
        if name is None and type(call.args[2]) is not ast.Constant:
            # a name known only at run time may pick any attribute of X, a Session's among them
            owner = self.ref(call.args[0])
            if owner is not None:
                self.facts.computed_sets.append((owner, line))
            return
        if name is None or not name.isidentifier():
            return
        target = ast.copy_location(ast.Attribute(value=call.args[0], attr=name, ctx=ast.Store()), call)
        self._set_attribute(target, call.args[2], line)
        self._handoff(target, call.args[2], line, assigned=True)

    def _state_set(self, target: ast.expr, value: ast.expr, line: int) -> None:
        """`app.state.config = AppConfig()` at module level (`facts.Module.state_sets`)."""
        if type(target) is not ast.Attribute or type(target.value) is not ast.Attribute or target.value.attr != "state":
            return
        owner = self.ref(target.value.value)
        assigned = self.expression(value)
        if owner is not None and assigned is not None:
            self.facts.state_sets.append((owner, target.attr, assigned, line))
            if type(value) is ast.Call:
                self.facts.state_set_args[line] = self.call_args(value)

    def _handoff(self, target: ast.expr, value: ast.expr, line: int, assigned: bool = False) -> None:
        """`BaseModel.set_session(session)`, `BaseModel.session = session`: a module-level value
        handed to an attribute of a dotted name, which a library base may keep and use."""
        if type(target) is not ast.Attribute:
            return
        owner = self.ref(target.value)
        if owner is None:
            return
        if not assigned and type(value) is ast.Call:
            given = (syntax.argument_value(item) for item in syntax.call_arguments(value))
            refs = tuple(ref for node in given if (ref := self.ref(node)) is not None)
            form = target.attr
        elif assigned and type(value) in (ast.Name, ast.Attribute):
            ref = self.ref(value)
            refs = (ref,) if ref is not None else ()
            form = "=" + target.attr
        else:
            return
        if refs:
            self.facts.class_handoffs.append((owner, form, refs, line))

    def _listen(self, call: ast.Call, line: int) -> None:
        """`event.listen(Book.title, "set", on_title, retval=True)`: a write of the attribute runs
        the handler, as the decorator form `@event.listens_for(...)` does."""
        callee = self.ref(call.func)
        if callee is None or callee.rpartition(".")[2] != "listen" or len(call.args) < 2:
            return
        from async_migrate.codemods.astcollect.listeners import target_ref, targets

        identifier = call.args[1]
        given = call.args[2] if len(call.args) > 2 else next((k.value for k in call.keywords if k.arg == "fn"), None)
        handler = self.ref(given) if given is not None else None
        for written in targets(call, self.loops):
            target = target_ref(self, written)
            if target is None or "." not in target or type(identifier) is not ast.Constant \
                    or type(identifier.value) is not str:
                continue
            self.facts.listens.append((callee, target, identifier.value, handler or "?", line))

    def changed(self, written: str | None, local: AbstractSet[str] = frozenset(), inert: bool = False) -> None:
        """A module-level (or imported) name changed in place: what its display holds is not all;
        `inert`: with values only that are no object (`facts.Module.stocked`)."""
        if written is None:
            return
        head = written.partition(".")[0]
        if head not in self.defined and head not in self.facts.imports and head not in self.scope_imports:
            return
        resolved = self.resolve(written, local)
        if resolved is not None and resolved not in self.facts.mutated:
            self.facts.mutated.append(resolved)
        if resolved is not None and not inert and resolved not in self.facts.stocked:
            self.facts.stocked.append(resolved)
        if written in self._elements and written not in local:
            # `hooks = HOOKS["a"]` then `hooks.append(f)`: the list changed is part of HOOKS
            self.changed(self._elements.pop(written), local, inert)

    def rebound(self, written: str, callee: str, local: AbstractSet[str]) -> None:
        """`signals.WAKEUP = asyncio.Event()` in a function: a module's name bound to what a call builds."""
        if written.partition(".")[0] in local:
            return
        target, built = self.resolve(written, local), self.resolve(callee, local)
        if target is not None and built is not None and built not in self.facts.rebound.get(target, ()):
            self.facts.rebound[target] = (*self.facts.rebound.get(target, ()), built)

    def handed(self, call: ast.Call, local: AbstractSet[str] = frozenset()) -> None:
        """`TABLE.update(...)`, `TABLE.append(f)`, and at module level `register(TABLE)`: the code
        handed the name may put more in it. (In function bodies the index reads the arguments.)"""
        func = call.func
        if type(func) is ast.Attribute and func.attr in dispatch.MUTATORS:
            inert = dispatch.inert(*(syntax.argument_value(item) for item in syntax.call_arguments(call)))
            self.changed(dispatch.holder(func.value), local, inert)  # `TABLE[k].append(f)` changes TABLE
            receiver = func.value
            loop = self.loops.get(id(call), {}).get(receiver.id) if type(receiver) is ast.Name and not local else None
            if loop is not None:
                # `for hooks in HOOKS.values(): hooks.append(f)` at module level changes HOOKS
                self.changed(dispatch.holder(dispatch.iterated(loop.iter)), inert=inert)
        if local or (type(func) is ast.Name and func.id in dispatch.READERS):
            return
        for item in syntax.call_arguments(call):
            self.changed(dotted(syntax.argument_value(item)))

    def configure(self, call: ast.Call, line: int, local: frozenset[str] = frozenset(), scope: str | None = None) -> None:
        """`X.configure(...)` on a name of the module (or imported): recorded for the sessionmaker
        it may configure; the project index tells whether X is one."""
        func = call.func
        if type(func) is not ast.Attribute or func.attr != "configure":
            return
        target = self.ref(func.value, local)
        if target is None:
            return
        self.facts.configures.append(
            facts.Configure(line=line, target=target, args=self.call_args(call, local), scope=scope)
        )

    def _module_references(
        self, value: ast.expr, line: int = 0, taken: AbstractSet[int] = frozenset(), whole_value: bool = False
    ) -> None:
        """Names a module-level expression uses as values (callback tables, partials). `whole_value`:
        the expression is all a single name is bound to."""
        known = self.module_level
        references = self.facts.references
        escapes = self.facts.escapes
        # Every default and decorator argument of the module comes here: one walk for the calls
        # and the names.
        calls, names = _calls_and_names(value)
        skipped = {id(node.func) for node in calls}
        held = set(taken) | self._registered
        called = self.facts.called
        for call in calls:
            self.takes(call, held, frozenset())
        whole = id(value) if whole_value else 0
        for call in calls:
            callee = dotted(call.func)
            if callee is None and type(call.func) is ast.Call:
                # `Access(write=True)(1, db)`: calls what the inner call builds (its `__call__`)
                built = dotted(call.func.func)
                if built is not None and built.split(".", 1)[0] in known:
                    resolved_built = self.resolve(built)
                    if resolved_built is not None:
                        entry = (f"{resolved_built}()", call.lineno, id(call) in self._unread_results)
                        if entry not in called:
                            called.append(entry)
                continue
            if callee is not None and callee.split(".", 1)[0] in known:
                resolved_callee = self.resolve(callee)
                if resolved_callee is not None:
                    if id(call) not in held and id(call) not in skipped and id(call) != whole:
                        self.facts.made_values.append((resolved_callee, call.lineno))
                    entry = (resolved_callee, call.lineno, id(call) in self._unread_results)
                    if entry not in called:
                        called.append(entry)
                    kept = self._kept_results.get(id(call))
                    if kept is not None and (kept_call := (resolved_callee, call.lineno, *kept)) not in self.facts.kept_called:
                        self.facts.kept_called.append(kept_call)
        for node, written in names:
            # node 0: a keyword's or a parameter's name (`Column(String, index=True)`), never a use
            # of the function of that name (a route `index`); the keyword's value is one
            if not node or written is None or node in skipped or written.split(".", 1)[0] not in known:
                continue
            resolved = self.resolve(written)
            if resolved is None:
                continue
            if resolved not in references:
                references.append(resolved)
            if node not in held:
                escapes.append((resolved, line, written))

    def takes(
        self, call: ast.Call, found: set[int], local: frozenset[str] = frozenset(), callee: str | None | bool = False
    ) -> None:
        """Adds to `found` the ids of the names in `call` that sit where FastAPI (or Starlette) takes
        a function and calls it itself, as a coroutine function or in its threadpool alike: a
        Depends()/Security() argument, an endpoint an `add_*` call, a route object or a route
        decorator applied by hand registers, a hook a registration names. A name anywhere else is a
        value other code may await. `callee`: the called name resolved against `local`, where the
        caller has it already (False: resolved here)."""
        func = call.func
        if type(func) is ast.Name and func.id in _INSPECTS and func.id not in local and func.id not in self.defined:
            for item in call.args:
                self._take(found, local, item)
            return
        if type(func) is ast.Name or type(func) is ast.Attribute:
            if callee is False:
                callee = self.ref(func, local)
            if callee in DEPENDS:
                self._take(found, local, argument(call, 0, "dependency"))
                return
            if callee in ROUTE_CLASSES:
                self._take(found, local, argument(call, 1, "endpoint"))
        if type(func) is ast.Attribute:
            if func.attr in REGISTRATION_ATTRS:
                self._take(found, local, argument(call, 1, "endpoint"))
            elif func.attr in HOOK_REGISTRATIONS:
                position, keyword = _HOOK_ARGUMENT[func.attr]
                self._take(found, local, argument(call, position, keyword))
        elif type(func) is ast.Call and type(func.func) is ast.Attribute and call.args and (
            func.func.attr in ROUTE_ATTRS or func.func.attr in HOOK_DECORATORS
        ):  # `router.get("/x")(f)`, `app.middleware("http")(f)`
            self._take(found, local, call.args[0])
        for named in call.keywords:
            if named.arg not in HOOK_KEYWORDS:
                continue
            given = named.value
            if type(given) is ast.Dict:
                for held in given.values:
                    self._take(found, local, held)
            elif type(given) is ast.List or type(given) is ast.Tuple:
                for held in given.elts:
                    self._take(found, local, held)
            else:
                self._take(found, local, given)

    def _take(self, found: set[int], local: frozenset[str], item: ast.AST | None) -> None:
        # FastAPI looks through `partial(f, ...)` to tell a coroutine function
        if type(item) is ast.Call and item.args and self.ref(item.func, local) in PARTIALS:
            item = item.args[0]
        if type(item) is ast.Name or type(item) is ast.Attribute or type(item) is ast.Call:
            found.add(id(item))  # a call's: what it returns is taken (`Depends(requires("admin"))`)

    def _declared_types(self, annotation: ast.expr) -> tuple[str, ...]:
        """The types a module-level annotation says the name holds, not their type arguments:
        `asyncio.Event | None` and `Optional[asyncio.Event]` -> asyncio.Event; `dict[int,
        asyncio.Future]` -> dict."""
        pending, found = [annotation], []
        while pending:
            node = _unquoted(pending.pop())
            if type(node) is ast.BinOp and type(node.op) is ast.BitOr:
                pending += [node.right, node.left]
            elif type(node) is ast.Subscript and self.ref(node.value) in _OPTIONAL:
                pending += reversed([e for e in syntax.elements(node.slice) if type(e) is not ast.Slice])
            elif type(node) is ast.Subscript:
                found.append(self.ref(node.value))
            elif type(node) is ast.Name or type(node) is ast.Attribute:
                found.append(self.ref(node))
        return tuple(ref for ref in found if ref is not None)

    def _context_type(self, annotation: ast.expr) -> tuple[str, ...]:
        """The types `ContextVar[T]` says the variable holds: T's, as `_declared_types` reads them."""
        if type(annotation) is not ast.Subscript or self.ref(annotation.value) not in CONTEXT_VARIABLES:
            return ()
        arguments = [e for e in syntax.elements(annotation.slice) if type(e) is not ast.Slice]
        return self._declared_types(arguments[0]) if len(arguments) == 1 else ()

    def _declared_items(self, annotation: ast.expr) -> tuple[str, ...]:
        """The types of the items a module-level collection is declared to hold: the values of
        `dict[int, asyncio.Future]`, the elements of `list[asyncio.Queue]` (under `| None` too)."""
        pending: list[ast.expr] = [annotation]
        found: list[str] = []
        while pending:
            node = _unquoted(pending.pop())
            if type(node) is ast.BinOp and type(node.op) is ast.BitOr:
                pending += [node.right, node.left]
                continue
            if type(node) is not ast.Subscript:
                continue
            arguments = [e for e in syntax.elements(node.slice) if type(e) is not ast.Slice]
            base = self.ref(node.value)
            if base in _OPTIONAL:
                pending += reversed(arguments)
            elif arguments and base in _MAPPINGS:
                found += self._declared_types(arguments[-1])
            elif arguments and base in _SEQUENCES:
                found += self._declared_types(arguments[0])
        return tuple(found)

    def _value(self, value: ast.expr) -> facts.Value | None:
        kind = type(value)
        if kind is ast.Subscript and self.ref(value.value) in ANNOTATED:  # type: ignore[attr-defined,operator]
            found = [e for e in syntax.elements(value.slice) if type(e) is not ast.Slice]  # type: ignore[attr-defined]
            if not found:
                return None
            depends = None
            options: tuple[tuple[str, str], ...] = ()
            for extra in found[1:]:
                target = self.depends_target(extra)
                if depends is None and target is not None and type(extra) is ast.Call:
                    options = tuple(
                        (named.arg, self.source.code(named.value)) for named in extra.keywords
                        if named.arg is not None and named.arg != "dependency"
                    )
                depends = depends or target
            if depends is None and any(self.bare_depends(extra) for extra in found[1:]):
                depends = self.ref(found[0])  # `Annotated[Service, Depends()]`: FastAPI calls the class
            return facts.Value(
                kind="annotated", line=0, ref=self.ref(found[0]), depends=depends,
                # and the functions pydantic's validator markers in the metadata run on the value
                # (`Annotated[int, AfterValidator(author_exists)]`: a marker, then its function)
                annotation=(*self.refs(found[0]), *(r for extra in found[1:] for r in self.refs(extra))),
                depends_options=options,
            )
        if kind is ast.Call:
            target = self.depends_target(value)
            if target is not None:
                return facts.Value(kind="depends", line=0, ref=target)
            first = value.args[0] if value.args else None  # type: ignore[attr-defined]
            inner = self._value(first) if type(first) is ast.Call else None
            func = value.func  # type: ignore[attr-defined]
            if type(func) is ast.Subscript and self._parametrised_class(func):
                func = func.value  # `CRUDBase[User, UserCreate](User)` builds a CRUDBase
            ref = self.ref(func)
            return facts.Value(
                kind="call", line=0, ref=ref, args=self.call_args(value),  # type: ignore[arg-type]
                inner=inner if inner is not None and inner.kind == "call" else None,
                annotation=tuple(self.refs(first)) if first is not None and ref in pydantic.TYPE_ADAPTERS else (),
            )
        if kind is ast.Attribute and type(value.value) is ast.Call:  # type: ignore[attr-defined]
            # `dispatch = Bus().dispatch`: written `mod.Bus().dispatch`, which no reference resolves
            # through; the value flow reads it as the attribute of what the call builds
            built = self.ref(value.value.func)  # type: ignore[attr-defined]
            ref = f"{built}().{value.attr}" if built is not None else None  # type: ignore[attr-defined]
            return facts.Value(kind="name", line=0, ref=ref)
        if kind is ast.Name or kind is ast.Attribute or syntax.named_constant(value) is not None:
            return facts.Value(kind="name", line=0, ref=self.ref(value))
        return None

    def _parametrised_class(self, node: ast.Subscript) -> bool:
        """`CRUDBase[User, UserCreate]`: a generic class given its type arguments, as written by
        its name (capitalised, defined here or imported) and types for every argument; never a
        display of this module (`HANDLERS[kind]()` calls what the display holds)."""
        written = dotted(node.value)
        if written is None or written in self.displays or not written.rpartition(".")[2][:1].isupper():
            return False
        if written.rpartition(".")[2].isupper():
            return False  # `COUNTERS[kind]()`: a constant's name, a display another module holds
        head = written.partition(".")[0]
        if head not in self.defined and head not in self.facts.imports:
            return False
        found = syntax.elements(node.slice)
        return bool(found) and all(_type_like(e.value if type(e) is ast.Subscript else e) for e in found)

    def call_args(self, call: ast.Call, local: frozenset[str] = frozenset()) -> tuple[facts.CallArg, ...]:
        found = []
        for item in syntax.call_arguments(call):
            keyword: str | None
            if type(item) is ast.keyword:
                keyword = item.arg or "**"
            else:
                keyword = "*" if type(item) is ast.Starred else None
            value = syntax.argument_value(item)
            found.append(
                facts.CallArg(
                    keyword=keyword,
                    text=self.source.code(value),
                    ref=self.ref(value, local),
                    local=bool(local) and not free_names(value).isdisjoint(local),
                )
            )
        return tuple(found)

    def registration(
        self, call: ast.Call, local: frozenset[str] = frozenset(), method: tuple[str, str] | None = None,
        nested: dict[str, str] | None = None, held: dict[str, str] | None = None,
    ) -> None:
        """A route this call adds: `router.add_api_route("/x", endpoint)` and the other `add_*`
        methods, or a route object built by hand, `Route("/x", endpoint)` / `APIRoute(...)` (in
        `routes=[...]` of an application or router, or appended to `app.router.routes`): those
        record the route class as `base`, and the `add_*` method it stands for as `attr`."""
        func = call.func
        if type(func) is ast.Call and type(func.func) is ast.Attribute and func.func.attr in ROUTE_ATTRS:
            self._decorated_by_hand(call, func, func.func, local, method, nested)
            return
        receiver = held_by = None
        if type(func) is ast.Attribute and func.attr in REGISTRATION_ATTRS:
            base, attr = self.ref(func.value, local), func.attr
            receiver = syntax.text(self.source, func.value) if base is None else None
            held_by = (held or {}).get(dotted(func.value) or "") if base is None else None
        else:
            base = self.ref(func, local) if type(func) is ast.Name or type(func) is ast.Attribute else None
            if base not in ROUTE_CLASSES:
                return
            attr = ROUTE_CLASSES[base]
        endpoint = argument(call, 1, "endpoint")
        path = argument(call, 0, "path")
        line = self.source.line_of(call)
        methods = tuple(s.upper() for s in strings(argument(call, 99, "methods")))
        written = syntax.text(self.source, endpoint) if endpoint is not None else None
        pragma = self.source.statement_pragma(call) if syntax.PRAGMA in self.source.text else None
        # `dependencies=[...]` and `response_model=` apply to the route as a decorator's do.
        listed = argument(call, 99, "dependencies")
        depends = () if listed is None else tuple(
            t for t in (self.depends_target(c) for c in syntax.calls_under(listed)) if t is not None
        )
        model = argument(call, 99, "response_model")
        response_model = self.ref(model, local) if model is not None else None
        response_refs = tuple(self.refs(model)) if model is not None else ()
        loop = self.loops.get(id(call), {}).get(endpoint.id) if type(endpoint) is ast.Name else None
        if loop is not None and type(endpoint) is ast.Name:
            read, found = self._looped(loop, endpoint, path, local)
            for element, served in found or [(None, None)]:
                self.facts.registrations.append(
                    facts.Registration(
                        line=line, base=base, attr=attr,
                        endpoint=self._endpoint(element, local, method, nested) if element is not None else None,
                        path=self.mounted_path(call, served), methods=methods, written=written, pragma=pragma, sources=read,
                        receiver=receiver, held=held_by, depends=depends, response_model=response_model,
                        response_refs=response_refs,
                    )
                )
            return
        ref = self._endpoint(endpoint, local, method, nested) if endpoint is not None else None
        sources: tuple[str, ...] = ()
        if type(endpoint) is ast.Name and not (nested and endpoint.id in nested) and self._unbound(endpoint.id, local):
            # bound by a statement that is no definition (a loop, `with ... as`): not a builtin
            ref, sources = None, (dispatch.UNREAD,)
        self.facts.registrations.append(
            facts.Registration(
                line=line, base=base, attr=attr, endpoint=ref, path=self.mounted_path(call, self.path_string(path, local)),
                methods=methods,
                written=written, pragma=pragma, sources=sources, receiver=receiver, held=held_by,
                depends=depends, response_model=response_model, response_refs=response_refs,
                reregisters=ref is None and type(func) is ast.Attribute and self._reregisters(call, func.value, endpoint),
            )
        )

    def mounted_path(self, call: ast.Call, path: str | None) -> str | None:
        """A route object's `path` under the `Mount("/m", routes=[...])` displays it stands in
        (`/m/x`, as Starlette serves it); None where a mount's path is no literal."""
        if self._mounted is None:
            self._mounted = {}
            if "Mount" in self.source.text:
                for node in ast.walk(self.tree):  # outer mounts first: breadth first
                    if type(node) is not ast.Call or self.ref(node.func) not in MOUNT_CLASSES:
                        continue
                    routes, own = argument(node, 2, "routes"), string(argument(node, 0, "path"))
                    outer = self._mounted.get(id(node), "")
                    prefix = None if outer is None or own is None else outer + own.rstrip("/")
                    for route in routes.elts if type(routes) in (ast.List, ast.Tuple) else ():  # type: ignore[union-attr]
                        self._mounted[id(route)] = prefix
        if path is None or id(call) not in self._mounted:
            return path
        prefix = self._mounted[id(call)]
        return None if prefix is None else prefix + path

    def _reregisters(self, call: ast.Call, router: ast.expr, endpoint: ast.expr | None) -> bool:
        """`router.add_api_route(path, route.endpoint, ...)` in `for route in router.routes:` (or in
        `list(router.routes)`, or in a local bound once to `router.routes` or to a comprehension over
        it): an endpoint the same router serves already."""
        if type(endpoint) is not ast.Attribute or endpoint.attr != "endpoint" or type(endpoint.value) is not ast.Name:
            return False
        loop = self.loops.get(id(call), {}).get(endpoint.value.id)
        if loop is None or type(loop.target) is not ast.Name:
            return False
        served = syntax.text(self.source, router)
        return self._routes_of(loop.iter, served, loop, 0)

    def _routes_of(self, node: ast.expr, served: str, loop: ast.For | ast.AsyncFor, depth: int) -> bool:
        """Whether `node` yields only route objects of the router written `served`."""
        if depth > 3:
            return False
        if type(node) is ast.Attribute and node.attr == "routes":
            return syntax.text(self.source, node.value) == served
        if type(node) is ast.Call and type(node.func) is ast.Name and node.func.id in ("list", "tuple", "reversed"):
            return len(node.args) == 1 and not node.keywords and self._routes_of(node.args[0], served, loop, depth + 1)
        if type(node) is ast.ListComp and len(node.generators) == 1:
            generator = node.generators[0]
            return (
                type(node.elt) is ast.Name and type(generator.target) is ast.Name and node.elt.id == generator.target.id
                and self._routes_of(generator.iter, served, loop, depth + 1)
            )
        if type(node) is ast.Name:
            bound = self._bound_once_before(node.id, loop)
            return bound is not None and self._routes_of(bound, served, loop, depth + 1)
        return False

    def _bound_once_before(self, name: str, loop: ast.For | ast.AsyncFor) -> ast.expr | None:
        """The value of `name` in the function holding `loop`, when one plain assignment there binds
        it, above the loop, and nothing else does."""
        holders = [
            node for node in ast.walk(self.tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.lineno <= loop.lineno <= (node.end_lineno or 0)
        ]
        if not holders:
            return None
        holder = max(holders, key=lambda node: node.lineno)
        stores = [n for n in ast.walk(holder) if type(n) is ast.Name and n.id == name and type(n.ctx) is not ast.Load]
        found = [
            n for n in ast.walk(holder)
            if type(n) is ast.Assign and len(n.targets) == 1 and type(n.targets[0]) is ast.Name and n.targets[0].id == name
        ]
        if len(stores) != 1 or len(found) != 1 or found[0].lineno >= loop.lineno:
            return None
        return found[0].value

    def _unbound(self, name: str, local: AbstractSet[str]) -> bool:
        """A name neither local, defined, imported nor possibly star-imported."""
        return not (
            name in local or name in self.defined or name in self.facts.imports or name in self.scope_imports
            or "*" in self.facts.imports
        )

    def _looped(
        self, loop: ast.For | ast.AsyncFor, endpoint: ast.Name, path: ast.expr | None, local: frozenset[str]
    ) -> tuple[tuple[str, ...], list[tuple[ast.expr | None, str | None]] | None]:
        """The endpoints (and paths) a registration inside `loop` gets from what the loop goes
        over: (the container names read, [(endpoint expression, path)]), None where the tool
        cannot read them all (its sources then hold "?")."""
        over, view = loop.iter, None
        viewed = over.func if type(over) is ast.Call and not over.args and not over.keywords else None
        if type(viewed) is ast.Attribute and viewed.attr in ("items", "values", "keys"):
            over, view = viewed.value, viewed.attr
        sources: tuple[str, ...] = ()
        if type(over) is ast.Name and over.id not in local and over.id in self.displays:
            resolved = self.resolve(over.id)
            sources = (resolved,) if resolved is not None else ()
            over = self.displays[over.id]
        elements: list[ast.expr] | None = None
        if type(over) is ast.Dict and None not in over.keys:
            keys = [k for k in over.keys if k is not None]
            if view == "items":
                elements = [ast.Tuple(elts=[k, v], ctx=ast.Load()) for k, v in zip(keys, over.values)]
            else:
                elements = list(over.values) if view == "values" else keys
        elif type(over) in (ast.List, ast.Tuple, ast.Set) and view is None:
            elements = list(over.elts)  # type: ignore[attr-defined]
        if elements is None or any(type(e) is ast.Starred for e in elements):
            return (*sources, dispatch.UNREAD), None
        found: list[tuple[ast.expr | None, str | None]] = []
        for element in elements:
            bound = _unpack(loop.target, element)
            if bound is None or endpoint.id not in bound:
                return (*sources, dispatch.UNREAD), None
            served = bound.get(path.id) if type(path) is ast.Name else path
            found.append((bound[endpoint.id], string(served) if served is not None else None))
        return sources, found

    def _decorated_by_hand(
        self, call: ast.Call, decorator: ast.Call, route: ast.Attribute, local: frozenset[str],
        method: tuple[str, str] | None, nested: dict[str, str] | None,
    ) -> None:
        """`router.get("/x")(endpoint)`: the route decorator applied by hand, recorded as the
        `add_*` call it amounts to. Only with a literal path starting with "/": `handlers.get("k")(x)`
        calls what a mapping holds."""
        path = string(argument(decorator, 0, "path"))
        if len(call.args) != 1 or call.keywords or path is None or not path.startswith("/"):
            return
        verb = route.attr
        attr = "add_api_websocket_route" if verb in WEBSOCKET_ATTRS else "add_route" if verb == "route" else "add_api_route"
        methods = (verb.upper(),) if verb in HTTP_VERBS else tuple(
            s.upper() for s in strings(argument(decorator, 99, "methods"))
        )
        endpoint = call.args[0]
        ref = self._endpoint(endpoint, local, method, nested)
        base = self.ref(route.value, local)
        self.facts.registrations.append(
            facts.Registration(
                line=self.source.line_of(call), base=base, attr=attr, endpoint=ref,
                path=path, methods=methods, written=syntax.text(self.source, endpoint),
                pragma=self.source.statement_pragma(call) if syntax.PRAGMA in self.source.text else None,
                receiver=syntax.text(self.source, route.value) if base is None else None,
                applied=syntax.text(self.source, decorator),
            )
        )

    def _endpoint(
        self, node: ast.expr, local: frozenset[str], method: tuple[str, str] | None, nested: dict[str, str] | None
    ) -> str | None:
        """The reference an endpoint stands for: `partial(f, ...)` runs `f`, `self.level` in a
        method of class C (`method`: its first parameter and C's qualname) is `C.level`, and a
        function defined in the registering function's body (`nested`: name -> qualname) is that."""
        if type(node) is ast.Call and self.ref(node.func, local) in PARTIALS and node.args:
            node = node.args[0]
        elif type(node) is ast.Call and type(node.func) in (ast.Name, ast.Attribute):
            # `make_list(User)`: what the handler factory returns (`Project.endpoint` reads "()")
            made = self._endpoint(node.func, local, method, nested)
            return f"{made}()" if made is not None else None
        if nested and type(node) is ast.Name and node.id in nested:
            return f"{self.name}.{nested[node.id]}" if self.name else nested[node.id]
        if (
            method is not None and type(node) is ast.Attribute and type(node.value) is ast.Name
            and node.value.id == method[0]
        ):
            return f"{self.name}.{method[1]}.{node.attr}" if self.name else f"{method[1]}.{node.attr}"
        return self.ref(node, local)

    def hooks(
        self, call: ast.Call, local: frozenset[str] = frozenset(), nested: dict[str, str] | None = None
    ) -> None:
        """Hooks an application runs on the event loop, registered by this call: `add_middleware(Cls)`,
        `add_exception_handler(Exc, handler)`, `add_event_handler("startup", fn)`, and the
        `middleware=[Middleware(Cls)]`, `exception_handlers={...}`, `on_startup=[...]`, `lifespan=`
        keywords. Recorded as registrations whose `attr` is `hook:<kind>`. `nested`: the functions
        the registering function defines in its body (name -> qualname), which it may register by
        name (`app.add_exception_handler(E, on_error)` in an application factory)."""
        unread: list[ast.expr] = []
        for kind, named in self.hook_arguments(call, local, unread):
            self._hook(kind, named, call, local, nested)
        if unread:
            pragma = self.source.statement_pragma(call) if syntax.PRAGMA in self.source.text else None
            for value in unread:
                self._unread_hook("middleware", value, call, pragma, (dispatch.UNREAD,), keyword=True)

    def hook_arguments(
        self, call: ast.Call, local: frozenset[str] = frozenset(), unread: list[ast.expr] | None = None
    ) -> list[tuple[str, ast.expr]]:
        """What `hooks` reads of a call: (kind, the expression naming the hook) for each hook it
        registers. `unread` gets the parts of a `middleware=` keyword the analysis cannot read."""
        found: list[tuple[str, ast.expr]] = []
        inner = call.func
        if (
            type(inner) is ast.Call and type(inner.func) is ast.Attribute and inner.func.attr in HOOK_DECORATORS
            and call.args
        ):  # `app.middleware("http")(fn)`: the decorator applied by hand
            word = HOOK_DECORATORS[inner.func.attr]
            found.append((event_kind(inner.func.attr, string(argument(inner, 0, "event_type")), word), call.args[0]))
        if type(call.func) is ast.Attribute and call.func.attr in HOOK_REGISTRATIONS:
            position, keyword = _HOOK_ARGUMENT[call.func.attr]
            named = argument(call, position, keyword)
            if named is not None:
                event = string(argument(call, 0, "event_type"))
                found.append((event_kind(call.func.attr, event, HOOK_REGISTRATIONS[call.func.attr]), named))
            dispatch = argument(call, 99, "dispatch") if call.func.attr == "add_middleware" else None
            if dispatch is not None:  # `add_middleware(BaseHTTPMiddleware, dispatch=fn)`: fn is the middleware
                found.append((HOOK_REGISTRATIONS[call.func.attr], dispatch))
        if (
            type(call.func) is ast.Attribute and call.func.attr == "append" and type(call.func.value) is ast.Attribute
            and call.func.value.attr in HOOK_LISTS and call.args
        ):  # `app.router.on_startup.append(fn)`
            found.append((HOOK_LISTS[call.func.value.attr], call.args[0]))
        for item in call.keywords:
            kind = HOOK_KEYWORDS.get(item.arg or "")
            if kind is None:
                continue
            value = item.value
            if item.arg == "middleware":
                missed: list[ast.expr] = [] if unread is None else unread
                found.extend((kind, named) for named in self._middleware_listed(value, local, missed, 0))
            elif item.arg == "exception_handlers" and type(value) is ast.Dict:
                found.extend((kind, handler) for handler in value.values)
            elif item.arg in ("on_startup", "on_shutdown") and type(value) in (ast.List, ast.Tuple):
                found.extend((kind, element) for element in value.elts)  # type: ignore[attr-defined]
            elif item.arg == "lifespan":
                found.append((kind, value))
        return found

    def _middleware_listed(
        self, value: ast.expr, local: frozenset[str], unread: list[ast.expr], depth: int
    ) -> list[ast.expr]:
        """The classes (and `dispatch=` functions) a `middleware=` keyword's value registers: a
        list or tuple display of `Middleware(...)`, its elements and `*` parts read through
        module-level names bound once and never changed in place (`middleware=MW`,
        `[*BASE, Middleware(X)]`). Starlette runs whatever the value holds, so a part read no
        further (a call's result, an import, a local, a name bound twice) goes to `unread`."""
        if type(value) is ast.Name and value.id not in local and depth < 8:
            held = self.constant(value.id)
            if held is not None:
                return self._middleware_listed(held, local, unread, depth + 1)
        if type(value) is ast.Call and self.ref(value.func, local) in MIDDLEWARE_WRAPPERS:
            listed = [argument(value, 0, "cls"), argument(value, 99, "dispatch")]
            return [named for named in listed if named is not None]
        if type(value) not in (ast.List, ast.Tuple) or depth >= 8:
            unread.append(value)
            return []
        found: list[ast.expr] = []
        for element in value.elts:  # type: ignore[attr-defined]
            if type(element) is ast.Starred:
                if type(element.value) in (ast.List, ast.Tuple, ast.Name):
                    found.extend(self._middleware_listed(element.value, local, unread, depth + 1))
                else:
                    unread.append(element)
            elif type(element) in (ast.List, ast.Tuple):  # Starlette takes no nested list
                unread.append(element)
            else:
                found.extend(self._middleware_listed(element, local, unread, depth + 1))
        return found

    def assigned_hook(self, target: ast.expr, value: ast.expr) -> None:
        """A hook set on a router's attribute: `app.router.lifespan_context = lifespan`."""
        if type(target) is ast.Attribute and target.attr in HOOK_ATTRIBUTES:
            self._hook(HOOK_ATTRIBUTES[target.attr], value, target, frozenset())

    def _hook(
        self, kind: str, named: ast.expr, node: ast.expr, local: frozenset[str], nested: dict[str, str] | None = None
    ) -> None:
        """Record the hook `named` of `kind`, registered by `node`, as a `hook:<kind>` registration."""
        pragma = self.source.statement_pragma(node) if syntax.PRAGMA in self.source.text else None
        loop = self.loops.get(id(node), {}).get(named.id) if type(named) is ast.Name else None
        if loop is not None and type(named) is ast.Name:
            # `for mw in MIDDLEWARES: app.add_middleware(mw)` over a display: each element registered
            read, found = self._looped(loop, named, None, local)
            if found is not None:
                for element, _ in found:
                    if element is not None:
                        self._hook(kind, element, node, frozenset(), nested)
                return
            if kind == "middleware":
                self._unread_hook(kind, named, node, pragma, read)
            return
        if nested and type(named) is ast.Name and named.id in nested:
            ref: str | None = f"{self.name}.{nested[named.id]}" if self.name else nested[named.id]
        else:
            ref = self.ref(named, local)
        if ref is None:
            if kind == "middleware" and type(named) is not ast.Lambda:
                # `app.add_middleware(cls)` with `cls` a parameter, a local, a subscript: unread
                self._unread_hook(kind, named, node, pragma, (dispatch.UNREAD,))
            return
        self.facts.registrations.append(
            facts.Registration(line=self.source.line_of(node), base=None, attr=f"hook:{kind}", endpoint=ref,
                               path=None, pragma=pragma)
        )

    def _unread_hook(
        self, kind: str, named: ast.expr, node: ast.expr, pragma: str | None, sources: tuple[str, ...],
        keyword: bool = False,
    ) -> None:
        """A hook registered by a value the analysis cannot read (no endpoint; `sources` say why).
        `keyword`: a part of a `middleware=` keyword, written as `middleware=...` for the message."""
        written = syntax.text(self.source, named)
        self.facts.registrations.append(
            facts.Registration(line=self.source.line_of(node), base=None, attr=f"hook:{kind}", endpoint=None,
                               path=None, pragma=pragma, written=f"middleware={written}" if keyword else written,
                               sources=sources)
        )

    def include(
        self, call: ast.Call, base: str | None, local: frozenset[str] = frozenset(), known: bool = True
    ) -> None:
        """`base.include_router(router, prefix=...)`: the included router and the prefix it is
        served under (None: `base`'s own prefixes cannot be known, so neither can the path)."""
        prefix = argument(call, 99, "prefix")
        listed = argument(call, 99, "dependencies")
        depends = [] if listed is None else [self.depends_target(c) for c in syntax.calls_under(listed)]
        written = syntax.call_arguments(call)
        # the first argument, unless a keyword (`**options` counts: it has no keyword)
        first = written[0] if written and not (type(written[0]) is ast.keyword and written[0].arg) else None
        router = syntax.argument_value(first) if first is not None else None
        head: ast.expr | None = router
        attributes: list[str] = []
        while type(head) is ast.Attribute:  # `module.router` for `for module in (users, orders):`
            attributes.insert(0, head.attr)
            head = head.value
        loop = self.loops.get(id(call), {}).get(head.id) if type(head) is ast.Name else None
        if loop is not None and type(head) is ast.Name and known:
            # `for router, prefix in ROUTERS: app.include_router(router, prefix=prefix)` over a
            # display in this module: one include per element, as if written out.
            read, found = self._looped(loop, head, prefix if prefix is not None else ast.Constant(""), local)
            looped = self._loop_include(loop, head, attributes, prefix, local) if found is None else None
            if looped is not None:
                self.facts.registrations.append(
                    facts.Registration(
                        line=self.source.line_of(call), base=base, attr="include_router", endpoint=None,
                        path=None, depends=tuple(ref for ref in depends if ref is not None),
                        sources=(looped.over,), looped=looped,
                    )
                )
                return
            for element, served in found or [(None, None)]:
                for attribute in attributes:
                    if element is not None:
                        element = ast.Attribute(value=element, attr=attribute, ctx=ast.Load())
                self.facts.registrations.append(
                    facts.Registration(
                        line=self.source.line_of(call), base=base, attr="include_router",
                        endpoint=self.ref(element, local) if element is not None else None, path=served,
                        depends=tuple(ref for ref in depends if ref is not None), sources=read,
                    )
                )
            return
        made = self._value(router) if type(router) is ast.Call else None
        if made is not None:
            made.line = router.lineno  # type: ignore[union-attr]
        self.facts.registrations.append(
            facts.Registration(
                line=self.source.line_of(call),
                base=base,
                attr="include_router",
                endpoint=self.ref(syntax.argument_value(first), local) if first is not None else None,
                path=("" if prefix is None else string(prefix)) if known else None,
                depends=tuple(ref for ref in depends if ref is not None),
                made=made if made is not None and made.kind == "call" and type(first) is ast.Call else None,
            )
        )

    def _rows(self, display: ast.List | ast.Tuple) -> tuple[facts.Row, ...] | None:
        """The elements of a module-level list or tuple display, as `facts.Row`s."""
        found = []
        for element in display.elts:
            if type(element) is ast.Starred:
                return None
            items = element.elts if type(element) is ast.Tuple else [element]
            if any(type(item) is ast.Starred for item in items):
                return None
            found.append(facts.Row(
                refs=tuple(self.ref(item) if type(item) in (ast.Name, ast.Attribute) else None for item in items),
                strings=tuple(string(item) for item in items),
            ))
        return tuple(found)

    def _loop_include(
        self, loop: ast.For | ast.AsyncFor, head: ast.Name, attributes: list[str], prefix: ast.expr | None,
        local: frozenset[str],
    ) -> facts.LoopInclude | None:
        """An include over a display the loop names but this module does not define (an import):
        which item of each element the router and the prefix are, for the index to read there."""
        over = loop.iter
        written = dotted(over) if type(over) in (ast.Name, ast.Attribute) else None
        if written is None or written.partition(".")[0] in local:
            return None
        resolved = self.ref(over)
        target = loop.target
        names = [target] if type(target) is ast.Name else list(target.elts) if type(target) is ast.Tuple else None
        if resolved is None or names is None or any(type(n) is not ast.Name for n in names):
            return None
        ids = [n.id for n in names]  # type: ignore[attr-defined]
        router_at = -1 if type(target) is ast.Name else ids.index(head.id)
        if prefix is None:
            return facts.LoopInclude(resolved, router_at, tuple(attributes))
        if type(prefix) is ast.Name and prefix.id in ids and type(target) is ast.Tuple:
            return facts.LoopInclude(resolved, router_at, tuple(attributes), prefix_at=ids.index(prefix.id))
        return facts.LoopInclude(resolved, router_at, tuple(attributes), prefix=string(prefix))

    def mount(self, call: ast.Call, base: str | None, local: frozenset[str] = frozenset(), known: bool = True) -> None:
        """`base.mount("/v2", sub_app)`: an application served under a path, its routes' prefix
        (the path without its trailing "/", as Starlette's Mount keeps it; None when not a literal).
        Which `mount` calls are an application's the index decides (`requests.Session().mount`)."""
        path = string(argument(call, 0, "path"))
        mounted = argument(call, 1, "app")
        self.facts.registrations.append(
            facts.Registration(
                line=self.source.line_of(call),
                base=base,
                attr=MOUNT,
                endpoint=self.ref(mounted, local) if mounted is not None else None,
                path=path.rstrip("/") if path is not None and known else None,
            )
        )

    def depends_target(self, node: ast.AST | None) -> str | None:
        if type(node) is ast.Call and self.ref(node.func) in DEPENDS:
            found = argument(node, 0, "dependency")
            if type(found) is ast.Call and found.args and self.ref(found.func) in PARTIALS:
                # `Depends(partial(load_notes, "draft"))`: FastAPI calls `load_notes`, and looks
                # through the partial to tell whether it is a coroutine function
                inner = self.ref(found.args[0])
                if inner is not None:
                    return inner
            if found is not None:
                # `Depends(Checker("admin"))`: an instance FastAPI calls, as a value-flow
                # expression (`app.auth.Checker()`) the index evaluates
                return self.ref(found) or self.expression(found)
        return None

    def bare_depends(self, node: ast.AST | None) -> bool:
        """`Depends()` without a dependency: FastAPI calls the annotated class."""
        return (
            type(node) is ast.Call
            and self.ref(node.func) in DEPENDS
            and argument(node, 0, "dependency") is None
        )

    def overriding(self, value: ast.expr, key: ast.expr) -> None:
        """An override FastAPI runs in place of a dependency: one itself, and what it replaces."""
        ref = self.ref(value)
        if ref is not None:
            self.facts.depends.append(ref)
            replaced = self.ref(key)
            if replaced is not None:
                self.facts.overrides.append((replaced, ref))

    def scan_depends(self, node: ast.AST) -> None:
        """Record every Depends(target) under a module-level or signature node."""
        for call in syntax.calls_under(node):
            target = self.depends_target(call)
            if target is not None:
                self.facts.depends.append(target)

    def refs(self, node: ast.AST) -> Iterator[str]:
        """References named in a type expression, outside Depends(...) calls."""
        kind = type(node)
        if kind is ast.Name or kind is ast.Attribute or syntax.named_constant(node) is not None:
            found = self.ref(node)
            if found is not None:
                yield found
            return
        if kind is ast.Call:
            # `Annotated[int, AfterValidator(author_exists)]`: pydantic runs the function on the value
            # (`codemods/request_validation.py`); any other call (`Depends(...)`, `Query()`) is no type
            marker = self.ref(node.func)  # type: ignore[attr-defined]
            if marker in VALIDATOR_MARKERS and node.args:  # type: ignore[attr-defined]
                yield marker
                yield from self.refs(node.args[0])  # type: ignore[attr-defined]
            return
        if kind is ast.Subscript:
            head = self.ref(node.value)  # type: ignore[attr-defined]
            yield from self.refs(node.value)  # type: ignore[attr-defined]
            elements = syntax.elements(node.slice)  # type: ignore[attr-defined]
            if head in CALLABLE_TYPES and len(elements) == 2:
                elements = elements[1:]  # `Callable[[Session], Repo]`: the parameter list is what it takes
            for element in elements:
                yield from self.refs(element)
            return
        value = string(node)
        if value is not None:  # forward reference: "Session"
            if value and value.replace(".", "").replace("_", "").isalnum():
                found = self.resolve(value)
                if found is not None:
                    yield found
            elif value and len(value) < 200:  # "Repo | None", "Optional[Repo]"
                try:
                    parsed = ast.parse(value.strip(), mode="eval").body
                except SyntaxError:
                    return
                if string(parsed) is None:
                    yield from self.refs(parsed)
            return
        for child in syntax.children(node):
            yield from self.refs(child)

    # -------------------------------------------------------------- classes

    def _class(self, node: ast.ClassDef, keys: DefinitionKeys, prefix: str = "") -> None:
        qualname = f"{prefix}{node.name}"
        self._class_facts(node, qualname)
        if self.source.one_line_suite(node.body):
            return
        for statement in self.definitions(node.body):
            if isinstance(statement, FUNCTIONS):
                self.function(statement, f"{qualname}.{statement.name}", keys)
            elif isinstance(statement, ast.ClassDef):
                self._class(statement, keys, f"{qualname}.")
        generated = self._generated_init(node)
        if generated is not None:
            self.function(generated, f"{qualname}.__init__", keys)

    def _generated_init(self, node: ast.ClassDef) -> ast.FunctionDef | None:
        """The `__init__` `@dataclass` (`@define`, ...) or fastapi-utils' `@cbv(router)` writes for
        a class of annotated fields, as if written out: `def __init__(self, session: Session): self.session = session`, each
        piece at its field's line. Only where the fields alone are its parameters: no project
        base (whose fields would come first), no `init=False`, no field left out of it or given
        a default factory the analysis would have to run."""
        if node.bases or node.keywords or any(
            isinstance(s, FUNCTIONS) and s.name == "__init__" for s in node.body
        ):
            return None
        decorator = next(
            (d for d in node.decorator_list if self.ref(d.func if type(d) is ast.Call else d) in GENERATED_INIT), None
        )
        view = next((d for d in node.decorator_list if type(d) is ast.Call and self.ref(d.func) in CBV_DECORATORS), None)
        if decorator is None and view is None:
            return None
        if view is not None:
            # `@cbv(router)`: every annotated attribute, keyword-only, its value the default
            # (`Depends(get_db)` is a call, and is the parameter's declaration).
            keywords: dict[str | None, ast.expr] = {}
            keyword_only = True
        else:
            assert decorator is not None
            keywords = {k.arg: k.value for k in decorator.keywords} if type(decorator) is ast.Call else {}
            if "init" in keywords or any(k is None for k in keywords):
                return None
            flag = keywords.get("kw_only")
            if flag is not None and not isinstance(flag, ast.Constant):
                return None
            keyword_only = isinstance(flag, ast.Constant) and flag.value is True
        positional: list[ast.arg] = []
        named: list[ast.arg] = []
        defaults: list[ast.expr] = []
        named_defaults: list[ast.expr | None] = []
        body: list[ast.stmt] = []
        for statement in node.body:
            if type(statement) is ast.Assign and type(statement.value) is ast.Call:
                return None  # `x = attr.ib()`: attrs then takes only such attributes as fields
            if type(statement) is not ast.AnnAssign:
                continue
            target = statement.target
            if type(target) is not ast.Name:
                continue
            if target.id.startswith("_"):
                return None  # attrs names the parameter without the underscore
            refs = tuple(self.refs(statement.annotation))
            if refs and refs[0].rsplit(".", 1)[-1] in ("ClassVar", "InitVar", "KW_ONLY"):
                if refs[0].rsplit(".", 1)[-1] == "ClassVar":
                    continue
                return None  # init-only values and keyword-only markers: not written out
            value = statement.value
            if type(value) is ast.Call and view is None:
                return None  # `field(...)`, `attr.ib(...)`: what it says about the parameter is not read
            arg = ast.arg(arg=target.id, annotation=statement.annotation)
            ast.copy_location(arg, statement)
            if keyword_only:
                named.append(arg)
                named_defaults.append(value)
            else:
                if value is None and defaults:
                    return None  # a field without a default after one with: the class itself fails
                positional.append(arg)
                if value is not None:
                    defaults.append(value)
            store = ast.Attribute(value=ast.Name(id="self", ctx=ast.Load()), attr=target.id, ctx=ast.Store())
            assign = ast.Assign(targets=[store], value=ast.Name(id=target.id, ctx=ast.Load()))
            for part in (store, store.value, assign, assign.value):
                ast.copy_location(part, statement)
            body.append(assign)
        if not body:
            return None
        self_arg = ast.copy_location(ast.arg(arg="self"), node)
        arguments = ast.arguments(
            posonlyargs=[], args=[self_arg, *positional], vararg=None, kwonlyargs=named,
            kw_defaults=named_defaults, kwarg=None, defaults=defaults,
        )
        fields: dict[str, Any] = dict(name="__init__", args=arguments, body=body, decorator_list=[], returns=None)
        if sys.version_info >= (3, 12):
            fields["type_params"] = []
        function = ast.FunctionDef(**fields)
        return ast.fix_missing_locations(ast.copy_location(function, node))

    def _class_facts(self, node: ast.ClassDef, qualname: str) -> None:
        """Bases, relationship() attributes and annotated fields of one class statement."""
        found = facts.ClassFacts(name=node.name, qualname=qualname, line=node.lineno, end=node.end_lineno or node.lineno)
        # `CRUDBase[User]`, `Generic[M]`: the class subscripted
        bases = (
            self.ref(base.value if type(base) is ast.Subscript else base)
            for base in node.bases
            if type(base) is not ast.Starred
        )
        found.bases = tuple(ref for ref in bases if ref is not None)
        for base in node.bases:
            if type(base) is ast.Subscript and (subscripted := self.ref(base.value)) is not None:
                elements = base.slice.elts if type(base.slice) is ast.Tuple else [base.slice]
                found.base_args[subscripted] = tuple(self.ref(e) or "" for e in elements)
        decorators = (self.ref(d.func if type(d) is ast.Call else d) for d in node.decorator_list)
        found.decorators = tuple(ref for ref in decorators if ref is not None)
        statements = node.body if self.source.one_line_suite(node.body) else list(self.definitions(node.body))
        names: list[str] = []
        bound: list[str] = []
        for statement in statements:
            value: ast.expr | None = None
            targets: list[str] = []
            if type(statement) is ast.AnnAssign and type(statement.target) is ast.Name:
                name, value = statement.target.id, statement.value
                refs = tuple(self.refs(statement.annotation))
                if not (refs and refs[0].rsplit(".", 1)[-1] == "ClassVar"):
                    names.append(name)
                    found.annotations[name] = refs
                    items = self._declared_items(statement.annotation)
                    if items:
                        found.declared_items[name] = items
                targets = [name]
                if value is not None:  # `db: Session = Depends(get_db)` in a class-based view
                    depends = self.depends_target(value)
                    if depends is not None:
                        found.depends[name] = depends
            elif type(statement) is ast.Assign:
                targets = [t.id for t in statement.targets if type(t) is ast.Name]
                value = statement.value
            elif isinstance(statement, FUNCTIONS) and self._declared_attr(statement):
                self._declared_attribute(found, statement)
                found.references = (*found.references, *(
                    r for n in ast.walk(statement) if type(n) is ast.Return and n.value is not None
                    for r in self._references(n.value)
                ))
            if (type(value) is ast.Name or type(value) is ast.Attribute) and targets:
                named = self.ref(value)
                if named is not None:
                    found.named.update(dict.fromkeys(targets, named))
            if value is not None and targets:
                found.references = (*found.references, *self._references(value))
            if type(value) is ast.Call and targets:
                callee = self.ref(value.func)
                if callee is not None:
                    found.built.update(dict.fromkeys(targets, callee))
                    if callee.startswith(PROVIDERS_PREFIX):
                        first = value.args[0] if value.args else None
                        provided = self.ref(first) if first is not None and type(first) is not ast.Starred else None
                        if callee in OBJECT_PROVIDERS and type(first) is ast.Call and not first.args \
                                and not first.keywords and (made := self.ref(first.func)) is not None:
                            provided = f"{made}()"  # `providers.Object(SessionLocal())`: made once, here
                        found.provides.update(dict.fromkeys(targets, provided or ""))
                        found.provider_lines.update(dict.fromkeys(targets, self.source.line_of(value)))
                        found.provider_args.update(dict.fromkeys(targets, self._provider_args(value)))
                made = loop_holders.factory(value, self.ref)
                if made is not None:
                    found.factories.update(dict.fromkeys(targets, made))
                annotation = found.annotations.get(targets[0], ()) if type(statement) is ast.AnnAssign else ()
                self._relationship(found, targets, value, annotation)
                self._descriptor(found, targets, value)
                self._aliases(found, targets, value)
                if updated_by_database(value):
                    found.generated = (*found.generated, *targets)
                primary = argument(value, 99, "primary_key")
                if primary is not None and syntax.named_constant(primary) == "True":
                    found.primary_keys = (*found.primary_keys, *targets)
            if targets == ["model_config"] and value is not None:
                found.from_attributes = _from_attributes(value)
            elif type(statement) is ast.ClassDef and statement.name == "Config":
                found.from_attributes = _config_class_from_attributes(statement)
            if value is not None and len(targets) == 1 and _literal_table(value):
                found.literal_tables = (*found.literal_tables, targets[0])
            if isinstance(statement, FUNCTIONS):
                self._validators(found, statement)
            if isinstance(statement, (*FUNCTIONS, ast.ClassDef)):
                targets = [statement.name]
            if "__mapper_args__" in targets and not _plain_mapper_args(value):
                found.opaque_mapper_args = True
            elif "__mapper_args__" in targets:
                found.polymorphic_load = string(_dict_entry(value, "polymorphic_load")) or ""
                found.polymorphic_on = _dict_entry(value, "polymorphic_on") is not None
                eager = _dict_entry(value, "eager_defaults")
                found.eager_defaults = eager is not None and syntax.named_constant(eager) == "True"
            bound.extend(targets)
        found.fields = tuple(names)
        found.names = tuple(dict.fromkeys(bound))
        found.literal_tables = tuple(name for name in found.literal_tables if bound.count(name) == 1)
        if self.source.mentions("outer"):  # `Router`, `router`: where a class may hold one
            self._held(found, statements)
        # a generator its instance keeps is resumed by `next(self.ids)`, `self.ids.send(x)` (AM140)
        if any(self.source.mentions(word) for word in ("Cache", "Lock", "next", "send(", "throw(")):
            self._instance_built(found, statements)
        if any(self.source.mentions(word) for word in ("= {", "= [", "dict(", "list(")):
            stores, unread = item_stores.read(statements, lambda value, local: self.expression(value, local))
            found.item_stores, found.item_unread = stores, unread
        self.facts.classes.append(found)

    def _provider_args(self, call: ast.Call) -> tuple[str, ...]:
        """`facts.ClassFacts.provider_args` of a dependency-injector provider's call."""
        found = []
        for node in [*call.args[1:], *(k.value for k in call.keywords)]:
            written = dotted(node)
            if written is None and type(node) is ast.Call:
                callee = self.ref(node.func)
                first = node.args[0] if node.args else None
                provided = self.ref(first) if first is not None and type(first) is not ast.Starred else None
                if callee is not None and callee.startswith(PROVIDERS_PREFIX):
                    written = f"{callee}({provided or ''})"
                elif callee is not None and not node.args and not node.keywords:
                    written = f"{callee}()"  # `session=SessionLocal()`: opened once, as the class body runs
            found.append(written or "")
        return tuple(found)

    def _declared_attr(self, method: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        return any(self.ref(d) in DECLARED_ATTRS for d in method.decorator_list)

    def _declared_attribute(self, found: facts.ClassFacts, method: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """A `@declared_attr` method read as the attribute it maps: its return annotation as the
        attribute's, each call it returns as the assigned value (a relationship, a deferred
        column, a descriptor), so a mixin's relationships and columns are the class's."""
        name = method.name
        refs = tuple(self.refs(method.returns)) if method.returns is not None else ()
        if refs:
            found.annotations[name] = refs
        for returned in syntax.returned_values(method):
            if type(returned) is not ast.Call:
                continue
            callee = self.ref(returned.func)
            if callee is not None:
                found.built[name] = callee
            self._relationship(found, [name], returned, refs)
            self._descriptor(found, [name], returned)

    def _validators(self, found: facts.ClassFacts, method: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """`@validates("status")` on `method` (`facts.ClassFacts.validators`)."""
        for decorator in method.decorator_list:
            if type(decorator) is not ast.Call or self.ref(decorator.func) not in VALIDATES:
                continue
            for written in decorator.args:
                name = string(written)
                if name is not None:
                    found.validators[name] = (*found.validators.get(name, ()), method.name)

    def _assigned_to_classes(self, statements: Iterable[ast.stmt]) -> None:
        """`Book.author_name = association_proxy(...)`, `Author.books = relationship(...)` after
        the class statement (a relationship to a class defined below it): the mapper takes them
        as it would in the class body, so they join the facts of that class of this module."""
        by_name = {found.qualname: found for found in self.facts.classes}
        for statement in statements:
            if type(statement) is not ast.Assign or len(statement.targets) != 1 or type(statement.value) is not ast.Call:
                continue
            target = statement.targets[0]
            if type(target) is not ast.Attribute or type(target.value) is not ast.Name:
                continue
            found = by_name.get(target.value.id)
            if found is None:
                continue
            self._relationship(found, [target.attr], statement.value)
            self._descriptor(found, [target.attr], statement.value)
            if target.attr not in found.names:
                found.names = (*found.names, target.attr)

    def _held(self, found: facts.ClassFacts, statements: Iterable[ast.stmt]) -> None:
        """`self.attr = call(...)` in the class's methods (`facts.ClassFacts.held`)."""
        for method, first in methods(statements):
            for node in ast.walk(method):
                kind = type(node)
                if kind is ast.Assign or kind is ast.AnnAssign or kind is ast.AugAssign:
                    targets = node.targets if kind is ast.Assign else [node.target]  # type: ignore[attr-defined]
                    value = node.value if kind is not ast.AugAssign else None  # type: ignore[attr-defined]
                    for target in targets:
                        for part in ast.walk(target):
                            if type(part) is ast.Attribute and type(part.value) is ast.Name and part.value.id == first:
                                read = self._value(value) if type(value) is ast.Call and part is target else None
                                once = part.attr not in found.held
                                found.held[part.attr] = read if once and read is not None and read.kind == "call" else None

    def _instance_built(self, found: facts.ClassFacts, statements: Iterable[ast.stmt]) -> None:
        """`self.attr = call(...)` rebinding the attribute in the class's methods (`facts.ClassFacts.instance_built`)."""
        for method, first in methods(statements):
            for node in ast.walk(method):
                kind = type(node)
                if kind is ast.Assign:
                    targets, value = node.targets, node.value  # type: ignore[attr-defined]
                elif kind is ast.AnnAssign and node.value is not None:  # type: ignore[attr-defined]
                    targets, value = [node.target], node.value  # type: ignore[attr-defined]
                else:
                    continue
                for target in targets:
                    if type(target) is not ast.Attribute or type(target.value) is not ast.Name or target.value.id != first:
                        continue
                    callee = (self.ref(value.func) or "") if type(value) is ast.Call else ""
                    found.instance_built[target.attr] = callee if found.instance_built.get(target.attr, callee) == callee else ""

    def _aliases(self, found: facts.ClassFacts, targets: list[str], call: ast.Call) -> None:
        """Fields a pydantic model validates from another name (`facts.ClassFacts.aliases`)."""
        for keyword in call.keywords:
            if keyword.arg == "alias_generator" and targets == ["model_config"]:
                found.aliases["*"] = "?"
            elif keyword.arg in ("alias", "validation_alias"):
                written = string(keyword.value) or _alias_path(keyword.value)
                for target in targets:
                    found.aliases[target] = written if written is not None else "?"

    def _descriptor(self, found: facts.ClassFacts, targets: list[str], call: ast.Call) -> None:
        callee = self.ref(call.func)
        raising, deferred = argument(call, 99, "deferred_raiseload"), argument(call, 99, "deferred")
        raises = raising is not None and syntax.named_constant(raising) == "True"
        if callee in DEFERRED_COLUMNS or callee in DEFERRABLE_COLUMNS:
            history = argument(call, 99, "active_history")
            if (history is not None and syntax.named_constant(history) != "False") or any(
                k.arg is None for k in call.keywords
            ):
                found.history = (*found.history, *targets)
        if not raises and (callee in DEFERRED_COLUMNS or (callee in DEFERRABLE_COLUMNS and (
            (deferred is not None and syntax.named_constant(deferred) == "True")
            or argument(call, 99, "deferred_group") is not None
        ))):
            found.deferred = (*found.deferred, *targets)
            return
        if callee in ASSOCIATION_PROXIES:
            target, attribute = string(argument(call, 0, "target_collection")), string(argument(call, 1, "attr"))
            entry: tuple[str, ...] = ("proxy", target, attribute) if target and attribute else ("opaque", callee)
        elif callee in PROPERTY_DECORATORS or (callee or "").rsplit(".", 1)[-1] in ("property", "cached_property"):
            entry = ("opaque", callee or "property")
        else:
            return
        for target_name in targets:
            found.descriptors[target_name] = entry

    def _relationship(
        self, found: facts.ClassFacts, targets: list[str], call: ast.Call, annotation: tuple[str, ...] = ()
    ) -> None:
        callee = self.ref(call.func)
        if callee not in RELATIONSHIP_CONSTRUCTORS:
            return
        lazy = argument(call, 99, "lazy")
        kwargs = argument(call, 99, "sa_relationship_kwargs") if callee.startswith("sqlmodel.") else None
        if type(kwargs) is ast.Name:
            # `sa_relationship_kwargs=SELECTIN`, a module-level dict bound once: its entries
            kwargs = self.constant(kwargs.id) or kwargs
        if lazy is None and callee.startswith("sqlmodel."):
            lazy = _dict_entry(kwargs, "lazy")
        # SQLAlchemy takes the strategy from a `WriteOnlyMapped[...]` / `DynamicMapped[...]`
        # annotation when `lazy=` is absent: an eager option on such a collection raises
        outer = annotation[0] if annotation and annotation[0].startswith("sqlalchemy.") else ""
        implied = ANNOTATED_STRATEGIES.get(outer.rsplit(".", 1)[-1]) if lazy is None else None
        strategy = "dynamic" if callee.endswith("dynamic_loader") else implied or self._strategy(lazy)
        target_class = self._target_class(argument(call, 0, "argument"))
        for target in targets:
            found.relationships[target] = strategy
            if target_class is not None:
                found.targets[target] = target_class
        backref = argument(call, 99, "backref")
        if backref is None and callee.startswith("sqlmodel."):
            backref = _dict_entry(kwargs, "backref")
        name = string(backref)
        if name is not None:
            found.backrefs[name] = "select"
        elif type(backref) is ast.Call and self.ref(backref.func) in BACKREF_CONSTRUCTORS:
            name = string(argument(backref, 0, "name"))
            if name is not None:
                found.backrefs[name] = self._strategy(argument(backref, 99, "lazy"))
        cascade = argument(call, 99, "cascade")
        if cascade is None and callee.startswith("sqlmodel."):
            cascade = _dict_entry(kwargs, "cascade")
        written = string(cascade) if cascade is not None else ""
        if written is None or {part.strip() for part in (written or "").split(",")} & {"all", "refresh-expire"}:
            found.cascading = (*found.cascading, *targets)
        back_populates = argument(call, 99, "back_populates")
        if back_populates is None and callee.startswith("sqlmodel."):
            back_populates = _dict_entry(kwargs, "back_populates")
        inverse = string(back_populates) or name
        if inverse is not None:
            for target in targets:
                found.inverses[target] = inverse
        shaping = [k.arg or "**" for k in call.keywords if k.arg is None or k.arg in _SHAPING_KEYWORDS]
        if callee.startswith("sqlmodel."):
            shaping += _dict_keys(kwargs)
        if type(backref) is ast.Call:
            shaping += [k.arg or "**" for k in backref.keywords if k.arg is None or k.arg in _SHAPING_KEYWORDS]
        if shaping:
            for target in targets:
                found.joins[target] = tuple(dict.fromkeys(k for k in shaping if k in _SHAPING_KEYWORDS or k == "**"))

    def _references(self, value: ast.expr) -> list[str]:
        """The columns the foreign keys in a class body's assignment name (`facts.ClassFacts.references`)."""
        found: list[str] = []
        for node in ast.walk(value):
            if type(node) is not ast.Call:
                continue
            tail = (dotted(node.func) or "").rsplit(".", 1)[-1]
            if tail in ("ForeignKeyConstraint", "ForeignKey"):
                target = argument(node, 0, "column")
                text = string(target)
                if tail == "ForeignKey" and text is not None:
                    found.append(text.rsplit(".", 1)[-1])
                elif tail == "ForeignKey" and type(target) is ast.Attribute:
                    found.append(target.attr)
                else:
                    found.append("?")
            for keyword in node.keywords:
                if keyword.arg == "foreign_key":  # sqlmodel's `Field(foreign_key="authors.id")`
                    text = string(keyword.value)
                    found.append(text.rsplit(".", 1)[-1] if text is not None else "?")
        return found

    def _module_lambda(self, target: str, value: ast.expr | None) -> None:
        """`COUNT = lambda: run_in_session(count)`: the function the lambda calls (`Module.lambdas`),
        kept only while the name is bound once, to that."""
        lambdas = self.facts.lambdas
        if target in lambdas or target in self._rebound:
            lambdas.pop(target, None)
            self._rebound.add(target)
            return
        self._rebound.add(target)
        if type(value) is not ast.Lambda or type(value.body) is not ast.Call:
            return
        written = dotted(value.body.func)
        params = {a.arg for a in (*value.args.posonlyargs, *value.args.args, *value.args.kwonlyargs)}
        ref = self.resolve(written, frozenset(params)) if written is not None else None
        if ref is not None:
            lambdas[target] = ref

    def _target_class(self, node: ast.expr | None) -> str | None:
        """The class a relationship's first argument names: `Comment`, `"Comment"`,
        `"app.models.Comment"`, `lambda: Comment`."""
        if type(node) is ast.Lambda and not node.args.args:
            node = node.body
        text = string(node)
        if text is not None:
            # the registry resolves a string by class name or full path, not by this
            # module's imports; an imported or local name still says where it lives
            head = text.partition(".")[0]
            if head in self.defined or head in self.facts.imports or head in self.scope_imports:
                return self.resolve(text)
            return text
        return self.ref(node)

    def _strategy(self, lazy: ast.expr | None) -> str:
        """A relationship's `lazy=` argument as written; "select" when absent."""
        if lazy is None:
            return "select"
        text = string(lazy)
        if text is not None:
            return text
        named = syntax.named_constant(lazy)
        if named is not None:
            return {"True": "select", "False": "joined", "None": "noload"}[named]
        return self.source.code(lazy)

    # ------------------------------------------------------------ functions

    def function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        qualname: str,
        keys: DefinitionKeys,
        routers: dict[str, str] | None = None,
        held: dict[str, str] | None = None,
        scope: frozenset[str] = frozenset(),
    ) -> None:
        from async_migrate.codemods.astcollect.body import read_function

        read_function(self, node, qualname, keys, routers, held, scope)

    def param(self, node: ast.arg, default: ast.expr | None) -> facts.Param:
        param = facts.Param(node.arg, node.lineno)
        annotation = node.annotation
        # Each part's calls listed once: the walk costs more than what is read off the calls.
        annotation_calls = list(syntax.calls_under(annotation)) if annotation is not None else []
        default_calls = list(syntax.calls_under(default)) if default is not None else []
        if annotation is not None:
            param.text = syntax.text(self.source, annotation)
            param.annotation = tuple(self.refs(annotation))
            targets = [self.depends_target(call) for call in annotation_calls]
            param.depends = next((t for t in targets if t), None)
            self.facts.depends.extend(t for t in targets if t is not None)
        if default is not None:
            target = self.depends_target(default)
            if target is not None:
                param.default = syntax.text(self.source, default)
            param.depends = param.depends or target
            self.facts.depends.extend(
                t for t in (target if call is default else self.depends_target(call) for call in default_calls)
                if t is not None
            )
            if type(default) is ast.Name or type(default) is ast.Attribute or syntax.named_constant(default):
                param.default_ref = self.ref(default)
            elif type(default) is ast.Constant and type(default.value) is str:
                param.literal = default.value
            param.plain_default = data_reads(default) == ()
            enclosing.read_default(self, param, default)
        for call in annotation_calls + default_calls:
            self._opaque_depends(param, call)
        self._provide(param, annotation, default)
        if param.depends is None and annotation is not None:
            # `svc: Service = Depends()`, `Annotated[Service, Depends()]`: FastAPI calls the class
            if type(annotation) is ast.Subscript and self.ref(annotation.value) in ANNOTATED:
                found = syntax.elements(annotation.slice)
                extras = [e for e in found[1:] if type(e) is not ast.Slice]
                if any(self.bare_depends(extra) for extra in extras):
                    first = found[0]
                    param.depends = self.ref(first) if type(first) is not ast.Slice else None
            elif self.bare_depends(default):
                param.depends = self.ref(annotation)
        return param

    def _provide(self, param: facts.Param, *nodes: ast.expr | None) -> None:
        """`Depends(Provide[Container.x])`, `Provide[...]` alone, inside `Closing[...]`: what the
        dependency-injector container's provider `x` makes is the parameter's value."""
        if not self.source.mentions("Provide"):  # neither marker is written, nor imported under another name
            return
        for top in nodes:
            if top is None:
                continue
            for node in ast.walk(top):
                if type(node) is not ast.Subscript:
                    continue
                marker = self.ref(node.value)
                if marker not in PROVIDE and marker not in PROVIDER:
                    continue
                ref = self.ref(node.slice)
                suffix = ".provider" if marker in PROVIDER and ref is not None else ""
                param.provide = (ref or "?") + suffix
                param.provide_text = syntax.text(self.source, node)
                return

    def _opaque_depends(self, param: facts.Param, call: ast.Call) -> None:
        """`Depends(lambda: ...)`, `Depends(partial(get_db))`, `Depends(make_dep())`: what FastAPI
        calls is built by an expression; keep it as written, with the references it names."""
        if type(call) is not ast.Call or self.ref(call.func) not in DEPENDS:
            return
        found = argument(call, 0, "dependency")
        if found is None or self.ref(found) is not None:
            return
        param.opaque_depends = syntax.text(self.source, found)
        refs = []
        for node in ast.walk(found):
            if type(node) is ast.Name or type(node) is ast.Attribute:
                ref = self.ref(node)
                if ref is not None and ref not in refs:
                    refs.append(ref)
        param.opaque_refs = tuple(refs)

    def decorator(
        self, expression: ast.expr, routers: dict[str, str] | None = None, held: dict[str, str] | None = None,
        scope: frozenset[str] = frozenset(),
    ) -> facts.Decorator:
        """One decorator; in a nested function, `routers` and `held` read the enclosing function's
        routers, and any other of its names (`scope`) leaves the router unread (base None)."""
        decorator = facts.Decorator(line=self.source.line_of(expression), callee=None, text=syntax.text(self.source, expression))
        func = expression.func if type(expression) is ast.Call else expression
        decorator.is_call = type(expression) is ast.Call
        decorator.callee = self.ref(func)
        if type(func) is ast.Attribute:
            decorator.base = self.ref(func.value)
            decorator.attr = func.attr
            if routers and type(func.value) is ast.Name:
                decorator.router_call = routers.get(func.value.id)
            if held:
                decorator.held = held.get(dotted(func.value) or "")
            head = func.value
            while type(head) is ast.Attribute:
                head = head.value
            if type(head) is ast.Name and head.id in scope and decorator.router_call is decorator.held is None:
                # a parameter or local of the enclosing function (`def register(router)`), even one
                # named as a module-level router: what it holds is not read
                decorator.base = None
        if type(expression) is ast.Call:
            decorator.keywords = tuple(k.arg for k in expression.keywords if k.arg is not None)
            if decorator.attr in EVENT_HOOKS:
                decorator.event = string(argument(expression, 0, "event_type"))
            if decorator.attr in ROUTE_ATTRS:
                decorator.path = self.path_string(argument(expression, 0, "path"), scope)
                decorator.methods = tuple(s.upper() for s in strings(argument(expression, 99, "methods")))
                model = argument(expression, 99, "response_model")
                if model is not None:
                    decorator.response_model = self.ref(model)
                    decorator.response_refs = tuple(self.refs(model))
            targets = [self.depends_target(c) for c in syntax.calls_under(expression)]
            decorator.depends = tuple(t for t in targets if t is not None)
            self.facts.depends.extend(decorator.depends)
        return decorator


def _unread_results(body: list[ast.stmt]) -> set[int]:
    """The ids of the calls outside any function whose value nothing reads: a whole expression
    statement, the test of an `if` or `while` (or the operand of `not` there), in the blocks of
    compound statements and class bodies too."""
    found: set[int] = set()
    pending = list(body)
    while pending:
        statement = pending.pop()
        kind = type(statement)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            continue
        if kind is ast.ClassDef:
            pending.extend(statement.body)  # type: ignore[attr-defined]
        elif kind is ast.Expr and type(statement.value) is ast.Call:  # type: ignore[attr-defined]
            found.add(id(statement.value))  # type: ignore[attr-defined]
        elif isinstance(statement, syntax.COMPOUND) or kind is ast.Match:
            if kind is ast.If or kind is ast.While:
                test = statement.test  # type: ignore[attr-defined]
                while type(test) is ast.UnaryOp and type(test.op) is ast.Not:
                    test = test.operand
                if type(test) is ast.Call:
                    found.add(id(test))
            blocks = [case.body for case in statement.cases] if kind is ast.Match else [  # type: ignore[attr-defined]
                statement.body, *(getattr(statement, name, []) for name in ("orelse", "finalbody")),  # type: ignore[attr-defined]
                *(handler.body for handler in getattr(statement, "handlers", [])),
            ]
            for block in blocks:
                pending.extend(block)
    return found


def _blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    if type(statement) is ast.If:
        blocks = [statement.body]
        orelse = statement.orelse
        # `elif` (or `else:` holding only an `if`, which reaches the same statements)
        while len(orelse) == 1 and type(orelse[0]) is ast.If:
            blocks.append(orelse[0].body)
            orelse = orelse[0].orelse
        if orelse:
            blocks.append(orelse)
        return blocks
    if type(statement) is ast.Try or type(statement) is ast.TryStar:
        return [statement.body, *(h.body for h in statement.handlers), statement.orelse, statement.finalbody]
    return [statement.body, getattr(statement, "orelse", [])]  # type: ignore[attr-defined]


def _headers(statement: ast.stmt) -> list[ast.expr]:
    """The expressions a compound statement evaluates itself: tests, iterables, context managers,
    a match's subject and guards (`elif` tests too)."""
    kind = type(statement)
    if kind is ast.If:
        found = [statement.test]  # type: ignore[attr-defined]
        orelse = statement.orelse  # type: ignore[attr-defined]
        while len(orelse) == 1 and type(orelse[0]) is ast.If:
            found.append(orelse[0].test)
            orelse = orelse[0].orelse
        return found
    if kind is ast.While:
        return [statement.test]  # type: ignore[attr-defined]
    if kind is ast.For or kind is ast.AsyncFor:
        return [statement.iter]  # type: ignore[attr-defined]
    if kind is ast.With or kind is ast.AsyncWith:
        return [item.context_expr for item in statement.items]  # type: ignore[attr-defined]
    if kind is ast.Match:
        return [statement.subject, *(c.guard for c in statement.cases if c.guard is not None)]  # type: ignore[attr-defined]
    return []


def loop_targets(statements: Iterable[ast.AST]) -> dict[int, dict[str, ast.For | ast.AsyncFor]]:
    """For each call inside a `for` loop among `statements` (by id), the innermost loop binding
    each name its target binds, unless the loop's body binds the name again (`fn = wrap(fn)`)."""
    found: dict[int, dict[str, ast.For | ast.AsyncFor]] = {}
    for statement in statements:
        if type(statement) is not ast.For and type(statement) is not ast.AsyncFor:
            continue
        inside = [node for part in statement.body for node in ast.walk(part)]
        rebound = {n.id for n in inside if type(n) is ast.Name and type(n.ctx) is ast.Store}
        names = free_names(statement.target) - rebound
        for node in inside:
            if type(node) is ast.Call:
                # ast.walk reaches an outer loop before the loops inside it: the inner one wins
                found.setdefault(id(node), {}).update(dict.fromkeys(names, statement))
    return found


def _unpack(target: ast.expr, value: ast.expr) -> dict[str, ast.expr] | None:
    """The expression each name of a loop target is bound to, for one element of a display."""
    if type(target) is ast.Name:
        return {target.id: value}
    if type(target) in (ast.Tuple, ast.List) and type(value) in (ast.Tuple, ast.List):
        names, values = target.elts, value.elts  # type: ignore[attr-defined]
        if len(names) != len(values) or any(type(v) is ast.Starred for v in values):
            return None
        bound: dict[str, ast.expr] = {}
        for name, held in zip(names, values):
            inner = _unpack(name, held)
            if inner is None:
                return None
            bound.update(inner)
        return bound
    return None


def override(statement: ast.stmt) -> tuple[ast.expr, ast.expr] | None:
    """`app.dependency_overrides[dep] = override`, at module level or in an application factory:
    the key and the override. FastAPI calls the override as it would the dependency, whichever
    kind of function it is, so it is a dependency; the key is only compared with the dependencies
    the routes name, no value anything calls."""
    if type(statement) is not ast.Assign:
        return None
    for target in statement.targets:
        if type(target) is ast.Subscript and type(target.value) is ast.Attribute and (
            target.value.attr == "dependency_overrides"
        ) and type(statement.value) in (ast.Name, ast.Attribute):
            return target.slice, statement.value
    return None


def overrides(statement: ast.stmt) -> frozenset[int]:
    """The override `override` finds, as the id of its node: FastAPI takes it, no value."""
    found = override(statement)
    return frozenset() if found is None else frozenset({id(found[1])})


def _calls_and_names(top: ast.AST) -> tuple[list[ast.Call], list[tuple[int, str | None]]]:
    """The calls under `top` as `syntax.calls_under` lists them, and every name and dotted name
    written in it, each with the id of its node (0 for a keyword's or a parameter's name, which
    no call or FastAPI takes), from one walk: depth first in the order written, a keyword's name
    after its value (as libcst lays out an argument)."""
    calls: list[ast.Call] = []
    names: list[tuple[int, str | None]] = []
    stack: list[Any] = [top]
    children = syntax.children
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is tuple:  # a keyword's name, due after its value
            names.append(node)
            continue
        if kind is ast.Name:
            names.append((id(node), node.id))
            continue
        if kind is ast.Constant:
            continue
        if kind is ast.keyword:
            if node.arg is not None:
                stack.append((0, node.arg))
            stack.append(node.value)
            continue
        if kind is ast.Call:
            calls.append(node)
        elif kind is ast.Attribute:
            names.append((id(node), dotted(node)))
        elif kind is ast.arg:
            names.append((0, node.arg))
        found = children(node)
        stack.extend(reversed(found if type(found) is list else list(found)))
    return calls, names


def free_names(node: ast.AST) -> set[str]:
    """Names an expression reads (or a target binds): not attribute or keyword names."""
    names: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is ast.Name:
            names.add(current.id)  # type: ignore[attr-defined]
        elif kind is ast.arg:
            names.add(current.arg)  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            stack.append(current.value)  # type: ignore[attr-defined]
        elif not isinstance(current, syntax.SCOPES):
            stack.extend(syntax.children(current))
    return names


def _plain_mapper_args(value: ast.expr | None) -> bool:
    """`__mapper_args__ = {"polymorphic_identity": "x", ...}`: string keys, none `primary_key`."""
    if type(value) is not ast.Dict:
        return False
    keys = [string(key) if key is not None else None for key in value.keys]
    return None not in keys and "primary_key" not in keys


def _mapping_properties(
    node: ast.expr | None, displays: dict[str, list[ast.expr]]
) -> list[tuple[str, ast.expr]] | None:
    """The `properties=` of a `map_imperatively(...)` call as (key, value) pairs: a `{...}`
    literal, a `dict(key=...)` call, or a module-level name bound once to either; None when
    they cannot be read (a name bound otherwise, `**` unpacking, a key that is no string)."""
    if node is None:
        return []
    if type(node) is ast.Name:
        bound = displays.get(node.id, [])
        return _mapping_properties(bound[0], {}) if len(bound) == 1 and type(bound[0]) is not ast.Name else None
    if type(node) is ast.Dict:
        keys = [string(key) if key is not None else None for key in node.keys]
        return None if None in keys else list(zip(keys, node.values))  # type: ignore[arg-type]
    if type(node) is ast.Call and dotted(node.func) == "dict" and not node.args:
        if any(keyword.arg is None for keyword in node.keywords):
            return None
        return [(keyword.arg, keyword.value) for keyword in node.keywords]  # type: ignore[misc]
    return None


def _table_column(node: ast.expr) -> tuple[str, str] | None:
    """`(table, column)` for `table.c.column` or `table.c["column"]`."""
    if type(node) is ast.Attribute:
        owner, name = node.value, node.attr
    elif type(node) is ast.Subscript and (name := string(node.slice)) is not None:  # type: ignore[assignment]
        owner = node.value
    else:
        return None
    if type(owner) is ast.Attribute and owner.attr in ("c", "columns") and type(owner.value) is ast.Name:
        return owner.value.id, name
    return None


# relationship() keywords that shape its join (`facts.ClassFacts.joins`).
_JOIN_KEYWORDS = frozenset({"primaryjoin", "secondary", "secondaryjoin", "foreign_keys"})
# Besides those: what makes setting a single-object relationship load the value it replaces at once.
_SHAPING_KEYWORDS = _JOIN_KEYWORDS | {"active_history", "_legacy_inactive_history_style"}


def _dict_keys(node: ast.expr | None) -> list[str]:
    """The keys of a `{...}` literal or a `dict(...)` call ("**" for one not written out)."""
    if type(node) is ast.Dict:
        return [string(k) or "**" if k is not None else "**" for k in node.keys]
    if type(node) is ast.Call and dotted(node.func) == "dict":
        return [k.arg or "**" for k in node.keywords] + ["**"] * len(node.args)
    return [] if node is None else ["**"]


def _dict_entry(node: ast.expr | None, key: str) -> ast.expr | None:
    """The value under a string key of a `{...}` literal or a `dict(key=...)` call."""
    if type(node) is ast.Dict:
        for name, value in zip(node.keys, node.values):
            if name is not None and string(name) == key:
                return value
    elif type(node) is ast.Call and dotted(node.func) == "dict":
        return argument(node, 99, key)
    return None


def _getattr_literal(call: ast.Call, local: frozenset[str]) -> str | None:
    """The attribute `getattr(obj, "name")` or `getattr(obj, "name", default)` reads (the builtin,
    a literal identifier), or None. With a default it may hold that instead: still what the
    attribute holds when it is set, which is what the value flow asks."""
    func = call.func
    if type(func) is not ast.Name or func.id != "getattr" or "getattr" in local or call.keywords:
        return None
    if len(call.args) not in (2, 3) or any(type(a) is ast.Starred for a in call.args):
        return None
    name = syntax.string(call.args[1])
    return name if name is not None and name.isidentifier() else None


def _alias_path(node: ast.expr) -> str | None:
    """`AliasPath("author", "name")` -> "author.name": attribute names read one on the other.
    None for an index (`AliasPath("tags", 0)`) or anything else."""
    if type(node) is not ast.Call or not node.args or node.keywords:
        return None
    func = node.func
    name = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else None
    parts = [string(a) for a in node.args]
    if name != "AliasPath" or any(p is None or not p.isidentifier() for p in parts):
        return None
    return ".".join(p for p in parts if p is not None)


def _unquoted(node: ast.expr) -> ast.expr:
    """A forward reference read as the expression it quotes (`"asyncio.Future[int]"`, a whole
    `"dict[str, asyncio.Future]"`), as Python's typing evaluates it; anything else as it is."""
    written = syntax.string(node)
    if written is None or not written.strip() or len(written) > 200:
        return node
    try:
        return ast.parse(written.strip(), mode="eval").body
    except SyntaxError:
        return node


# builtin types a table may hold as values (`{"top_k": int}`): calling one makes plain data
_BUILTIN_TYPES = frozenset({"str", "int", "float", "bool", "bytes", "dict", "list", "tuple", "set", "frozenset"})


def _literal_table(value: ast.expr) -> bool:
    """A dict, list, tuple or set display of constants and builtin types only."""
    if type(value) is ast.Dict:
        items = [*value.keys, *value.values]
    elif type(value) in (ast.List, ast.Tuple, ast.Set):
        items = list(value.elts)  # type: ignore[attr-defined]
    else:
        return False
    return all(
        item is not None and (type(item) is ast.Constant or (type(item) is ast.Name and item.id in _BUILTIN_TYPES))
        for item in items
    )


def _from_attributes(value: ast.expr) -> str:
    """`facts.ClassFacts.from_attributes` of `model_config = ConfigDict(...)` or a dict display."""
    if type(value) is ast.Call and all(k.arg is not None for k in value.keywords) and not value.args:
        pairs = [(k.arg, k.value) for k in value.keywords]
    elif type(value) is ast.Dict and all(k is not None for k in value.keys):
        pairs = [(string(k), v) for k, v in zip(value.keys, value.values)]
    else:
        return "?"
    return _said(pairs)


def _config_class_from_attributes(node: ast.ClassDef) -> str:
    """`facts.ClassFacts.from_attributes` of a pydantic v1 `class Config:` body."""
    pairs: list[tuple[str | None, ast.expr]] = []
    for statement in node.body:
        if type(statement) is ast.Assign:
            pairs += [(t.id, statement.value) for t in statement.targets if type(t) is ast.Name]
        elif type(statement) is ast.AnnAssign and type(statement.target) is ast.Name and statement.value is not None:
            pairs.append((statement.target.id, statement.value))
    return _said(pairs)


def _said(pairs: list[tuple[str | None, ast.expr]]) -> str:
    for key, value in pairs:
        if key in ("from_attributes", "orm_mode"):
            return "" if syntax.named_constant(value) == "False" else "yes"
    return ""
