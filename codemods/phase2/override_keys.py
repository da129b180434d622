"""Which dependency a `dependency_overrides` write overrides, where its key is not written at the
write: a helper's parameter (`def install_overrides(app, mapping): for dep, repl in
mapping.items(): app.dependency_overrides[dep] = repl`, called `install_overrides(app,
{get_db: override})` in a fixture), a loop over a dict display (`for dep, f in OVERRIDES.items()`)
or a tuple of dependencies, a mapping handed whole (`.update(mapping)`, `|= mapping`,
`= mapping`). Each key is read where it is written, at each call of the helper (helpers calling
helpers included), and stands there: the override is the fixture's that calls the helper.

A key phase two cannot read (a call's result, a name bound to something other than a display, a
helper no call of which is seen) is unread: `Unread` says where and why, so that phase two says
so rather than move routes off a dependency the tests may override that way.

Shapes: `sites(project, texts, modules)` yields `Key(module, text, expr, node, owner, scope)`,
the key expression as written at `node` (the write, or the call of the helper), and `Unread(path,
line, written, scope, why)`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import dotted
from async_migrate.codemods.phase2 import stack_extras as extras
from async_migrate.codemods.project import Project

# Helpers handing the mapping on to helpers: deeper than this is unread.
_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Key:
    module: facts.Module
    text: str
    expr: ast.expr  # the dependency, as written at `node`
    node: ast.AST  # the write, or the call of the helper making it
    owner: str | None  # the application whose mapping it is, as written at `node`
    scope: str  # the function around `node` by qualified name; "" at module level


@dataclass(frozen=True, slots=True)
class Unread:
    path: str
    line: int
    written: str
    scope: str
    why: str


@dataclass(slots=True)
class _Context:
    module: facts.Module
    text: str
    tree: ast.Module
    scopes: dict[int, str]
    imported: dict[str, dict[str, str]]
    displays: dict[str, list[ast.Dict]]
    aliases: frozenset[str]
    parents: dict[int, ast.AST]
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]
    copies: frozenset[str]  # names bound to a copy of a `dependency_overrides` mapping


def sites(project: Project, texts: extras.Texts, modules: Iterable[facts.Module]) -> Iterator[Key | Unread]:
    """Every key written into a `dependency_overrides` mapping in `modules`, read through helpers
    and loops; `Unread` where it cannot be read."""
    reader = _Reader(project, texts, list(modules))
    for module in reader.modules:
        context = reader.context(module, "dependency_overrides")
        if context is None:
            continue
        for node in ast.walk(context.tree):
            keys = extras.override_keys(node, context.displays, context.aliases)
            whole = _whole_mappings(node, context.aliases)
            if not keys and not whole:
                continue
            owner = extras.override_owner(node)
            for key in keys:
                yield from reader.key(context, key, node, owner, 0)
            for mapping in whole:
                if not extras.dict_keys(mapping, context.displays):
                    yield from reader.mapping(context, mapping, node, owner, 0)


class _Reader:
    def __init__(self, project: Project, texts: extras.Texts, modules: list[facts.Module]) -> None:
        self.project, self.texts, self.modules = project, texts, modules
        self._contexts: dict[str, _Context | None] = {}

    def context(self, module: facts.Module, needle: str) -> _Context | None:
        if module.path not in self._contexts or self._contexts[module.path] is None:
            found = self.texts.get(module.path, needle)
            if found is None:
                return None
            text, tree = found
            scopes = extras.function_scopes(tree)
            parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
            self._contexts[module.path] = _Context(
                module, text, tree, scopes, extras.local_imports(module, tree, scopes), extras.dict_displays(tree),
                extras.override_aliases(tree), parents, _functions(tree), _copies(tree),
            )
        return self._contexts[module.path]

    def key(
        self, context: _Context, key: ast.expr, node: ast.AST, owner: str | None, depth: int
    ) -> Iterator[Key | Unread]:
        """`key` as written at `node`: a dependency named there, or followed to where it is."""
        scope = context.scopes.get(id(node), "")
        name = dotted(key)
        if name is None:
            why = f"its key `{ast.unparse(key)}` is an expression phase two does not follow"
            yield self._unread(context, node, why)
            return
        head = name.partition(".")[0]
        if extras.imported_in(context.imported, scope, name) is not None:
            yield Key(context.module, context.text, key, node, owner, scope)
            return
        loop = _loop_binding(context, node, head)
        if loop is not None:
            yield from self._looped(context, loop, head, name, node, owner, depth)
            return
        function = context.functions.get(scope)
        if function is not None and head in _locals(function):
            if name == head and head in extras.function_params(function):
                yield from self._calls(context, scope, head, node, owner, depth, as_key=True)
            else:
                why = f"its key `{name}` is a name local to `{scope}`, bound to what phase two does not follow"
                yield self._unread(context, node, why)
            return
        yield Key(context.module, context.text, key, node, owner, scope)

    def mapping(
        self, context: _Context, mapping: ast.expr, node: ast.AST, owner: str | None, depth: int
    ) -> Iterator[Key | Unread]:
        """The keys of `mapping`, a dict handed whole to the overrides at `node`."""
        keys = extras.dict_keys(mapping, context.displays)
        if keys:
            for key in keys:
                yield from self.key(context, key, node, owner, depth)
            return
        if isinstance(mapping, ast.Dict) and not mapping.keys:
            return  # `app.dependency_overrides = {}`: cleared
        scope = context.scopes.get(id(node), "")
        function = context.functions.get(scope)
        if isinstance(mapping, ast.Name) and function is not None and mapping.id in extras.function_params(function):
            yield from self._calls(context, scope, mapping.id, node, owner, depth, as_key=False)
            return
        if isinstance(mapping, ast.Name) and (mapping.id in context.aliases or mapping.id in context.copies):
            return  # the mapping itself (what is written into it is read there), or a copy put back
        if any(isinstance(n, ast.Attribute) and n.attr == "dependency_overrides" for n in ast.walk(mapping)):
            return  # `dict(app.dependency_overrides)`, a copy of what is there
        yield self._unread(context, node, f"the mapping `{ast.unparse(mapping)}` is no dict display phase two reads")

    def _looped(
        self, context: _Context, loop: ast.For | ast.AsyncFor, head: str, name: str, node: ast.AST,
        owner: str | None, depth: int,
    ) -> Iterator[Key | Unread]:
        """`for dep, f in mapping.items()`, `for dep in mapping` / `.keys()`, `for dep in (a, b)`."""
        target, iterated = loop.target, loop.iter
        source: ast.expr | None = None
        if name == head:
            if isinstance(target, ast.Name) and isinstance(iterated, (ast.Tuple, ast.List)):
                for element in iterated.elts:
                    if isinstance(element, ast.Starred):
                        why = f"its key `{name}` runs over `{ast.unparse(iterated)}`, which unpacks what phase two does not follow"
                        yield self._unread(context, node, why)
                        return
                for element in iterated.elts:
                    yield from self.key(context, element, node, owner, depth)
                return
            method, receiver = extras.bare_method_call(iterated) or ("", iterated)
            if isinstance(target, ast.Name) and method in ("", "keys"):
                source = receiver
            elif (
                method == "items" and isinstance(target, ast.Tuple) and len(target.elts) == 2
                and isinstance(target.elts[0], ast.Name) and target.elts[0].id == head
            ):
                source = receiver
        if source is None or isinstance(source, ast.Call):
            loop_text = f"for {ast.unparse(target)} in {ast.unparse(iterated)}"
            yield self._unread(context, node, f"its key `{name}` is bound by `{loop_text}`, which phase two does not follow")
            return
        yield from self.mapping(context, source, node, owner, depth)

    def _calls(
        self, context: _Context, scope: str, param: str, node: ast.AST, owner: str | None, depth: int, *, as_key: bool,
    ) -> Iterator[Key | Unread]:
        """What each call of the helper `scope` hands its parameter `param`, read at that call."""
        function = context.functions[scope]
        if depth >= _DEPTH:
            why = f"`{function.name}` is handed its `{param}` through more helpers than phase two follows"
            yield self._unread(context, node, why)
            return
        position, default = extras.function_params(function)[param]
        owner_head = owner.partition(".")[0] if owner else None
        owner_param = extras.function_params(function).get(owner_head) if owner_head else None
        nested = "." in scope and scope.rpartition(".")[0] in context.functions
        wanted = f"{context.module.name}.{scope}"
        seen = 0
        for module in self.modules:
            caller = self.context(module, function.name)
            if caller is None or (nested and caller is not context):
                continue
            for call in ast.walk(caller.tree):
                if not isinstance(call, ast.Call) or not self._calls_function(
                    caller, call, wanted, nested, function.name, scope
                ):
                    continue
                seen += 1
                given = _argument(call, param, position)
                splat = any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)
                if given is None and splat:
                    why = f"it hands `{function.name}`'s `{param}` what phase two cannot name"
                    yield self._unread(caller, call, why)
                    continue
                if given is None:
                    if default is None:
                        continue  # not passed, no default: a TypeError, no override
                    given, at = ast.parse(default, mode="eval").body, context
                else:
                    at = caller
                called_owner = owner
                if owner and owner_head is not None and owner_param is not None:
                    handed = _argument(call, owner_head, owner_param[0])
                    handed_name = dotted(handed) if handed is not None else None
                    rest = owner[len(owner_head):]
                    called_owner = f"{handed_name}{rest}" if handed_name else None
                if as_key:
                    yield from self.key(at, given, call, called_owner, depth + 1)
                else:
                    yield from self.mapping(at, given, call, called_owner, depth + 1)
        if not seen:
            why = f"no call of `{function.name}` is seen, so what its `{param}` holds is unread"
            yield self._unread(context, node, why)

    def _calls_function(
        self, caller: _Context, call: ast.Call, wanted: str, nested: bool, name: str, scope: str
    ) -> bool:
        callee = dotted(call.func)
        if callee is None:
            return False
        if nested:
            around = caller.scopes.get(id(call), "")
            parent = scope.rpartition(".")[0]
            return callee == name and (around == parent or around.startswith(parent + "."))
        where = caller.scopes.get(id(call), "")
        ref = extras.imported_in(caller.imported, where, callee) or extras.absolute(caller.module, callee)
        canonical = self.project.canonical
        return ref == wanted or (canonical(ref) or ref) == (canonical(wanted) or wanted)

    def _unread(self, context: _Context, node: ast.AST, why: str) -> Unread:
        return Unread(
            context.module.path, getattr(node, "lineno", 0), extras.first_line(context.text, node),
            context.scopes.get(id(node), ""), why,
        )


def _argument(call: ast.Call, name: str, position: int | None) -> ast.expr | None:
    given = next((k.value for k in call.keywords if k.arg == name), None)
    if given is None and position is not None and position < len(call.args):
        argument = call.args[position]
        if any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
            return None
        given = argument
    return given


def _whole_mappings(node: ast.AST, aliases: frozenset[str]) -> list[ast.expr]:
    """The mappings `node` hands a `dependency_overrides` mapping whole: assigned (`= m`,
    `|= m`), merged (`.update(m)`), the attribute replaced (`setattr(app, "dependency_overrides",
    m)`, `patch.object`), `patch.dict(mapping, m)`."""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        whole = not isinstance(node, ast.AugAssign) or isinstance(node.op, ast.BitOr)
        if whole and node.value is not None and any(
            isinstance(t, (ast.Attribute, ast.Name)) and extras.is_overrides(t, aliases) for t in targets
        ):
            return [node.value]
        return []
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return []
    attr, args = node.func.attr, node.args
    if extras.is_overrides(node.func.value, aliases):
        return list(args) if attr == "update" else []
    if len(args) >= 3 and isinstance(args[1], ast.Constant) and args[1].value == "dependency_overrides" and (
        attr == "setattr" or attr == "object"
    ):
        return [args[2]]
    if attr == "dict" and args and extras.is_overrides(args[0], aliases):
        return [*args[1:2], *(k.value for k in node.keywords if k.arg == "values")]
    return []


def _loop_binding(context: _Context, node: ast.AST, name: str) -> ast.For | ast.AsyncFor | None:
    """The innermost `for` around `node` (in its function) whose target binds `name`."""
    current: ast.AST | None = node
    while current is not None:
        parent = context.parents.get(id(current))
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return None
        if isinstance(parent, (ast.For, ast.AsyncFor)) and current is not parent.iter and (
            current is not parent.target
        ) and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(parent.target)):
            return parent
        current = parent
    return None


def _locals(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
    return names | {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Qualified name -> def, named as `stack_extras.function_scopes` names scopes."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if not isinstance(child, ast.ClassDef):
                    found[f"{prefix}{child.name}"] = child
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _copies(tree: ast.Module) -> frozenset[str]:
    """Names bound to an expression reading a `dependency_overrides` mapping (`saved =
    app.dependency_overrides.copy()`): put back, they hold what was there."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(n, ast.Attribute) and n.attr == "dependency_overrides" for n in ast.walk(node.value)
        ):
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return frozenset(found)
