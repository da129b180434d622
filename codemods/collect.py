"""The per-module pre-pass: one parsed module in, picklable facts out.

It runs in worker processes, so it knows nothing about other modules: names are
resolved against this module's own imports and definitions only, and the
project index joins the modules afterwards.

The walk is hand-written rather than a CSTVisitor because it runs over every
file of the project and must stay within a small multiple of the parse: it
descends only where facts live (definitions, bodies, decorators, annotations)
and skips whitespace and literals.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from async_migrate.codemods import facts
from async_migrate.codemods.lines import Layout, layout
from async_migrate.codemods.tree import children, walk
from async_migrate.codemods.vocabulary import ENGINE_CONSTRUCTORS, OFFLOADERS, RELATIONSHIP_CONSTRUCTORS
from async_migrate.codemods.vocabulary.fastapi import DEPENDS, REGISTRATION_ATTRS, ROUTE_ATTRS
from async_migrate.codemods.vocabulary.python import ANNOTATED
from async_migrate.codemods.vocabulary.sqlalchemy import BACKREF_CONSTRUCTORS, LOADER_NAMES, LOADER_OPTIONS

PRAGMA = "async-migrate:"

_SELF = frozenset({"self", "cls"})


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, None for anything else."""
    parts: list[str] = []
    while type(node) is cst.Attribute:  # exact types: called for every call and reference
        parts.append(node.attr.value)
        node = node.value
    if type(node) is cst.Name:
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _text(node: cst.BaseExpression) -> str:
    """Source-like text of a simple expression (annotations, decorators), for reasons.

    Printing through libcst costs a codegen per node; these shapes are rebuilt
    directly, in one normalised spelling, and anything else is printed.
    """
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_text(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Subscript):
        parts = [_text(e.slice.value) if isinstance(e.slice, cst.Index) else _code(e.slice) for e in node.slice]
        return f"{_text(node.value)}[{', '.join(parts)}]"
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return f"{_text(node.left)} | {_text(node.right)}"
    if isinstance(node, cst.Call):
        args = [
            ("*" if a.star == "*" else "**" if a.star == "**" else "")
            + (f"{a.keyword.value}={_text(a.value)}" if a.keyword is not None else _text(a.value))
            for a in node.args
        ]
        return f"{_text(node.func)}({', '.join(args)})"
    if isinstance(node, (cst.SimpleString, cst.Integer, cst.Float)):
        return node.value
    if isinstance(node, (cst.List, cst.Tuple)):
        inner = ", ".join(_text(e.value) for e in node.elements)
        return f"[{inner}]" if isinstance(node, cst.List) else f"({inner})"
    return " ".join(_code(node).split())


