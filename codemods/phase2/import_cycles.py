"""Module-level imports the rewrite adds that close a cycle of module-level imports.

Phase two adds imports at the top of the modules it rewrites (the AsyncSession alias and the
async dependency where a hand-written stack keeps them, the async sessionmaker, twins, parallel
classes). One whose module imports, at any depth, the module receiving it closes a cycle, and
the whole application fails to start. An import inside the function needing it is no way out
for what a signature names (a `Depends()` default, an annotation FastAPI reads): those are
evaluated when the `def` runs. So the routes reaching such a function are blocked (`cycles`).
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from async_migrate.codemods.project import Project


@dataclass(frozen=True, slots=True)
class Imported:
    """One name (or module) a module-level import binds."""

    line: int
    ref: str  # absolute: `shop.routers.reports.AsyncSessionDep`, `shop.routers.reports` for `import`
    local: str  # the name bound (`*` for a star import)


@dataclass(frozen=True, slots=True)
class Cycle:
    """An import the rewrite adds to `module` from `target`, which imports `module` back."""

    module: str
    path: str
    target: str
    chain: tuple[str, ...]  # target, ..., module: the modules importing each other in turn
    imported: tuple[Imported, ...]  # what the added imports bring from `target`
    users: tuple[str, ...]  # qualnames of the functions of the rewritten module using it


def runtime_imports(name: str, is_package: bool, body: list[ast.stmt]) -> list[Imported]:
    """The imports a module runs when it is imported, with absolute references: those at module
    level, in class bodies and in the blocks of `if`/`try`/`with`, not those of `if TYPE_CHECKING:`
    or of function bodies."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    found: list[Imported] = []

    def base_of(node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module or ""
        depth = node.level - 1
        if depth > len(package):
            return None
        anchor = package[: len(package) - depth] if depth else package
        return ".".join([*anchor, node.module] if node.module else anchor)

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(Imported(node.lineno, alias.name, alias.asname or alias.name.split(".")[0]))
            elif isinstance(node, ast.ImportFrom):
                base = base_of(node)
                if base is None:
                    continue
                for alias in node.names:
                    if alias.name == "*":
                        found.append(Imported(node.lineno, base, "*"))
                    else:
                        ref = f"{base}.{alias.name}" if base else alias.name
                        found.append(Imported(node.lineno, ref, alias.asname or alias.name))
            elif isinstance(node, ast.If):
                if not _type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                visit(node.body)  # type: ignore[attr-defined]
                for handler in node.handlers:  # type: ignore[attr-defined]
                    visit(handler.body)
                visit(node.orelse)  # type: ignore[attr-defined]
                visit(node.finalbody)  # type: ignore[attr-defined]
            elif isinstance(node, (ast.With, ast.For, ast.While)):
                visit(node.body)
                if not isinstance(node, ast.With):
                    visit(node.orelse)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)  # a class body runs at import

    visit(body)
    return found


# The imports of the modules read from disk, by their text: each check reads them anew, and most
# are the same from one round (and run) to the next. Bounded, for long runs over many projects.
_READ: dict[tuple[str, bool, str], list[Imported] | None] = {}


def _read_imports(read: Callable[[str], str], name: str, path: str) -> list[Imported] | None:
    """The imports of the module at `path` as read now; None when it cannot be read or parsed."""
    try:
        text = read(path)
    except Exception:  # unreadable: what the collector read of it stands
        return None
    is_package = path.endswith("__init__.py")
    key = (name, is_package, text)
    if key not in _READ:
        if len(_READ) > 4096:
            _READ.clear()
        body = _parse(text)
        _READ[key] = None if body is None else runtime_imports(name, is_package, body)
    return _READ[key]


