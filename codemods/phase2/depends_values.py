"""Module-level `Depends(...)` values (`CurrentUser = Depends(get_current_user)`): where each is used.

FastAPI reads such a value where it is written: as a parameter's default, or as the metadata of a
parameter's `Annotated[T, CurrentUser]`. There it is that function's dependency, which
`Project.param_dependency` reads like an inline `Depends(...)`. Anywhere else (handed to a
call, put in a list given as `dependencies=`, kept in a class, rebound) the tool cannot tell
which routes it ends up on, and the value stays a dependency attached where the tool cannot
tell (AM219, `dependencies.unattributed_session_dependencies`), naming those uses.

A marker a route's body hands to a call (`await verify(security_scopes=Security(verify, ...))`) is
a plain value there, resolved by no FastAPI: it concerns that route alone (`handed_in_routes`), not
every route the dependency could reach.

The uses are read from the syntax trees of the modules that may name the value, through the
analysis's own reader (`closure._Trees`), so a warm run depends on what was read: until a run
records that reader (`record`), every value counts as used where the tool cannot follow it.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, cast

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import dotted, field_children
from async_migrate.codemods.project import ROUTE_KINDS, FunctionId, Project
from async_migrate.codemods.vocabulary.fastapi import DEPENDS
from async_migrate.codemods.vocabulary.python import ANNOTATED


class Trees(Protocol):
    def may_name(self, path: str, word: str) -> bool: ...

    def __call__(self, path: str) -> ast.Module | None: ...


_KEY = "phase2.depends_value_uses"
# The markers' own names, however imported: a call spelled so is looked at in the tree.
_MARKER_NAMES = frozenset(ref.rpartition(".")[2] for ref in DEPENDS)


def record(project: Project, trees: Trees) -> None:
    """Read uses through `trees` from now on; what was worked out without it is worked out again."""
    kept = cast("_Uses | None", project.derived.get(_KEY))
    if kept is not None and (kept.trees is trees or _sources(kept.trees) == _sources(trees)):
        # the same files read through the same reader (scan previewing one subsystem after
        # another): what was read is recorded there already, and worked out once for the run
        return
    # A new reader (another subsystem's run on the same index): the uses are read through it, so
    # that run records the files they were read from.
    project.derived[_KEY] = _Uses(project, trees)
    project.derived.pop("phase2.unattributed_dependencies", None)


def _sources(trees: Trees) -> tuple[object, ...]:
    """What a reader reads through (`closure._Trees`: the expiry analysis's trees, the text
    reader); a reader of another kind is only ever itself."""
    parts = tuple(getattr(trees, name, None) for name in ("cached", "read", "text"))
    return parts if any(part is not None for part in parts) else (trees,)


def handed_in_routes(project: Project, module: facts.Module) -> list[tuple[str, FunctionId, int, str]] | None:
    """The `Depends(f)` / `Security(f)` markers `module` hands to a call in the body of a route
    (`handed_markers`): (f's canonical reference, the route, its line, the marker as reasons show it). A
    route's body runs per request, after FastAPI resolved its dependencies: a marker there is a
    plain value, which reaches no other route. None when the trees have not been read (no `record`)."""
    uses = cast("_Uses | None", project.derived.get(_KEY))
    return None if uses is None else uses.handed(module)


def unfollowed(project: Project, module: facts.Module, name: str) -> list[str] | None:
    """The uses of `module.name` (a `Depends(...)` value) no parameter of a function the index reads
    makes: each as "`text` (path:line)". None when the uses have not been read (no `record` yet)."""
    uses = cast("_Uses | None", project.derived.get(_KEY))
    return None if uses is None else uses.unfollowed(module, name)


class _Uses:
    def __init__(self, project: Project, trees: Trees) -> None:
        self.project = project
        self.trees = trees
        self.found: dict[str, list[str]] = {}
        self.handed_found: dict[str, list[tuple[str, FunctionId, int, str]]] = {}
        self._routes: dict[int, set[FunctionId]] | None = None  # id of a module -> its routes

    def handed(self, module: facts.Module) -> list[tuple[str, FunctionId, int, str]]:
        kept = self.handed_found.get(module.path)
        if kept is None:
            kept = self.handed_found[module.path] = self._handed(module)
        return kept

    def _handed(self, module: facts.Module) -> list[tuple[str, FunctionId, int, str]]:
        if not module.depends:
            return []
        if self._routes is None:
            # asked of every module: the project's handlers are gone through once
            self._routes = {}
            for handler in self.project.handlers:
                if handler.kind in ROUTE_KINDS:
                    self._routes.setdefault(id(handler.module), set()).add(handler.id)
        routes = self._routes.get(id(module), set())
        # The module is parsed again only where a route's facts call a marker: they keep every call
        # of its body (of its nested scopes too), each a marker when `_markers` would take it for one.
        if not any(self._calls_marker(module, fid) for fid in routes):
            return []
        tree = self.trees(module.path)
        if tree is None:
            return []
        found: list[tuple[str, FunctionId, int, str]] = []
        for node in _definitions(tree):
            lines = {node.lineno, *(d.lineno for d in node.decorator_list)}
            function = next((f for f in module.functions if f.name == node.name and f.line in lines), None)
            if function is None or (module.name, function.key) not in routes:
                continue
            for ref, line, text in _markers(self.project, module, _own_calls(node)):
                found.append((ref, (module.name, function.key), line, text))
        return found

    def _calls_marker(self, module: facts.Module, fid: FunctionId) -> bool:
        for call in self.project.functions[fid][1].calls:
            ref = call.callee if call.callee is not None else call.func
            if ref is None:
                continue
            if ref.rpartition(".")[2] in _MARKER_NAMES:
                return True
            # as `_markers` resolves the called expression: from the module's own names
            written = ref if call.callee is not None else f"{module.name}.{ref.lstrip('$')}"
            if self.project.canonical(written) in DEPENDS:
                return True
        return False

    def unfollowed(self, home: facts.Module, name: str) -> list[str]:
        ref = f"{home.name}.{name}"
        kept = self.found.get(ref)
        if kept is None:
            kept = self.found[ref] = self._read(home, name)
        return kept

    def _read(self, home: facts.Module, name: str) -> list[str]:
        value = home.values[name]
        found: list[str] = []
        for module in self.project.modules.values():
            if module is not home and not self.trees.may_name(module.path, name):
                continue
            tree = self.trees(module.path)
            if tree is None:
                found.append(f"{module.path} (not read)")
                continue
            found.extend(self._module_uses(module, tree, lambda ref: self._is(ref, value)))
        return found

    def _is(self, ref: str, value: facts.Value) -> bool:
        target = self.project.resolve(ref)
        return target is not None and target.kind == "value" and target.value is value

    def _module_uses(self, module: facts.Module, tree: ast.Module, names_value: Callable[[str], bool]) -> list[str]:
        parents: dict[int, ast.AST] = {}
        uses: list[ast.expr] = []
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                written: str | None = node.id
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                written = dotted(node)
            else:
                continue
            if written is not None and names_value(f"{module.name}.{written}"):
                uses.append(node)
        found = []
        for use in uses:
            if not self._followed(module, use, parents):
                # the whole expression it is written in (`register(CHECKS + [X])`), up to its statement
                shown: ast.AST = use
                while isinstance(parents.get(id(shown)), ast.expr):
                    shown = parents[id(shown)]
                text = ast.unparse(shown)
                text = text if len(text) <= 80 else text[:77] + "..."
                found.append(f"`{text}` ({module.path}:{use.lineno})")
        return found

    def _followed(self, module: facts.Module, use: ast.expr, parents: dict[int, ast.AST]) -> bool:
        """A parameter's default, or metadata of its `Annotated[...]` annotation, of a function the
        index reads, whose parameter `Project.param_dependency` attributes to the value's dependency."""
        node: ast.AST = use
        parent = parents.get(id(node))
        if self._router_listed(module, use, parents):
            return True
        if isinstance(parent, ast.Tuple):  # `Annotated[T, X]`: X after the type
            subscript = parents.get(id(parent))
            if not (
                isinstance(subscript, ast.Subscript) and subscript.slice is parent
                and parent.elts.index(use) > 0
                and isinstance(subscript.value, (ast.Name, ast.Attribute))
                and self.project.canonical(_resolved(module, subscript.value)) in ANNOTATED
            ):
                return False
            node, parent = subscript, parents.get(id(subscript))
            if isinstance(parent, ast.arg) and parent.annotation is node:
                arg = parent
                parent = parents.get(id(parents.get(id(arg))))
            else:
                return False
        elif isinstance(parent, ast.arguments):
            defaults = dict(_defaults(parent))
            arg_found = defaults.get(id(use))
            if arg_found is None:
                return False
            arg = arg_found
            parent = parents.get(id(parent))
        else:
            return False
        if not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False  # a lambda's default: no dependency FastAPI reads
        function = next(
            (f for f in module.functions if f.name == parent.name and f.line == parent.lineno), None
        )
        params = [p for p in function.params if p.name == arg.arg] if function is not None else []
        target = self.project.resolve(_resolved(module, use))
        wanted = target.value.ref if target is not None and target.value is not None else None
        return wanted is not None and any(self.project.param_dependency(p) == wanted for p in params)


    def _router_listed(self, module: facts.Module, use: ast.expr, parents: dict[int, ast.AST]) -> bool:
        """An item of the `dependencies=[...]` list of a module-level `router = APIRouter(...)`:
        FastAPI runs it for that router's routes, which `dependencies.router_dependency_refs`
        reads it for, as it does a `Depends(...)` written there."""
        listed = parents.get(id(use))
        keyword = parents.get(id(listed)) if isinstance(listed, (ast.List, ast.Tuple)) else None
        call = parents.get(id(keyword)) if isinstance(keyword, ast.keyword) and keyword.arg == "dependencies" else None
        assigned = parents.get(id(call)) if isinstance(call, ast.Call) else None
        if not (
            isinstance(assigned, ast.Assign) and isinstance(parents.get(id(assigned)), ast.Module)
            and len(assigned.targets) == 1 and isinstance(assigned.targets[0], ast.Name)
        ):
            return False
        value = module.values.get(assigned.targets[0].id)
        callee = self.project.canonical(value.ref) or "" if value is not None and value.kind == "call" else ""
        return callee.endswith("APIRouter") or callee in self.project.config.router_types


def _defaults(args: ast.arguments) -> list[tuple[int, ast.arg]]:
    """(id of the default, its parameter) for every parameter with a default."""
    positional = [*args.posonlyargs, *args.args]
    found = [(id(d), a) for a, d in zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True)]
    found += [(id(d), a) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
    return found


def _resolved(module: facts.Module, node: ast.expr) -> str | None:
    written = dotted(node)
    return None if written is None else f"{module.name}.{written}"


def handed_markers(project: Project, module: facts.Module, tree: ast.Module, dependency: str) -> list[str]:
    """The `Depends(f)` / `Security(f)` markers of the dependency `dependency` (a canonical
    reference) that `module` hands to another call as an argument, as fides' routes do calling
    the dependency directly (`await verify(security_scopes=Security(verify, scopes=[...]), ...)`):
    each as "`marker` (path:line) handed to `callee(...)`". FastAPI resolves no marker there, but
    what the callee does with it is not followed, so it stays a dependency the tool cannot place."""
    calls = (node for node in ast.walk(tree) if isinstance(node, ast.Call))
    found = [(line, text) for ref, line, text in _markers(project, module, calls) if ref == dependency]
    return [text for _, text in sorted(found)]


def _markers(project: Project, module: facts.Module, calls: Iterable[ast.Call]) -> list[tuple[str, int, str]]:
    """The markers handed as arguments of `calls`: (the dependency's canonical reference, line,
    "`marker` (path:line) handed to `callee(...)`")."""
    found: list[tuple[str, int, str]] = []
    for node in calls:
        handed = [*node.args, *(k.value for k in node.keywords)]
        for arg in handed:
            if not (isinstance(arg, ast.Call) and arg.args and project.canonical(_resolved(module, arg.func)) in DEPENDS):
                continue
            named = _resolved(module, arg.args[0])
            if named is None:
                continue
            text = ast.unparse(arg)
            text = text if len(text) <= 80 else text[:77] + "..."
            found.append((
                project.canonical(named) or named, arg.lineno,
                f"`{text}` ({module.path}:{arg.lineno}) handed to `{ast.unparse(node.func)}(...)`",
            ))
    return found


# The nodes holding statements, and so every definition: a walk for definitions skips the rest.
_HOLDERS = (ast.stmt, ast.excepthandler, ast.match_case)


def _definitions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The function definitions of a module, in `ast.walk`'s order (breadth first): a statement's
    parent is a statement, a clause or the module, so leaving out the expressions keeps each
    definition at its depth and in its place among them."""
    pending: deque[ast.AST] = deque([tree])
    while pending:
        node = pending.popleft()
        if type(node) is ast.FunctionDef or type(node) is ast.AsyncFunctionDef:
            yield node
        pending.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, _HOLDERS))


def _own_calls(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.Call]:
    """The calls of a function's own body (its decorators, defaults and nested scopes left out)."""
    todo: list[ast.AST] = list(node.body)
    while todo:
        current = todo.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(current, ast.Call):
            yield current
        todo.extend(field_children(current))
