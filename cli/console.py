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

        class PipeConsole(RichConsole):
            def on_broken_pipe(self) -> None:
                # rich exits 1 here, which a script reads as "changes found"; raised, the
                # command's guard answers a closed pipe as a SIGPIPE death would (141).
                raise BrokenPipeError

        return PipeConsole(*args, **kwargs)

    def escape(markup: str) -> str:
        """`rich.markup.escape`, importing rich on the first call."""
        from rich.markup import escape as rich_escape

        return rich_escape(markup)


__all__ = ["Console", "escape"]
