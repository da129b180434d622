"""AM167 factory-annotation: a dependency factory's return annotation promising a coroutine function,
once phase one makes the function it returns a plain `def`: retyped where every returned function
becomes `def` and the annotation is written plainly, else left and named for a change by hand."""

from __future__ import annotations

import ast

FACTORY = """
from typing import Any, Callable, Coroutine

from fastapi import Depends, Request
from sqlalchemy import text


def requires_access(method: str) -> {annotation}:
    async def inner(request: Request, session: session_dependency) -> None:
        session.execute(text("select 1"))

    return inner


@router.get("/items", dependencies=[Depends(requires_access("GET"))])
def list_items():
    return []
"""


def test_a_factory_returning_a_converted_function_is_retyped_am167(app, reported, cli):
    root = app(FACTORY.replace("{annotation}", "Callable[[Request], Coroutine[Any, Any, None]]"))
    entry = reported(root, "requires_access.<locals>.inner", "phase1")
    assert entry["action"] == "convert", entry
    assert "AM167" in entry["codes"], entry
    assert any("retypes it" in reason for reason in entry["reasons"]), entry["reasons"]
    result = cli("phase1", root, "--apply", "--allow-dirty")
    assert result.exit_code == 0, result.output
    written = (root / "api/items.py").read_text()
    ast.parse(written)
    assert "def requires_access(method: str) -> Callable[[Request], None]:" in written, written
    # `Coroutine` and `Any` were used by the annotation alone: their imports go, `Callable`'s stays
    assert "from typing import Callable\n" in written, written


def test_near_miss_a_factory_annotated_without_a_coroutine_gets_no_am167(app, reported):
    root = app(FACTORY.replace("{annotation}", "Callable[..., Any]"))
    entry = reported(root, "requires_access.<locals>.inner", "phase1")
    assert entry["action"] == "convert", entry
    assert "AM167" not in entry["codes"], entry


IMPORTED = FACTORY.replace("from typing import Any, Callable, Coroutine\n", "from core.types import Check\n")
TYPES = """
from typing import Any, Callable, Coroutine

from fastapi import Request

Check = Callable[[Request], Coroutine[Any, Any, None]]
"""


def test_a_factory_typed_by_an_alias_imported_from_another_module_is_named_for_a_change_by_hand_am167(
    app, reported, cli
):
    root = app(IMPORTED.replace("{annotation}", "Check"), {"core/types.py": TYPES})
    entry = reported(root, "requires_access.<locals>.inner", "phase1")
    assert entry["action"] == "convert" and "AM167" in entry["codes"], entry
    (reason,) = [r for r, c in zip(entry["reasons"], entry["codes"]) if c == "AM167"]
    assert "through the type alias `Check`, imported from `core.types`" in reason and "by hand" in reason, reason
    result = cli("phase1", root, "--apply", "--allow-dirty")
    assert result.exit_code == 0, result.output
    assert "def requires_access(method: str) -> Check:" in (root / "api/items.py").read_text()


def test_an_imported_alias_the_analysis_cannot_read_is_reported_unverified_am167(app, reported):
    # bound twice: which annotation the name stands for depends on which binding runs
    twice = TYPES + "\nif True:\n    Check = Callable[..., Any]\n"
    root = app(IMPORTED.replace("{annotation}", "Check"), {"core/types.py": twice})
    entry = reported(root, "requires_access.<locals>.inner", "phase1")
    (reason,) = [r for r, c in zip(entry["reasons"], entry["codes"]) if c == "AM167"]
    assert "imported from `core.types`, which the analysis cannot read (unverified)" in reason, reason


def test_near_miss_an_imported_alias_saying_nothing_of_coroutines_gets_no_am167(app, reported):
    plain = TYPES.replace("Coroutine[Any, Any, None]", "None")
    root = app(IMPORTED.replace("{annotation}", "Check"), {"core/types.py": plain})
    entry = reported(root, "requires_access.<locals>.inner", "phase1")
    assert entry["action"] == "convert" and "AM167" not in entry["codes"], entry
