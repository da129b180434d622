"""The tests' patches of helpers phase two twins or makes `async def`.

A test standing in for a helper the routes call (`monkeypatch.setattr(user_service,
"get_by_email", lambda db, email: admin)`, `patch("app.services.users.get_user", new=...)`,
`patch.object(users, "get_user", fake)`, `mocker.patch(...)`) patches a module attribute the
routes look up when they run. After phase two:

- a helper that keeps its synchronous original for other callers (a script, a test) is reached by
  the migrated routes through its async twin (`get_by_email_async`): the patch no longer reaches
  them, and they run the real twin under that test (a test asserting 409 on a conflict it staged
  through the patch now gets 201);
- a helper that becomes `async def` in place is awaited by the migrated routes, so a plain
  replacement (`lambda db, email: admin`, a `def`) raises `TypeError` when awaited. `patch()` without
  a replacement makes an `AsyncMock` for an `async def` by itself, and an `AsyncMock`, an
  `async def` or `new_callable=AsyncMock` is awaitable: those are left alone.

Each such patch is a follow-up naming the test line, the helper and what to patch instead.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import stack_extras
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.sources import is_test_path

_NEEDLES = ("setattr", "patch")


def notes(
    project: Project, closure, read: Callable[[str], str] | None, tests: Sequence[facts.Module] = (),
    unread: Iterable[str] = (),
) -> list[str]:
    """One follow-up per patch, in the project's tests (`tests`: those above PATH; `unread`: the
    paths of test modules under PATH the analysis skipped as naming nothing it follows), of a
    helper the migrated routes now reach through its async twin, or await in place with a
    replacement that is not awaitable."""
    moved = _moved(project, closure)
    if not moved:
        return []
    texts = stack_extras.Texts(read)
    found: list[str] = []
    modules = [m for m in project.modules.values() if is_test_path(m.path)] + [
        m for m in tests if m.name not in project.modules
    ]
    modules += _collected(texts, [p for p in unread if is_test_path(p)], {m.path for m in modules})
    for module in sorted(modules, key=lambda m: m.path):
        got = next((g for n in _NEEDLES if (g := texts.get(module.path, n)) is not None), None)
        if got is None:
            continue
        text, tree = got
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            patched = _patched(node)
            if patched is None:
                continue
            target, replacement = patched
            ref = _reference(project, module, target)
            if ref is None or ref not in moved:
                continue
            fid, twin = moved[ref]
            written = ast.get_source_segment(text, node) or ref
            written = written if len(written) <= 100 else written[:97] + "..."
            shown = _routes(project, closure, fid)
            if twin is not None:
                found.append(
                    f"{module.path}:{node.lineno}: `{written}` stands in for `{ref}`; the migrated routes ({shown}) "
                    f"call its async twin `{twin}` instead, so a request to them under this test runs the real `{twin}`: "
                    f"patch `{twin}` as well, with an awaitable stand-in (an `async def`, or `AsyncMock`)"
                )
            elif replacement is not None and not _awaitable(project, module, replacement):
                found.append(
                    f"{module.path}:{node.lineno}: `{written}` stands in for `{ref}`, which phase two makes "
                    f"`async def`; the migrated routes ({shown}) await what stands in its place, and awaiting "
                    "this one raises TypeError: make the stand-in an `async def`, or an `AsyncMock`"
                )
    return list(dict.fromkeys(found))


def _collected(texts: stack_extras.Texts, paths: list[str], known: set[str]) -> list[facts.Module]:
    """Facts of the test modules the analysis did not read that patch something."""
    from async_migrate.codemods import astcollect

    found = []
    for path in sorted(set(paths) - known):
        text = next((t for n in _NEEDLES if (t := texts.text(path)) is not None and n in t), None)
        if text is None:
            continue
        name = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        try:
            read_as, tree = astcollect.parse_read(text, path)
            found.append(astcollect.collect(path, read_as, name, tree))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return found


def _moved(project: Project, closure) -> dict[str, tuple[FunctionId, str | None]]:
    """Canonical reference of each helper the migrated routes reach -> (its id, its twin's name,
    or None when it becomes `async def` in place)."""
    found: dict[str, tuple[FunctionId, str | None]] = {}
    for fid, decision in closure.helpers.items():
        if decision.action not in ("migrate", "twin") or (decision.action == "twin" and not decision.twin):
            continue
        module, function = project.functions[fid]
        ref = f"{module.name}.{function.qualname}"
        found[project.canonical(ref) or ref] = (fid, decision.twin if decision.action == "twin" else None)
    return found


def _routes(project: Project, closure, fid: FunctionId) -> str:
    names = sorted(
        project.functions[route][1].qualname
        for route in closure.migrated_routes
        if fid in closure.reaches.get(route, ()) or fid in closure.calls.get(route, ())
    )
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "") or "the migrated routes"


def _patched(node: ast.Call) -> tuple[ast.expr | str, ast.expr | None] | None:
    """(what is patched: the object expression and attribute as `ast.Attribute`, or the dotted string;
    the replacement, None when the patch makes its own mock) of a patch call; None for another call.
    `new_callable=` other than an AsyncMock counts as a replacement that is not awaitable."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    args = node.args
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    if name == "setattr":
        if len(args) == 2 and _string(args[0]) and "." in _string(args[0]):
            return _string(args[0]), args[1]  # monkeypatch.setattr("pkg.mod.name", value)
        if len(args) >= 3 and _string(args[1]):
            return ast.Attribute(value=args[0], attr=_string(args[1]), ctx=ast.Load()), args[2]
        return None
    if name == "object" and isinstance(func, ast.Attribute) and _ends_with_patch(func.value):
        if len(args) >= 2 and _string(args[1]):
            return ast.Attribute(value=args[0], attr=_string(args[1]), ctx=ast.Load()), _replacement(args[2:], keywords)
        return None
    if name == "patch" and args and _string(args[0]) and "." in _string(args[0]):
        return _string(args[0]), _replacement(args[1:], keywords)
    return None


