"""Dependency factories whose returned `async def` phase one makes `def`: which factories'
return annotations phase one retypes (`phase1/factory_annotations.py` writes it), and the
reason (AM167) each converted function gets, saying so or why the annotation is left to change
by hand: a type alias (of this module, or imported from another project module: unverified
where the analysis cannot read it), a string, another union, a returned function staying
`async def`.

A factory is retyped only where each of its returns gives one nested function of that name,
defined without decorators, bound by nothing else, and every definition of it becomes `def`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from async_migrate.codemods.rules.am167_factory_annotation import RULE

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.outcome import Outcome
    from async_migrate.codemods.project import Project

_TYPING = ("typing", "typing_extensions", "collections", "collections.abc")


def factory_retypes(
    module: facts.Module, convert: set[str], outcomes: dict[str, Outcome],
    imported: Callable[[str], str | None] = lambda _ref: "",
) -> dict[str, dict[str, str]]:
    """Factory key -> the module's imports of typing names, for each factory to retype; each
    converted function such a factory returns gets its AM167 reason in `outcomes` (key -> outcome).
    `imported`: the form of the alias an imported annotation names (`imported_alias`)."""
    by_qualname: dict[str, list[facts.Function]] = {}
    for function in module.functions:
        by_qualname.setdefault(function.qualname, []).append(function)
    found: dict[str, dict[str, str]] = {}
    for factory in module.functions:
        if not factory.coroutine_return or not factory.returned_terms:
            continue
        kind, _, detail = factory.coroutine_return.partition(":")
        form = imported(detail) if kind == "imported" else None
        if kind == "imported" and form == "":
            continue  # a library's type, a class: no coroutine function
        names = {text.rpartition(".")[2].lstrip("$") for text, _ in factory.returned_terms}
        nested = [f for name in sorted(names) for f in by_qualname.get(f"{factory.qualname}.<locals>.{name}", ())]
        made_def = [f for f in nested if f.key in convert and f.is_async]
        if not made_def:
            continue
        left = _left_async(factory, names, nested, convert)
        where = f"{factory.qualname} (line {factory.line})"
        if left is not None:
            text = (
                f"its factory {where} also returns {left}, so its return annotation is left as "
                "written; it says the factory returns a coroutine function: change it by hand"
            )
        elif factory.coroutine_return in ("callable", "optional"):
            found[factory.key] = {
                local: ref for local, ref in module.imports.items() if ref.partition(".")[0] in _TYPING
            }
            text = (
                f"its factory {where} was annotated as returning a coroutine function: phase one retypes it "
                "`Callable[..., R]` (from `Callable[..., Coroutine[..., R]]` or `Callable[..., Awaitable[R]]`)"
            )
        elif kind == "imported" and form is None:
            home, _, name = detail.rpartition(".")
            text = (
                f"its factory {where} is annotated as returning `{name}`, imported from `{home}`, which the "
                "analysis cannot read (unverified): if it says the factory returns a coroutine function, change "
                "it by hand to `Callable[..., R]`"
            )
        else:
            imports = f", imported from `{detail.rpartition('.')[0]}`" if kind == "imported" else ""
            how = f"through the type alias `{detail.rpartition('.')[2]}`{imports}" if kind in ("alias", "imported") else detail
            text = (
                f"its factory {where} is annotated as returning a coroutine function ({how}), which "
                "phase one leaves as written: change it by hand to `Callable[..., R]`"
            )
        for function in made_def:
            outcome = outcomes.get(function.key)
            if outcome is not None:
                outcome.reasons.append(RULE.reason(text))
    return found


def _left_async(
    factory: facts.Function, names: set[str], nested: list[facts.Function], convert: set[str]
) -> str | None:
    """What the factory may return that is not a function phase one makes `def`, or None."""
    if len(names) != 1 or any(not text for text, _ in factory.returned_terms):
        return "a value other than its nested function"
    (name,) = names
    bound = {b.name for b in factory.bindings} | {alias for alias, _ in factory.rebinds}
    if name in bound or any(f.decorators for f in nested):
        return f"what `{name}` is bound to besides its definition"
    kept = [f for f in nested if f.key not in convert and f.is_async]
    if kept:
        return f"{kept[0].qualname} (line {kept[0].line}), which stays `async def`"
    return None



def imported_alias(project: Project, ref: str, depth: int = 0) -> str | None:
    """The form (`Module.coroutine_aliases`) of the alias `ref` names in a project module, followed
    through re-exports: "" where it names none (a library's type, a class, a function), None where
    the analysis cannot read it (a project module not read, a star import, a name bound so the
    collector cannot say what it names)."""
    parts = ref.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = project.modules.get(".".join(parts[:split]))
        if module is None:
            continue
        rest = parts[split:]
        if len(rest) != 1:
            return ""  # an attribute of something the module binds: a class's, no alias
        (name,) = rest
        form = module.coroutine_aliases.get(name)
        if form is not None:
            return None if form == "?" else form
        if name in module.imports and depth < 25:
            return imported_alias(project, module.imports[name], depth + 1)
        return None if "*" in module.imports else ""
    home = ref.rpartition(".")[0]
    return None if home in project.unreadable or project.inside_project(home) else ""
