"""A dependency factory's return annotation once phase one makes the `async def` it returns a
plain `def` (apache airflow's `requires_access_event_log` shape): `Callable[P, Coroutine[A, B, R]]`
and `Callable[P, Awaitable[R]]` become `Callable[P, R]` (also under `Optional` or beside `None`),
the imports only they used go; a type alias, a string, a wider union and a factory also returning
a function that stays `async def` are left, with the reason saying so (AM167)."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

from async_migrate.codemods.astcollect import collect
from async_migrate.codemods.phase1.factory_annotations import FactoryReturnAnnotations
from async_migrate.codemods.phase1.factory_returns import factory_retypes

TYPING = {"Any": "typing.Any", "Awaitable": "typing.Awaitable", "Callable": "typing.Callable",
          "Coroutine": "typing.Coroutine", "Optional": "typing.Optional", "typing": "typing"}


def retyped(source: str, keys: tuple[str, ...] = ("factory",)) -> str:
    tree = cst.parse_module(textwrap.dedent(source).lstrip("\n"))
    context = CodemodContext(filename="api/deps.py", full_module_name="api.deps", full_package_name="api")
    return FactoryReturnAnnotations(context, {key: TYPING for key in keys}).transform_module(tree).code


@pytest.mark.parametrize(("before", "after"), [
    ("Callable[[Request], Coroutine[Any, Any, None]]", "Callable[[Request], None]"),
    ("Callable[..., Awaitable[int]]", "Callable[..., int]"),
    ("Optional[Callable[..., Awaitable[int]]]", "Optional[Callable[..., int]]"),
    ("Callable[..., Coroutine[Any, Any, dict[str, Any]]] | None", "Callable[..., dict[str, Any]] | None"),
    ("typing.Callable[[], typing.Awaitable[None]]", "typing.Callable[[], None]"),
])
def test_the_awaitable_return_is_unwrapped_and_a_second_run_changes_nothing(before: str, after: str) -> None:
    source = f"""
    import typing
    from typing import Any, Awaitable, Callable, Coroutine, Optional


    def factory(method: str) -> {before}:
        def inner(request: Request) -> None:
            pass

        return inner
    """
    once = retyped(source)
    ast.parse(once)
    assert f"def factory(method: str) -> {after}:" in once, once
    assert retyped(once) == once


def test_imports_only_the_annotation_used_are_dropped_the_others_kept() -> None:
    once = retyped("""
    from typing import Any, Callable, Coroutine


    def factory() -> Callable[[], Coroutine[Any, Any, None]]:
        def inner() -> None:
            pass

        return inner


    def other(x: Any) -> None:
        pass
    """)
    ast.parse(once)
    assert "from typing import Any, Callable\n" in once, once


def test_only_the_chosen_factory_is_retyped() -> None:
    source = """
    from typing import Any, Callable, Coroutine


    def factory() -> Callable[[], Coroutine[Any, Any, None]]:
        pass


    def kept() -> Callable[[], Coroutine[Any, Any, None]]:
        pass
    """
    once = retyped(source)
    assert "def kept() -> Callable[[], Coroutine[Any, Any, None]]:" in once, once
    assert "from typing import Any, Callable, Coroutine\n" in once, once


def plan(source: str, convert: set[str]) -> tuple[dict, dict]:
    from async_migrate.codemods.outcome import Outcome

    module = collect("api/deps.py", textwrap.dedent(source).lstrip("\n"), "api.deps")
    outcomes = {key: Outcome(None, "async", "def", "convert") for key in convert}  # type: ignore[arg-type]
    found = factory_retypes(module, convert, outcomes)
    return found, {key: [r.text for r in outcome.reasons] for key, outcome in outcomes.items()}


HEAD = """
from typing import Any, Awaitable, Callable, Coroutine

from fastapi import Depends
"""


def test_a_factory_annotated_through_a_type_alias_is_left_with_a_note() -> None:
    found, reasons = plan(HEAD + """
Check = Callable[..., Coroutine[Any, Any, None]]


def factory() -> Check:
    async def inner(db=Depends(get_db)) -> None:
        db.commit()

    return inner
""", {"factory.<locals>.inner"})
    assert found == {}
    (reason,) = reasons["factory.<locals>.inner"]
    assert "through the type alias `Check`" in reason and "change it by hand" in reason, reason


def test_a_factory_whose_other_returned_definition_stays_async_is_not_retyped() -> None:
    found, reasons = plan(HEAD + """
def factory(flag) -> Callable[..., Awaitable[None]]:
    if flag:
        async def inner(db=Depends(get_db)) -> None:
            db.commit()
    else:
        async def inner() -> None:
            await something()
    return inner
""", {"factory.<locals>.inner"})
    assert found == {}
    (reason,) = reasons["factory.<locals>.inner"]
    assert "which stays `async def`" in reason and "change it by hand" in reason, reason


def test_a_string_annotation_and_a_wider_union_are_left_with_a_note() -> None:
    for annotation, why in (
        ('"Callable[..., Awaitable[None]]"', "written as a string"),
        ("Callable[..., Awaitable[None]] | int", "a union of it with other types"),
    ):
        found, reasons = plan(HEAD + f"""
def factory() -> {annotation}:
    async def inner(db=Depends(get_db)) -> None:
        db.commit()

    return inner
""", {"factory.<locals>.inner"})
        assert found == {}, annotation
        assert why in reasons["factory.<locals>.inner"][0], reasons


def test_every_returned_function_made_def_plans_the_retype() -> None:
    found, reasons = plan(HEAD + """
def factory() -> Callable[..., Awaitable[None]]:
    async def inner(db=Depends(get_db)) -> None:
        db.commit()

    return inner
""", {"factory.<locals>.inner"})
    assert set(found) == {"factory"} and found["factory"]["Awaitable"] == "typing.Awaitable"
    assert "retypes it" in reasons["factory.<locals>.inner"][0]
