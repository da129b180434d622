"""Dependency factories whose returned `async def` phase one makes `def`: which factories'
return annotations phase one retypes (`phase1/factory_annotations.py` writes it), and the
reason (AM167) each converted function gets, saying so or why the annotation is left to change
by hand: a type alias, a string, another union, a returned function staying `async def`.

A factory is retyped only where each of its returns gives one nested function of that name,
defined without decorators, bound by nothing else, and every definition of it becomes `def`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods.rules.am167_factory_annotation import RULE

if TYPE_CHECKING:
    from async_migrate.codemods import facts
    from async_migrate.codemods.outcome import Outcome

_TYPING = ("typing", "typing_extensions", "collections", "collections.abc")


def factory_retypes(
    module: facts.Module, convert: set[str], outcomes: dict[str, Outcome]
) -> dict[str, dict[str, str]]:
    """Factory key -> the module's imports of typing names, for each factory to retype; each
    converted function such a factory returns gets its AM167 reason in `outcomes` (key -> outcome)."""
    by_qualname: dict[str, list[facts.Function]] = {}
    for function in module.functions:
        by_qualname.setdefault(function.qualname, []).append(function)
    found: dict[str, dict[str, str]] = {}
    for factory in module.functions:
        if not factory.coroutine_return or not factory.returned_terms:
            continue
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
        else:
            kind, _, detail = factory.coroutine_return.partition(":")
            how = f"through the type alias `{detail}`" if kind == "alias" else detail
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