def _replacement(rest: list[ast.expr], keywords: dict[str, ast.expr]) -> ast.expr | None:
    if rest:
        return rest[0]
    if "new" in keywords:
        return keywords["new"]
    return keywords.get("new_callable")


def _ends_with_patch(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "patch") or (isinstance(node, ast.Name) and node.id == "patch")


def _string(node: ast.expr) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def _dotted(module: facts.Module, node: ast.expr) -> str | None:
    """The reference an expression names, through the test module's imports (`user_service` for
    `from app.services import users as user_service`)."""
    if isinstance(node, ast.Name):
        return module.imports.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(module, node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _reference(project: Project, module: facts.Module, target: ast.expr | str) -> str | None:
    ref = target if isinstance(target, str) else _dotted(module, target)
    if ref is None:
        return None
    resolved = project.resolve(ref)
    if resolved is not None and resolved.kind == "function" and resolved.module and resolved.function:
        ref = f"{resolved.module.name}.{resolved.function.qualname}"
    return project.canonical(ref) or ref


def _awaitable(project: Project, module: facts.Module, node: ast.expr) -> bool:
    """An `AsyncMock` (built, or named as `new_callable`), an `async def`, or what the analysis
    cannot tell (a fixture's value, a call of a project factory): only a visibly plain stand-in
    is reported."""
    if isinstance(node, ast.Lambda) or isinstance(node, ast.Constant):
        return False
    if isinstance(node, ast.Call):
        name = _last_name(node.func)
        return name != "MagicMock" and name != "Mock"
    if _last_name(node) in ("AsyncMock",):
        return True
    local = next((f for f in _functions(module, node) if isinstance(node, ast.Name)), None)
    if local is not None:
        return local.is_async
    ref = _dotted(module, node)
    resolved = project.resolve(ref) if ref else None
    if resolved is not None and resolved.kind == "function" and resolved.function is not None:
        return resolved.function.is_async
    return True


def _functions(module: facts.Module, node: ast.expr) -> Iterable[facts.Function]:
    """The test module's functions `node` may name: defined at its top or inside a test."""
    name = node.id if isinstance(node, ast.Name) else ""
    return (f for f in module.functions if f.qualname == name or f.qualname.endswith(f"<locals>.{name}"))


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None