def _type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:`: never true when the module runs."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


class Graph:
    """The project's modules and the project modules each imports at import time."""

    def __init__(
        self,
        project: Project,
        bodies: dict[str, list[ast.stmt] | None],
        read: Callable[[str], str] | None,
    ) -> None:
        self.project = project
        self.bodies = bodies  # module name -> rewritten top-level statements
        self.read = read
        self._edges: dict[str, dict[str, list[Imported]]] = {}

    def imports_of(self, name: str) -> list[Imported]:
        module = self.project.modules.get(name)
        if module is None:
            return []
        found: list[Imported] | None = None
        body = self.bodies.get(name)
        if body is not None:
            found = runtime_imports(name, module.path.endswith("__init__.py"), body)
        elif name not in self.bodies and self.read is not None:
            found = _read_imports(self.read, name, module.path)
        if found is None:  # unreadable: what the collector read of it (TYPE_CHECKING blocks too)
            found = [
                Imported(0, ref, local)
                for local, value in module.imports.items()
                for ref in (value.split(",") if local == "*" else [value])
                if ref
            ]
        return found

    def edges(self, name: str) -> dict[str, list[Imported]]:
        """Project module -> the imports of `name` that run it."""
        found = self._edges.get(name)
        if found is None:
            found = self._edges[name] = targets(self.project, name, self.imports_of(name))
        return found

    def chain(self, start: str, goal: str) -> tuple[str, ...] | None:
        """The shortest chain of module-level imports from `start` to `goal` (both included)."""
        came: dict[str, str | None] = {start: None}
        todo = deque([start])
        while todo:
            name = todo.popleft()
            if name == goal:
                path = [name]
                while came[path[-1]] is not None:
                    path.append(came[path[-1]])  # type: ignore[arg-type]
                return tuple(reversed(path))
            for target in sorted(self.edges(name)):
                if target not in came:
                    came[target] = name
                    todo.append(target)
        return None


def targets(project: Project, name: str, imported: Iterable[Imported]) -> dict[str, list[Imported]]:
    """The project modules the imports run (each package on the way, and the module itself),
    except `name` and its own packages on the way to another module: those are imported before
    it runs. A name read from one of its own packages (`from shop import settings` in
    `shop.helpers`) still counts: the package may not have bound it yet."""
    own = {".".join(name.split(".")[:end]) for end in range(1, name.count(".") + 2)}
    found: dict[str, list[Imported]] = {}
    for item in imported:
        parts = item.ref.split(".")
        modules = [d for d in (".".join(parts[:end]) for end in range(1, len(parts) + 1)) if d in project.modules]
        for dotted in modules:
            if dotted == name or (dotted in own and dotted != modules[-1]):
                continue
            found.setdefault(dotted, []).append(item)
    return found


def _parse(text: str) -> list[ast.stmt] | None:
    from async_migrate.codemods import astcollect

    try:
        return astcollect.parse(text).body
    except SyntaxError:
        try:
            from async_migrate.codemods.astcollect.newer import readable

            return astcollect.parse(readable(text)).body
        except Exception:
            return None
    except Exception:
        return None


def cycles(
    after: Project,
    rewritten: Iterable[tuple[str, str, list[ast.stmt] | None, list[ast.stmt] | None]],
    read: Callable[[str], str] | None = None,
) -> list[Cycle]:
    """The imports the rewrite adds (module name, path, top-level statements before, after) that
    close a cycle in `after`, the project with the rewritten modules.

        # shop/routers/reports.py (a hand-written async stack beside its routes)
        from shop.helpers import paginate
        AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]

        # shop/helpers.py, where `current_customer`'s twin is written
        from shop.routers.reports import AsyncSessionDep   # added: reports imports helpers back

    Importing either module then stops on the other, partially initialized (`ImportError: cannot
    import name 'paginate' from partially initialized module`). The functions using what such an
    import brings (and through the module-level names bound from it, an `Annotated` alias naming
    the twin) are reported, and the self-check blocks the routes reaching them, naming the
    modules of the cycle. Only imports the rewrite adds count: a cycle the project had already is
    its own."""
    tops = list(rewritten)
    graph = Graph(after, {name: body for name, _, _, body in tops}, read)
    found: list[Cycle] = []
    for name, path, before, body in tops:
        if body is None or before is None or name not in after.modules:
            continue
        is_package = path.endswith("__init__.py")
        old = targets(after, name, runtime_imports(name, is_package, before or []))
        new = graph.edges(name)
        for target in sorted(set(new) - set(old)):
            chain = graph.chain(target, name)
            if chain is None:
                continue
            imported = tuple(new[target])
            found.append(Cycle(name, path, target, chain, imported, _users(body, {i.local for i in imported})))
    return found


def _users(body: list[ast.stmt], names: set[str]) -> tuple[str, ...]:
    """Qualnames of the functions (methods too) naming one of `names`, or a module-level name
    bound from them (`CurrentUser_async = Annotated[User, Depends(current_user_async)]`)."""
    if "*" in names:
        return ()  # what a star import brings is not read: every route of the module stops
    names = set(names)
    statements = [s for s in body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
    changed = True
    while changed:  # module-level names bound from them, at any depth
        changed = False
        for statement in statements:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                continue
            inner = statement.body if isinstance(statement, ast.ClassDef) else []
            methods = {id(n) for n in inner if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
            if _names(statement, skip=methods) & names:
                bound = _bound(statement) - names
                if bound:
                    names |= bound
                    changed = True
    found: list[str] = []
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and _names(statement) & names:
            found.append(statement.name)
        elif isinstance(statement, ast.ClassDef):
            for node in statement.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    _names(node) & names or statement.name in names
                ):
                    found.append(f"{statement.name}.{node.name}")
    return tuple(found)


def _names(node: ast.AST, skip: set[int] = frozenset()) -> set[str]:  # type: ignore[assignment]
    found: set[str] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if id(current) in skip:
            continue
        if isinstance(current, ast.Name):
            found.add(current.id)
        todo.extend(ast.iter_child_nodes(current))
    return found


def _bound(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.ClassDef):
        return {statement.name}
    targets_: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets_ = list(statement.targets)
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets_ = [statement.target]
    found: set[str] = set()
    for target in targets_:
        found |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return found


def describe(cycle: Cycle) -> str:
    """What the cycle is, for the self-check's reason."""
    names = ", ".join(dict.fromkeys(f"`{i.local}`" for i in cycle.imported))
    lines = sorted({i.line for i in cycle.imported if i.line})
    where = f" (line {', '.join(map(str, lines))} of the rewritten module)" if lines else ""
    ring = " -> ".join((cycle.module, *cycle.chain))
    return (
        f"the rewrite makes {cycle.path} import {names} from {cycle.target}{where}, and {cycle.target} imports "
        f"{cycle.module} back at import time ({ring}): an import cycle, so importing either module would fail "
        "on the other, partially initialized (ImportError), and a signature's Depends() and annotations need "
        "it when the def runs: move what it imports to a module importing none of "
        f"{', '.join(sorted(set(cycle.chain)))} (an async dependency and its alias beside the synchronous "
        "ones rather than in a router), or break the chain"
    )
