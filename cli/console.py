"""rich, imported on first use: `--help` and `--version` never load it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.markup import escape
else:

    def Console(*args: Any, **kwargs: Any):  # noqa: N802 (stands in for rich's class at run time)
        """`rich.console.Console(...)`, importing rich on the first call."""
        from rich.console import Console as RichConsole

        return RichConsole(*args, **kwargs)

    def escape(markup: str) -> str:
        """`rich.markup.escape`, importing rich on the first call."""
        from rich.markup import escape as rich_escape

        return rich_escape(markup)


__all__ = ["Console", "escape"]