def _string(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _strings(node: cst.BaseExpression | None) -> tuple[str, ...]:
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        found = (_string(element.value) for element in node.elements)
        return tuple(s.upper() for s in found if s is not None)
    return ()


def _argument(call: cst.Call, position: int, keyword: str) -> cst.BaseExpression | None:
    positional = 0
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == keyword:
                return arg.value
        elif not arg.star:
            if positional == position:
                return arg.value
            positional += 1
    return None


def definitions(body: tuple[cst.CSTNode, ...] | list[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Statements of a module or class body, looking through if/try/with/for blocks."""
    for statement in body:
        yield statement
        if isinstance(statement, (cst.If, cst.With, cst.For, cst.While, cst.Try, cst.TryStar)):
            yield from _nested_blocks(statement)


def _nested_blocks(statement: cst.CSTNode) -> Iterator[cst.CSTNode]:
    blocks: list[cst.BaseSuite] = []
    if isinstance(statement, cst.If):
        blocks.append(statement.body)
        orelse = statement.orelse
        while orelse is not None:
            blocks.append(orelse.body)
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None
    elif isinstance(statement, (cst.Try, cst.TryStar)):
        blocks.append(statement.body)
        blocks.extend(handler.body for handler in statement.handlers)
        if statement.orelse is not None:
            blocks.append(statement.orelse.body)
        if statement.finalbody is not None:
            blocks.append(statement.finalbody.body)
    else:
        blocks.append(statement.body)  # type: ignore[attr-defined]
        orelse = getattr(statement, "orelse", None)
        if orelse is not None:
            blocks.append(orelse.body)
    for block in blocks:
        if isinstance(block, cst.IndentedBlock):
            yield from definitions(block.body)


class DefinitionKeys:
    """Stable keys for definitions: the qualified name, then `name#2`, `name#3`...

    The collector and the rewriters number definitions the same way, so a key
    names one `def` even when a module defines the same name twice.
    """

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def next(self, qualname: str) -> str:
        count = self._seen.get(qualname, 0) + 1
        self._seen[qualname] = count
        return qualname if count == 1 else f"{qualname}#{count}"


def module_name(path: str) -> tuple[str, bool]:
    """Dotted module name for a posix path relative to the root, and whether it is a package."""
    parts = path[: -len(".py")].split("/") if path.endswith(".py") else path.split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


class Collector:
    """Collects `facts.Module` from one parsed module."""

    def __init__(self, path: str, module: cst.Module, all_lines: bool = False, name: str | None = None) -> None:
        self.tree = module
        self.all_lines = all_lines
        self.name, self.is_package = module_name(path)
        if name is not None:  # named from an import root other than PATH (codemods.roots)
            self.name = name
        self.facts = facts.Module(path=path, name=self.name)
        self.defined: set[str] = set()
        # Lines are filled in after the walk, in one print of the module.
        self._pending: list[tuple[cst.CSTNode, object, str]] = []
        self.layout: Layout | None = None  # set when the module was printed for its lines
        self._nested = False  # the module-level statement being read sits in a compound one

    # ----------------------------------------------------------------- entry

    def collect(self) -> facts.Module:
        statements = list(definitions(self.tree.body))
        for statement in statements:
            self.define(statement)
        top = {id(statement) for statement in self.tree.body}
        for statement in statements:
            if isinstance(statement, (cst.Import, cst.ImportFrom)):
                continue
            if isinstance(statement, cst.SimpleStatementLine):
                self._nested = id(statement) not in top
                for small in statement.body:
                    self._module_statement(small)
        keys = DefinitionKeys()
        for statement in statements:
            if isinstance(statement, cst.FunctionDef):
                self._function(statement, statement.name.value, keys)
            elif isinstance(statement, cst.ClassDef):
                self._class(statement, keys)
        self._fill_lines()
        return self.facts

    def lines_needed(self) -> bool:
        """Whether the analysis needs this module's lines even when not every line is asked for.

        Lines cost a print of the module. Plain helper modules (no async def, no
        decorators, no dependencies) are only ever reported by name, so they skip it
        unless the caller asks for every line.
        """
        return bool(
            self.facts.depends
            or self.facts.registrations
            or any(
                f.is_async or f.decorators or f.is_generator or f.wraps for f in self.facts.functions
            )
        )

    def _fill_lines(self) -> None:
        if not (self.all_lines or self.lines_needed()):
            return
        self.layout = layout(self.tree, {id(node) for node, _, _ in self._pending})
        found = self.layout.lines
        for node, target, attribute in self._pending:
            line = found.get(id(node), 0)
            if isinstance(target, list):  # awaits and name uses: (line, text) pairs or lines
                target[int(attribute)] = (
                    (line, *target[int(attribute)][1:])
                    if isinstance(target[int(attribute)], tuple)
                    else line
                )
            else:
                setattr(target, attribute, line)

    def _line(self, node: cst.CSTNode, target: object, attribute: str = "line") -> None:
        self._pending.append((node, target, attribute))

    # ------------------------------------------------------- names and imports

    def define(self, statement: cst.CSTNode) -> None:
        """Record the names a module-level statement binds: imports and definitions."""
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            self.defined.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import):
                    self._import(small)
                elif isinstance(small, cst.ImportFrom):
                    self._import_from(small)
                elif isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            self.defined.add(target.target.value)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    self.defined.add(small.target.value)
                elif isinstance(small, cst.TypeAlias):
                    self.defined.add(small.name.value)

    def _import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.facts.imports[alias.asname.name.value] = full
            else:
                head = full.split(".")[0]
                self.facts.imports[head] = head

    def _import_from(self, node: cst.ImportFrom) -> None:
        base = dotted(node.module) if node.module is not None else ""
        if base is None:
            return
        if node.relative:
            package = self.name.split(".") if self.is_package else self.name.split(".")[:-1]
            depth = len(node.relative) - 1
            if depth > len(package):
                return
            anchor = package[: len(package) - depth] if depth else package
            base = ".".join([*anchor, base] if base else anchor)
        if isinstance(node.names, cst.ImportStar):
            self.facts.imports.setdefault("*", "")
            stars = self.facts.imports["*"]
            self.facts.imports["*"] = f"{stars},{base}" if stars else base
            return
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.facts.imports[local] = f"{base}.{name}" if base else name

    def resolve(self, expression: str | None, local: frozenset[str] = frozenset()) -> str | None:
        """Absolute reference of a dotted expression written in this module."""
        if expression is None:
            return None
        head, _, rest = expression.partition(".")
        if head in local:
            return None
        target = self.facts.imports.get(head)
        if target is None:
            if head in self.defined:
                target = f"{self.name}.{head}" if self.name else head
            else:
                target = head
        return f"{target}.{rest}" if rest else target

    def _ref(self, node: cst.BaseExpression, local: frozenset[str] = frozenset()) -> str | None:
        return self.resolve(dotted(node), local)

    def expression(self, node: cst.BaseExpression, local: frozenset[str] = frozenset()) -> str | None:
        """An expression in the value-flow notation of `facts.Function.bindings`, or None.

        Names, attributes and calls only: `$self.db.query` (a local head),
        `app.db.SessionLocal()` (a resolved head), `super().get`.
        """
        steps: list[str] = []
        while True:
            kind = type(node)
            if kind is cst.Attribute:
                steps.append("." + node.attr.value)  # type: ignore[attr-defined]
                node = node.value  # type: ignore[attr-defined]
            elif kind is cst.Call:
                func = node.func  # type: ignore[attr-defined]
                if type(func) is cst.Name and func.value == "super" and "super" not in local:
                    head = "super()"
                    break
                steps.append("()")
                node = func
            elif kind is cst.Name:
                name = node.value  # type: ignore[attr-defined]
                head = f"${name}" if name in local else (self.resolve(name) or name)
                break
            else:
                return None
        return head + "".join(reversed(steps))

    # -------------------------------------------------------- module level

    def _module_statement(self, small: cst.BaseSmallStatement) -> None:
        value: cst.BaseExpression | None = None
        target: str | None = None
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            if isinstance(small.targets[0].target, cst.Name):
                target = small.targets[0].target.value
            value = small.value
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            target, value = small.target.value, small.value
        elif isinstance(small, cst.TypeAlias):
            target, value = small.name.value, small.value
        elif isinstance(small, cst.Expr):
            value = small.value
            if isinstance(value, cst.Call):
                self._registration(value)
        if value is None:
            return
        self._scan_depends(value)
        self._module_references(value)
        if target is None:
            return
        recorded = self._value(value)
        if recorded is not None:
            self._line(small, recorded)
            self.facts.values[target] = recorded
            if recorded.kind == "call" and recorded.ref in ENGINE_CONSTRUCTORS:
                engine = facts.EngineCall(
                    line=0, callee=recorded.ref, args=recorded.args, target=target, conditional=self._nested
                )
                self._line(small, engine)
                self.facts.engines.append(engine)

    def _module_references(self, value: cst.BaseExpression) -> None:
        """Names a module-level expression uses as values (callback tables, partials)."""
        skipped = {id(node.func) for node in _calls_under(value)}
        for node in walk(value):
            if type(node) is cst.Attribute:
                skipped.add(id(node.attr))
            if id(node) in skipped or type(node) not in (cst.Name, cst.Attribute):
                continue
            written = dotted(node)  # type: ignore[arg-type]
            if written is None or written.split(".", 1)[0] not in self.defined.union(self.facts.imports):
                continue
            resolved = self.resolve(written)
            if resolved is not None and resolved not in self.facts.references:
                self.facts.references.append(resolved)

    def _value(self, value: cst.BaseExpression) -> facts.Value | None:
        if isinstance(value, cst.Subscript) and self._ref(value.value) in ANNOTATED:
            elements = [e.slice.value for e in value.slice if isinstance(e.slice, cst.Index)]
            if not elements:
                return None
            depends = None
            for extra in elements[1:]:
                depends = depends or self._depends_target(extra)
            return facts.Value(
                kind="annotated",
                line=0,
                ref=self._ref(elements[0]),
                depends=depends,
                annotation=tuple(self._refs(elements[0])),
            )
        if isinstance(value, cst.Call):
            target = self._depends_target(value)
            if target is not None:
                return facts.Value(kind="depends", line=0, ref=target)
            return facts.Value(kind="call", line=0, ref=self._ref(value.func), args=self._call_args(value))
        if isinstance(value, (cst.Name, cst.Attribute)):
            return facts.Value(kind="name", line=0, ref=self._ref(value))
        return None

    def _call_args(self, call: cst.Call, local: frozenset[str] = frozenset()) -> tuple[facts.CallArg, ...]:
        found = []
        for arg in call.args:
            keyword = arg.keyword.value if arg.keyword is not None else (arg.star or None)
            found.append(
                facts.CallArg(
                    keyword=keyword,
                    text=_code(arg.value),
                    ref=self._ref(arg.value, local),
                    local=bool(local) and not _free_names(arg.value).isdisjoint(local),
                )
            )
        return tuple(found)

    def _engine_calls(self, node: cst.FunctionDef, function: facts.Function) -> None:
        """The engine constructions in a function body, with what is local to the function."""
        local = {p.name for p in function.params}
        found: list[tuple[cst.Call, bool]] = []
        stack: list[tuple[cst.CSTNode, bool]] = [(node.body, False)]
        while stack:
            current, conditional = stack.pop()
            if isinstance(current, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
                targets = current.targets if isinstance(current, cst.Assign) else [current]
                for target in targets:
                    local.update(_free_names(target.target))
            elif isinstance(current, cst.AsName):
                local.update(_free_names(current.name))
            elif isinstance(current, cst.Call):
                found.append((current, conditional))
            branching = isinstance(current, _BRANCHES)
            stack.extend((child, conditional or branching) for child in reversed(current.children))
        frozen = frozenset(local)
        for call, conditional in found:
            callee = self.resolve(dotted(call.func), frozen)
            if callee not in ENGINE_CONSTRUCTORS:
                continue
            engine = facts.EngineCall(
                line=0,
                callee=callee,
                args=self._call_args(call, frozen),
                scope=function.key,
                conditional=conditional,
            )
            self._line(call, engine)
            self.facts.engines.append(engine)

    def _registration(self, call: cst.Call) -> None:
        if not isinstance(call.func, cst.Attribute):
            return
        attr = call.func.attr.value
        if attr == "include_router":  # the included router and the prefix it is served under
            prefix = _argument(call, 99, "prefix")
            include = facts.Registration(
                line=0,
                base=self._ref(call.func.value),
                attr=attr,
                endpoint=self._ref(call.args[0].value) if call.args and call.args[0].keyword is None else None,
                path="" if prefix is None else _string(prefix),
            )
            self._line(call, include)
            self.facts.registrations.append(include)
            return
        if attr not in REGISTRATION_ATTRS:
            return
        endpoint = _argument(call, 1, "endpoint")
        registration = facts.Registration(
            line=0,
            base=self._ref(call.func.value),
            attr=attr,
            endpoint=self._ref(endpoint) if endpoint is not None else None,
            path=_string(_argument(call, 0, "path")),
            methods=_strings(_argument(call, 99, "methods")),
        )
        self._line(call, registration)
        self.facts.registrations.append(registration)

    def _depends_target(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Call) and self._ref(node.func) in DEPENDS:
            argument = _argument(node, 0, "dependency")
            if argument is not None:
                # `Depends(Checker("admin"))`: an instance FastAPI calls, as a value-flow
                # expression (`app.auth.Checker()`) the index evaluates
                return self._ref(argument) or self.expression(argument)
        return None

    def _scan_depends(self, node: cst.CSTNode) -> None:
        """Record every Depends(target) under a module-level or signature node."""
        for call in _calls_under(node):
            target = self._depends_target(call)
            if target is not None:
                self.facts.depends.append(target)

    def _refs(self, node: cst.CSTNode) -> Iterator[str]:
        """References named in a type expression, outside Depends(...) calls."""
        if isinstance(node, (cst.Name, cst.Attribute)):
            ref = self._ref(node)  # type: ignore[arg-type]
            if ref is not None:
                yield ref
            return
        if isinstance(node, cst.Call):
            return
        if isinstance(node, cst.Subscript):
            yield from self._refs(node.value)
            for element in node.slice:
                yield from self._refs(element.slice)
            return
        if isinstance(node, cst.SimpleString):  # forward reference: "Session"
            value = _string(node)
            if value and value.replace(".", "").replace("_", "").isalnum():
                ref = self.resolve(value)
                if ref is not None:
                    yield ref
            return
        for child in children(node):
            yield from self._refs(child)

    # -------------------------------------------------------------- classes

    def _class(self, node: cst.ClassDef, keys: DefinitionKeys, prefix: str = "") -> None:
        qualname = f"{prefix}{node.name.value}"
        self._class_facts(node, qualname)
        if not isinstance(node.body, cst.IndentedBlock):
            return
        for statement in definitions(node.body.body):
            if isinstance(statement, cst.FunctionDef):
                self._function(statement, f"{qualname}.{statement.name.value}", keys)
            elif isinstance(statement, cst.ClassDef):
                self._class(statement, keys, f"{qualname}.")

    def _class_facts(self, node: cst.ClassDef, qualname: str) -> None:
        """Bases, relationship() attributes and annotated fields of one class statement."""
        found = facts.ClassFacts(name=node.name.value, qualname=qualname, line=0)
        self._line(node.name, found)
        # `CRUDBase[User]`, `Generic[M]`: the class subscripted
        bases = (
            self._ref(arg.value.value if isinstance(arg.value, cst.Subscript) else arg.value)
            for arg in node.bases
            if arg.keyword is None and not arg.star
        )
        found.bases = tuple(ref for ref in bases if ref is not None)
        decorators = (
            self._ref(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
            for d in node.decorators
        )
        found.decorators = tuple(ref for ref in decorators if ref is not None)
        if isinstance(node.body, cst.IndentedBlock):
            lines = [s for s in definitions(node.body.body) if isinstance(s, cst.SimpleStatementLine)]
            smalls = [small for line in lines for small in line.body]
        else:
            smalls = list(node.body.body)  # type: ignore[attr-defined]
        names: list[str] = []
        for small in smalls:
            value: cst.BaseExpression | None = None
            targets: list[str] = []
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                name, value = small.target.value, small.value
                refs = tuple(self._refs(small.annotation.annotation))
                if not (refs and refs[0].rsplit(".", 1)[-1] == "ClassVar"):
                    names.append(name)
                    found.annotations[name] = refs
                targets = [name]
                if value is not None:  # `db: Session = Depends(get_db)` in a class-based view
                    depends = self._depends_target(value)
                    if depends is not None:
                        found.depends[name] = depends
            elif isinstance(small, cst.Assign):
                targets = [t.target.value for t in small.targets if isinstance(t.target, cst.Name)]
                value = small.value
            if isinstance(value, cst.Call) and targets:
                self._relationship(found, targets, value)
        found.fields = tuple(names)
        self.facts.classes.append(found)

    def _relationship(self, found: facts.ClassFacts, targets: list[str], call: cst.Call) -> None:
        callee = self._ref(call.func)
        if callee not in RELATIONSHIP_CONSTRUCTORS:
            return
        lazy = _argument(call, 99, "lazy")
        if lazy is None and callee.startswith("sqlmodel."):
            lazy = _dict_entry(_argument(call, 99, "sa_relationship_kwargs"), "lazy")
        strategy = "dynamic" if callee.endswith("dynamic_loader") else _strategy(lazy)
        for target in targets:
            found.relationships[target] = strategy
        backref = _argument(call, 99, "backref")
        if backref is None and callee.startswith("sqlmodel."):
            backref = _dict_entry(_argument(call, 99, "sa_relationship_kwargs"), "backref")
        name = _string(backref)
        if name is not None:
            found.backrefs[name] = "select"
        elif isinstance(backref, cst.Call) and self._ref(backref.func) in BACKREF_CONSTRUCTORS:
            name = _string(_argument(backref, 0, "name"))
            if name is not None:
                found.backrefs[name] = _strategy(_argument(backref, 99, "lazy"))

    # ------------------------------------------------------------ functions

    def _function(
        self, node: cst.FunctionDef, qualname: str, keys: DefinitionKeys, routers: dict[str, str] | None = None
    ) -> None:
        function = facts.Function(
            name=node.name.value,
            qualname=qualname,
            key=keys.next(qualname),
            line=0,
            is_async=node.asynchronous is not None,
        )
        self._line(node.name, function)
        params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        if isinstance(node.params.star_arg, cst.Param):
            params.append(node.params.star_arg)
        if node.params.star_kwarg is not None:
            params.append(node.params.star_kwarg)
        names = frozenset(p.name.value for p in params)
        positional = len(node.params.posonly_params) + len(node.params.params)
        for number, param in enumerate(params):
            recorded = self._param(param)
            recorded.positional = number < positional
            if param is node.params.star_arg:
                recorded.variadic = "*"
            elif param is node.params.star_kwarg:
                recorded.variadic = "**"
            function.params.append(recorded)
        if node.returns is not None:
            function.returns = tuple(self._refs(node.returns.annotation))
        for decorator in node.decorators:
            function.decorators.append(self._decorator(decorator, routers))
        function.pragma = _pragma(node)
        function.abstract = _abstract(node, function.decorators)
        BodyScanner(self, function, names).scan(node.body)
        function.wraps = _decorator_shape(node)
        if any(call.callee in ENGINE_CONSTRUCTORS for call in function.calls):
            self._engine_calls(node, function)
        self.facts.functions.append(function)
        if isinstance(node.body, cst.IndentedBlock):
            self._nested_routes(node, qualname, keys, names)

    def _nested_routes(
        self, node: cst.FunctionDef, qualname: str, keys: DefinitionKeys, params: frozenset[str]
    ) -> None:
        """Routes defined inside a function (a router factory), as `make_routes.<locals>.list_all`.

        Every nested definition takes its key, in the order the rewriters number them,
        but only those with route-like decorators are collected.
        """
        body = list(definitions(node.body.body))  # type: ignore[attr-defined]
        nested = [s for s in body if isinstance(s, cst.FunctionDef)]
        if not any(_route_like(s) for s in nested):
            return
        routers: dict[str, str] = {}
        for statement in body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and isinstance(small.value, cst.Call)
                ):
                    made_by = self.resolve(dotted(small.value.func), params)
                    if made_by is not None:
                        routers[small.targets[0].target.value] = made_by
        for statement in nested:
            name = f"{qualname}.<locals>.{statement.name.value}"
            if _route_like(statement):
                self._function(statement, name, keys, routers)
            else:
                keys.next(name)

    def _param(self, node: cst.Param) -> facts.Param:
        param = facts.Param(name=node.name.value, line=0)
        self._line(node.name, param)
        if node.annotation is not None:
            annotation = node.annotation.annotation
            param.text = _text(annotation)
            param.annotation = tuple(self._refs(annotation))
            for call in _calls_under(annotation):
                param.depends = param.depends or self._depends_target(call)
            self._scan_depends(annotation)
        if node.default is not None:
            default = self._depends_target(node.default)
            if default is not None:
                param.default = _text(node.default)
            param.depends = param.depends or default
            self._scan_depends(node.default)
            if isinstance(node.default, (cst.Name, cst.Attribute)):
                param.default_ref = self._ref(node.default)
        if param.depends is None and node.annotation is not None:
            # `svc: Service = Depends()`, `Annotated[Service, Depends()]`: FastAPI calls the class
            annotation = node.annotation.annotation
            if type(annotation) is cst.Subscript and self._ref(annotation.value) in ANNOTATED:
                extras = [e.slice.value for e in annotation.slice[1:] if isinstance(e.slice, cst.Index)]
                if any(_bare_depends(extra, self) for extra in extras):
                    first = annotation.slice[0].slice
                    param.depends = self._ref(first.value) if isinstance(first, cst.Index) else None
            elif _bare_depends(node.default, self):
                param.depends = self._ref(annotation)
        return param

    def _decorator(self, node: cst.Decorator, routers: dict[str, str] | None = None) -> facts.Decorator:
        expression = node.decorator
        decorator = facts.Decorator(line=0, callee=None, text=_text(expression))
        self._line(expression, decorator)
        func = expression.func if isinstance(expression, cst.Call) else expression
        decorator.is_call = isinstance(expression, cst.Call)
        decorator.callee = self._ref(func)
        if isinstance(func, cst.Attribute):
            decorator.base = self._ref(func.value)
            decorator.attr = func.attr.value
            if routers and isinstance(func.value, cst.Name):
                decorator.router_call = routers.get(func.value.value)
        if isinstance(expression, cst.Call):
            if decorator.attr in ROUTE_ATTRS:
                decorator.path = _string(_argument(expression, 0, "path"))
                decorator.methods = _strings(_argument(expression, 99, "methods"))
                model = _argument(expression, 99, "response_model")
                if model is not None:
                    decorator.response_model = self._ref(model)
                    decorator.response_refs = tuple(self._refs(model))
            targets = [self._depends_target(c) for c in _calls_under(expression)]
            decorator.depends = tuple(t for t in targets if t is not None)
            self.facts.depends.extend(decorator.depends)
        return decorator


def _route_like(node: cst.FunctionDef) -> bool:
    """Decorated like a route: `@x.get("/path")`, `@x.api_route(...)`, `@x.websocket(...)`."""
    return any(
        isinstance(d.decorator, cst.Call)
        and isinstance(d.decorator.func, cst.Attribute)
        and d.decorator.func.attr.value in ROUTE_ATTRS
        for d in node.decorators
    )


_BRANCHES = (cst.If, cst.Else, cst.Try, cst.TryStar, cst.ExceptHandler, cst.ExceptStarHandler,
             cst.For, cst.While, cst.Match, cst.IfExp, cst.BooleanOperation)


def _free_names(node: cst.CSTNode) -> set[str]:
    """Names an expression reads (or a target binds): not attribute or keyword names."""
    names: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            names.add(current.value)
        elif isinstance(current, cst.Attribute):
            stack.append(current.value)
        elif isinstance(current, cst.Arg):
            stack.append(current.value)
        elif type(current) not in _SCOPES:
            stack.extend(children(current))
    return names


def _calls_under(node: cst.CSTNode) -> Iterator[cst.Call]:
    return (current for current in walk(node) if isinstance(current, cst.Call))


def _bare_depends(node: cst.CSTNode | None, collector: Collector) -> bool:
    """`Depends()` without a dependency: FastAPI calls the annotated class."""
    return (
        isinstance(node, cst.Call)
        and collector._ref(node.func) in DEPENDS
        and _argument(node, 0, "dependency") is None
    )


def _abstract(node: cst.FunctionDef, decorators: list[facts.Decorator]) -> bool:
    """An abstract method: `@abstractmethod`, or a body that only documents or refuses."""
    if any(d.callee is not None and d.callee.endswith("abstractmethod") for d in decorators):
        return True
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else (node.body,)
    for statement in body:
        smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else (
            statement.body if isinstance(statement, cst.SimpleStatementSuite) else None
        )
        if smalls is None:
            return False
        for small in smalls:
            if isinstance(small, cst.Pass):
                continue
            if isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.Ellipsis)):
                continue
            if isinstance(small, cst.Raise) and small.exc is not None and "NotImplementedError" in (
                dotted(small.exc.func if isinstance(small.exc, cst.Call) else small.exc) or ""
            ):
                continue
            return False
    return True


def _strategy(lazy: cst.BaseExpression | None) -> str:
    """A relationship's `lazy=` argument as written; "select" when absent."""
    if lazy is None:
        return "select"
    text = _string(lazy)
    if text is not None:
        return text
    if isinstance(lazy, cst.Name) and lazy.value in ("True", "False", "None"):
        return {"True": "select", "False": "joined", "None": "noload"}[lazy.value]
    return _code(lazy)


def _dict_entry(node: cst.BaseExpression | None, key: str) -> cst.BaseExpression | None:
    """The value under a string key of a `{...}` literal or a `dict(key=...)` call."""
    if isinstance(node, cst.Dict):
        for element in node.elements:
            if isinstance(element, cst.DictElement) and _string(element.key) == key:
                return element.value
    elif isinstance(node, cst.Call) and dotted(node.func) == "dict":
        return _argument(node, 99, key)
    return None


def _string_list(node: cst.BaseExpression | None) -> list[str]:
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        found = (_string(element.value) for element in node.elements)
        return [s for s in found if s is not None]
    return []


def _query_chain_root(node: cst.Call) -> cst.Call | None:
    """The `X.query(...)` call at the bottom of a method chain on a bare name, if any."""
    current: cst.BaseExpression = node
    while isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
        value = current.func.value
        if current.func.attr.value == "query" and isinstance(value, cst.Name):
            return current
        current = value
    return None


def legacy_query_blocker(outer: cst.Call, receiver: str) -> str | None:
    try:
        from async_migrate.codemods.phase2.legacy_query import rewrite_query
    except ImportError:
        return "legacy `Query` API: rewrite it to `select()` by hand"
    result = rewrite_query(outer, receiver)
    return result if isinstance(result, str) else None


def _pragma(node: cst.FunctionDef) -> str | None:
    lines = [*node.leading_lines, *node.lines_after_decorators]
    comments = [line.comment for line in lines if line.comment is not None]
    if isinstance(node.body, cst.IndentedBlock) and node.body.header.comment is not None:
        comments.append(node.body.header.comment)
    for comment in comments:
        text = comment.value.lstrip("#").strip()
        if text.startswith(PRAGMA):
            return text[len(PRAGMA) :].strip()
    return None


def _decorator_shape(node: cst.FunctionDef) -> str | None:
    """How a function behaves when used as a decorator.

    passthrough: returns the decorated function itself (a marker or registry).
    coroutine: returns an `async def` wrapper that awaits the decorated function.
    sync: returns a plain wrapper that calls the decorated function.
    unknown: anything else that takes a function and returns something.
    A decorator factory (`@tagged("x")`) has the shape of the decorator it returns.
    """
    params = [*node.params.posonly_params, *node.params.params]
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    inner = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}
    returned = [
        small.value
        for statement in body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
        if isinstance(small, cst.Return) and small.value is not None
    ]
    if not returned or not params:
        return None
    first = params[0].name.value if params else None
    for value in returned:
        if isinstance(value, cst.Name) and value.value == first:
            return "passthrough"
    for value in returned:
        # `return functools.wraps(func)(wrapper)` returns `wrapper`
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Call) and value.args:
            value = value.args[0].value
        if not isinstance(value, cst.Name) or value.value not in inner:
            continue
        wrapper = inner[value.value]
        if first is None:
            continue
        wrapper_shape = _wrapper_calls(wrapper, first)
        if wrapper_shape is not None:
            return wrapper_shape
        # a factory: `def tagged(label): def decorate(func): ...; return decorate`
        factory_shape = _decorator_shape(wrapper)
        if factory_shape is not None:
            return factory_shape
        return "unknown"
    return None


def _wrapper_calls(wrapper: cst.FunctionDef, wrapped: str) -> str | None:
    awaited: set[int] = set()
    called = False
    for node in walk(wrapper.body):
        if isinstance(node, cst.Await) and isinstance(node.expression, cst.Call):
            if dotted(node.expression.func) == wrapped:
                awaited.add(id(node.expression))
        if isinstance(node, cst.Call) and dotted(node.func) == wrapped:
            called = True
    if awaited:
        return "coroutine"
    if called:
        return "sync" if wrapper.asynchronous is None else "unknown"
    return None


# What the value notation can spell (`Collector.expression`): other values are not recorded.
_FLOW_EXPRESSIONS = frozenset({cst.Name, cst.Attribute, cst.Call})

# Exact types (parsed trees hold no subclasses): ABC instance checks are slow on this path.
_SCOPES = frozenset({cst.FunctionDef, cst.Lambda, cst.ClassDef})


class BodyScanner:
    """Walks one function body: calls, awaits, yields, uses of parameters, opened sessions."""

    def __init__(self, collector: Collector, function: facts.Function, params: frozenset[str]):
        self.collector = collector
        self.function = function
        self.params = params
        self.locals: set[str] = set(params)
        self.tracked: set[str] = set(params)
        self.raw_calls: list[tuple[facts.Call, cst.BaseExpression]] = []
        self.offloaded: set[int] = set()
        self.awaited: set[int] = set()
        self.statements: set[int] = set()
        self.argument_of: dict[int, int] = {}  # id of a call passed as an argument -> the outer call's index
        # Calls are numbered in tree order so a rewriter can find one again without positions.
        self.call_count = 0
        # Lazy-load facts, kept raw until the walk knows every local name.
        self.callees: set[int] = set()  # ids of call targets: `session.get` is not an attribute read
        self.raw_attributes: list[tuple[cst.Attribute, str, str]] = []
        self.raw_loaders: list[tuple[str | None, cst.Call]] = []  # (callee as written, call)
        self.generators = 0
        self.coroutines: list[str] = []  # the nested `async def`s around the node being read
        self.chain_inner: set[int] = set()
        self.query_blockers: dict[int, str | None] = {}
        # Module-level names used as values, not called: `add_task(crud.add_user, ...)`,
        # `{"a": handler}`. A function referenced like this has callers the call graph misses.
        self.module_level = collector.defined.union(collector.facts.imports)
        self.raw_references: list[str] = []
        # Value flow, kept raw until the walk knows every local name.
        self.raw_bindings: list[tuple[facts.Binding, cst.BaseExpression]] = []
        self.raw_assigns: list[tuple[str, cst.BaseExpression]] = []
        self.raw_returned: list[cst.BaseExpression] = []
        self.raw_yielded: list[cst.BaseExpression] = []
        self.raw_args: list[tuple[facts.Arg, cst.BaseExpression]] = []

    def scan(self, body: cst.BaseSuite) -> None:
        self._visit(body, nested=False)
        self._lazy_facts()
        local = frozenset(self.locals)
        expression = self.collector.expression
        for call, func in self.raw_calls:
            call.callee = self.collector.resolve(dotted(func), local)
            if call.callee is None:
                call.func = expression(func, local)
            for arg in call.args:
                if arg.ref is not None:
                    arg.ref = self.collector.resolve(arg.ref, local)
        references = self.collector.facts.references
        for written in self.raw_references:
            resolved = self.collector.resolve(written, local)
            if resolved is not None and resolved not in references:
                references.append(resolved)
        for arg, value in self.raw_args:
            found = expression(value, local)
            if found is not None and found.startswith("$"):
                arg.expr = found
        for binding, value in self.raw_bindings:
            found = expression(value, local)
            if found is not None:
                binding.expr = found
                self.collector._line(value, binding)
                self.function.bindings.append(binding)
        for attribute, value in self.raw_assigns:
            found = expression(value, local)
            if found is not None:
                self.function.assigns.append((attribute, found))
        self.function.returned = tuple(
            found for found in (expression(value, local) for value in self.raw_returned) if found is not None
        )
        self.function.yielded = tuple(
            found for found in (expression(value, local) for value in self.raw_yielded) if found is not None
        )
        # Uses of names bound to sessions opened here count as uses too.
        self.function.name_uses = {
            name: lines for name, lines in self.function.name_uses.items() if name in self.tracked
        }

    # The walk keeps an explicit "nested" flag: awaits and yields only count in
    # the function's own body, while calls and name uses count everywhere.
    def _visit(self, node: cst.CSTNode, nested: bool) -> None:
        kind = type(node)
        if kind in _SCOPES:
            if kind is cst.FunctionDef:
                for decorator in node.decorators:
                    self._visit(decorator, nested)
                self._visit(node.params, nested)
                if node.returns is not None:
                    self._visit(node.returns, nested)
                if node.asynchronous is None:
                    self._visit(node.body, True)
                else:
                    self.coroutines.append(node.name.value)
                    self._visit(node.body, True)
                    self.coroutines.pop()
            elif kind is cst.Lambda:
                self._visit(node.params, nested)
                self._visit(node.body, True)
            else:
                for child in children(node):
                    self._visit(child, True)
            return
        handler = _HANDLERS.get(kind)
        if handler is not None and handler(self, node, nested) is False:
            return
        for child in children(node):
            if type(child) not in _SKIPPED:
                self._visit(child, nested)

    def _on_name(self, node: cst.Name, nested: bool) -> bool:
        if node.value in self.params or node.value in self.tracked:
            uses = self.function.name_uses.setdefault(node.value, [])
            uses.append(0)
            self.collector._line(node, uses, str(len(uses) - 1))
        elif id(node) not in self.callees and node.value in self.module_level:
            self.raw_references.append(node.value)
        return False

    def _on_attribute(self, node: cst.Attribute, nested: bool) -> bool:
        self._attribute(node)
        if id(node) not in self.callees:
            head = node.value
            while type(head) is cst.Attribute:
                head = head.value
            if type(head) is cst.Name and head.value in self.module_level:
                written = dotted(node)
                if written is not None:
                    self.raw_references.append(written)
        self._visit(node.value, nested)
        return False

    def _on_arg(self, node: cst.Arg, nested: bool) -> bool:
        self._visit(node.value, nested)
        return False

    def _on_await(self, node: cst.Await, nested: bool) -> None:
        expression = node.expression
        if isinstance(expression, cst.Call):
            self.awaited.add(id(expression))
        if not nested:
            text = " ".join(_code(node).split())
            self._await(node, text if len(text) <= 60 else text[:57] + "...")

    def _await(self, node: cst.CSTNode, text: str) -> None:
        self.function.awaits.append((0, text))
        self.collector._line(node, self.function.awaits, str(len(self.function.awaits) - 1))

    def _on_for(self, node: cst.For, nested: bool) -> None:
        if node.asynchronous is not None and not nested:
            self._await(node.target, "async for")
        self._bind(node.target)

    def _on_with(self, node: cst.With, nested: bool) -> None:
        asynchronous = node.asynchronous is not None
        if asynchronous and not nested:
            self._await(node.items[0].item, "async with")
        for item in node.items:
            if item.asname is not None and isinstance(item.asname.name, cst.Name):
                self._binding(item.asname.name.value, item.item, entered=True, asynchronous=asynchronous)
                self.locals.add(item.asname.name.value)
        if asynchronous:
            return
        for item in node.items:
            if isinstance(item.item, cst.Call) and item.asname is not None:
                target = item.asname.name
                if isinstance(target, cst.Name):
                    self._open(target.value, item.item, self.call_count)

    def _on_generator(self, node: cst.GeneratorExp, nested: bool) -> bool:
        self.generators += 1
        for child in children(node):
            self._visit(child, nested)
        self.generators -= 1
        return False

    def _on_comp_for(self, node: cst.CompFor, nested: bool) -> None:
        if node.asynchronous is not None and not nested:
            self._await(node.target, "async comprehension")

    def _on_yield(self, node: cst.Yield, nested: bool) -> None:
        if not nested:
            self.function.is_generator = True
            if isinstance(node.value, cst.Name):
                self.function.yields += (node.value.value,)
            if type(node.value) in _FLOW_EXPRESSIONS:
                self.raw_yielded.append(node.value)  # type: ignore[arg-type]

    def _on_return(self, node: cst.Return, nested: bool) -> None:
        if not nested and isinstance(node.value, cst.Name):
            self.function.yields += (node.value.value,)
        if not nested and type(node.value) in _FLOW_EXPRESSIONS:
            self.raw_returned.append(node.value)
        if isinstance(node.value, cst.Call):
            self.statements.add(id(node.value))

    def _on_assign(self, node: cst.Assign, nested: bool) -> None:
        for target in node.targets:
            self._bind(target.target)
            self._flow_target(target.target, node.value)
        if (
            len(node.targets) == 1
            and isinstance(node.targets[0].target, cst.Name)
            and isinstance(node.value, cst.Name)
        ):
            self.function.rebinds.append((node.targets[0].target.value, node.value.value))
        value = node.value.expression if isinstance(node.value, cst.Await) else node.value
        if (
            len(node.targets) == 1
            and isinstance(node.targets[0].target, cst.Name)
            and isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and isinstance(value.func.value, cst.Name)
            and value.func.attr.value in ("get", "get_one")
            and not any(a.keyword is not None and a.keyword.value == "options" for a in value.args)
        ):
            self.function.plain_gets.append(node.targets[0].target.value)
        if isinstance(node.value, cst.Call):
            self.statements.add(id(node.value))
            if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
                self._open(node.targets[0].target.value, node.value)

    def _on_ann_assign(self, node: cst.AnnAssign, nested: bool) -> None:
        self._bind(node.target)
        if node.value is not None:
            self._flow_target(node.target, node.value)
        if isinstance(node.value, cst.Call):
            self.statements.add(id(node.value))

    def _on_expr(self, node: cst.Expr, nested: bool) -> None:
        if isinstance(node.value, cst.Call):
            self.statements.add(id(node.value))

    def _on_call(self, node: cst.Call, nested: bool) -> None:
        func = node.func
        self._loader_call(node, func)
        call = facts.Call(
            line=0,
            callee=None,
            index=self.call_count,
            awaited=id(node) in self.awaited,
            nested=nested,
            offloaded=id(node) in self.offloaded,
            statement=id(node) in self.statements,
            in_generator=self.generators > 0,
            argument_of=self.argument_of.get(id(node)),
            coroutine=self.coroutines[-1] if self.coroutines else None,
        )
        for arg in node.args:
            if type(arg.value) is cst.Call:
                self.argument_of[id(arg.value)] = self.call_count
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            call.chained = func.attr.value
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            call.receiver = func.value.value
            call.method = func.attr.value
        if id(node) not in self.chain_inner:
            root = _query_chain_root(node)
            if root is not None:
                self._query_chain(node, root, call)
        call.args = _args(node.args)
        for recorded, written in zip(call.args, (a for a in node.args if not a.star)):
            if type(written.value) is cst.Attribute:
                self.raw_args.append((recorded, written.value))
        if id(node) in self.query_blockers and call.query_root is None:
            call.query_blocker = self.query_blockers[id(node)]
        self.collector._line(node, call)
        self.function.calls.append(call)
        self.raw_calls.append((call, func))
        offload = self._offload_position(func)
        if offload is not None:
            self._offloaded_helper(node, call, nested, *offload)
        target = self.collector._depends_target(node)
        if target is not None:
            self.collector.facts.depends.append(target)
        self.call_count += 1

    def _offload_position(self, func: cst.BaseExpression) -> tuple[int, bool] | None:
        """Where an offloading call takes its function, and whether the call passes keywords on.

        `run_in_threadpool(f, *args, **kwargs)`, `asyncio.to_thread(f, ...)`,
        `anyio.to_thread.run_sync(f, *args)` and `loop.run_in_executor(executor, f, *args)`
        all run `f` in a worker thread.
        """
        if isinstance(func, cst.Attribute) and func.attr.value == "run_in_executor":
            return 1, False
        if type(func) is cst.Name or type(func) is cst.Attribute:
            offloader = self.collector.resolve(dotted(func), frozenset(self.locals))
            if offloader in OFFLOADERS:
                return 0, offloader != "anyio.to_thread.run_sync"
        return None

    def _offloaded_helper(
        self, node: cst.Call, call: facts.Call, nested: bool, position: int, keywords: bool
    ) -> None:
        """Record an offloaded `f(...)` as a call of `f`, marked offloaded, at the outer call's index.

        `functools.partial(f, a)` as the function counts as `f` called with `a` first;
        its own call is marked offloaded too, so the Session it carries is no hand-off.
        """
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if len(positional) <= position or any(a.star for a in node.args):
            return
        target = positional[position].value
        arguments = positional[position + 1 :]
        if keywords:
            arguments += [a for a in node.args if a.keyword is not None]
        direct = position == 0 and keywords
        local = frozenset(self.locals)
        if isinstance(target, cst.Call) and self.collector.resolve(dotted(target.func), local) == _PARTIAL:
            inner = [a for a in target.args if not a.star]
            if not inner or inner[0].keyword is not None or any(a.star for a in target.args):
                return
            self.offloaded.add(id(target))
            target = inner[0].value
            bound = inner[1:]
            arguments = [a for a in bound if a.keyword is None] + arguments + [
                a for a in bound if a.keyword is not None
            ]
            direct = False
        if dotted(target) is None:
            return
        helper = facts.Call(
            line=0,
            callee=None,
            index=self.call_count,
            args=_args(arguments),
            awaited=call.awaited,
            nested=nested,
            offloaded=True,
            offload_direct=direct,
            coroutine=call.coroutine,
        )
        self.collector._line(node, helper)
        self.function.calls.append(helper)
        self.raw_calls.append((helper, target))
        self.callees.add(id(target))  # a call the graph sees, not a bare value

    def _query_chain(self, outer: cst.Call, root: cst.Call, call: facts.Call) -> None:
        """Judge a legacy Query chain once, at its outermost call."""
        receiver = root.func.value.value  # type: ignore[attr-defined]
        blocker = legacy_query_blocker(outer, receiver)
        node: cst.BaseExpression = outer
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            self.chain_inner.add(id(node))
            if node is root:
                break
            node = node.func.value
        call.query_root = receiver
        call.query_blocker = blocker
        self.query_blockers[id(root)] = blocker

    def _flow_target(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        kind = type(target)
        if kind is cst.Name:
            self._binding(target.value, value)  # type: ignore[attr-defined]
        elif (
            kind is cst.Attribute
            and type(target.value) is cst.Name  # type: ignore[attr-defined]
            and target.value.value == "self"  # type: ignore[attr-defined]
            and type(value) in _FLOW_EXPRESSIONS
        ):
            self.raw_assigns.append((target.attr.value, value))  # type: ignore[attr-defined]

    def _binding(
        self, name: str, value: cst.BaseExpression, entered: bool = False, asynchronous: bool = False
    ) -> None:
        if type(value) in _FLOW_EXPRESSIONS:
            self.raw_bindings.append((facts.Binding(name, "", entered=entered, asynchronous=asynchronous), value))

    def _bind(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.locals.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value)

    def _open(self, name: str, call: cst.Call, index: int = -1) -> None:
        callee = self.collector.resolve(dotted(call.func), frozenset(self.locals - {name}))
        if callee is None:
            return
        opened = facts.SessionOpen(name=name, callee=callee, line=0, index=index)
        self.collector._line(call, opened)
        self.function.opens.append(opened)
        self.tracked.add(name)
        self.locals.add(name)

    # ------------------------------------------------------ lazy-load facts

    def _attribute(self, node: cst.Attribute) -> None:
        value = node.value
        if isinstance(value, cst.Name):
            if id(node) not in self.callees:
                self.raw_attributes.append((node, value.value, node.attr.value))
        elif isinstance(value, cst.Attribute) and value.attr.value == "awaitable_attrs":
            self.function.eager.append(("", node.attr.value))  # `await obj.awaitable_attrs.rel`

    def _loader_call(self, node: cst.Call, func: cst.BaseExpression) -> None:
        self.callees.add(id(func))
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr == "refresh":  # session.refresh(obj, attribute_names=["rel"])
                names = _string_list(_argument(node, 1, "attribute_names"))
                self.function.eager.extend(("", name) for name in names)
            elif attr in LOADER_NAMES:
                # `selectinload(A.b).selectinload(B.c)`, `Load(A).joinedload(A.b)`: a method of an option
                self.raw_loaders.append((None if isinstance(func.value, cst.Call) else dotted(func), node))
        elif isinstance(func, cst.Name) and func.value in LOADER_NAMES:
            self.raw_loaders.append((func.value, node))

    def _lazy_facts(self) -> None:
        local = frozenset(self.locals)
        for written, call in self.raw_loaders:
            if written is not None:
                callee = self.collector.resolve(written, local)
                # None: a method of a local loader object (`load = Load(A); load.selectinload(...)`)
                if callee is not None and callee not in LOADER_OPTIONS:
                    continue
            for arg in call.args:
                if arg.keyword is None and not arg.star:
                    self._eager_argument(arg.value, local)
        module_level = self.collector.defined.union(self.collector.facts.imports)
        attributes = self.function.attributes
        for node, receiver, attr in self.raw_attributes:
            if receiver in _SELF:
                continue  # methods are not reached through resolvable calls; skip the bulk
            if receiver in self.locals or receiver not in module_level:
                attributes.append((0, receiver, attr))
                self.collector._line(node, attributes, str(len(attributes) - 1))

    def _eager_argument(self, value: cst.BaseExpression, local: frozenset[str]) -> None:
        # `A.b.of_type(C)`, `A.b.and_(...)` load `A.b`
        while (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in ("of_type", "and_")
        ):
            value = value.func.value
        text = _string(value)
        if text is not None:  # legacy string paths and the "*" wildcard
            self.function.eager.append(("", text.rsplit(".", 1)[-1]))
            return
        path = dotted(value)
        if path is None or "." not in path:
            return
        owner, _, attr = path.rpartition(".")
        self.function.eager.append((self.collector.resolve(owner, local) or "", attr))


_PARTIAL = "functools.partial"


def _args(args: list[cst.Arg] | tuple[cst.Arg, ...]) -> list[facts.Arg]:
    """Call arguments as facts: positions count the positional arguments only; stars are skipped."""
    found = []
    position = 0
    for arg in args:
        if arg.star:
            continue
        name = arg.value.value if isinstance(arg.value, cst.Name) else None
        ref = dotted(arg.value)
        if arg.keyword is not None:
            found.append(facts.Arg(None, arg.keyword.value, name, ref))
        else:
            found.append(facts.Arg(position, None, name, ref))
            position += 1
    return found


_HANDLERS = {
    cst.Name: BodyScanner._on_name,
    cst.Attribute: BodyScanner._on_attribute,
    cst.Arg: BodyScanner._on_arg,
    cst.Await: BodyScanner._on_await,
    cst.For: BodyScanner._on_for,
    cst.With: BodyScanner._on_with,
    cst.CompFor: BodyScanner._on_comp_for,
    cst.GeneratorExp: BodyScanner._on_generator,
    cst.Yield: BodyScanner._on_yield,
    cst.Return: BodyScanner._on_return,
    cst.Assign: BodyScanner._on_assign,
    cst.AnnAssign: BodyScanner._on_ann_assign,
    cst.Expr: BodyScanner._on_expr,
    cst.Call: BodyScanner._on_call,
}

_SKIPPED = frozenset({
    cst.SimpleWhitespace,
    cst.ParenthesizedWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
    cst.SimpleString,
    cst.Integer,
    cst.Float,
    cst.LeftParen,
    cst.RightParen,
    cst.Comma,
    cst.Dot,
})


def collect(path: str, module: cst.Module, all_lines: bool = False, name: str | None = None) -> facts.Module:
    return Collector(path, module, all_lines, name).collect()
