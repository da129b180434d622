"""Terminal presentation: colored diffs, summary tables, progress."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from async_migrate.codemods.run import Result

ACTION_STYLE = {"convert": "green", "keep": "yellow", "unchanged": "dim", "migrate": "green", "blocked": "red"}


_DIFF_COLORS = (("+++", "1"), ("---", "1"), ("diff --git", "1"), ("@@", "36"), ("+", "32"), ("-", "31"))


def print_diff(console: Console, diff: str) -> None:
    """The unified diff, colored on a terminal, byte for byte otherwise.

    Written straight to the console's file: a diff of thousands of files would
    take longer to lay out through rich than to compute.
    """
    # Bytes that are not UTF-8 (a latin-1 file) travel as surrogates; show them replaced.
    diff = diff.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if not console.is_terminal or console.no_color:
        console.file.write(diff)
        return
    lines = []
    for line in diff.split("\n"):
        code = next((code for prefix, code in _DIFF_COLORS if line.startswith(prefix)), None)
        lines.append(f"\x1b[{code}m{line}\x1b[0m" if code else line)
    console.file.write("\n".join(lines))


# Past this many handlers the per-module tables say less than the counts; the full
# list is in --format json and --report.
TABLE_LIMIT = 300


def print_summary(console: Console, result: Result, verbose: bool = True) -> None:
    by_module: dict[str, list] = defaultdict(list)
    for outcome in result.outcomes:
        by_module[outcome.handler.module.path].append(outcome)
    if len(result.outcomes) > TABLE_LIMIT:
        _print_still_blocking(console, result)
        by_module.clear()
    for path in sorted(by_module):
        table = Table(title=Text(path), title_justify="left", expand=False, show_lines=False)
        table.add_column("line", justify="right")
        table.add_column("handler")
        table.add_column("kind")
        table.add_column("route")
        table.add_column("action")
        table.add_column("why", overflow="fold")
        preview = any("phase2" in o.extra for o in by_module[path])
        if preview:
            table.add_column("phase 2")
        for outcome in by_module[path]:
            handler = outcome.handler
            route = outcome.route
            action = outcome.action
            if outcome.before != outcome.after:
                action = f"{action} ({outcome.before} → {outcome.after})"
            # Plain Text, never markup: reasons quote code and pragmas (`ignore[blocking-session]`).
            cells = [
                str(handler.function.line),
                Text(handler.function.qualname),
                handler.kind,
                Text(route),
                Text(action, style=ACTION_STYLE.get(outcome.action, "")),
                Text("; ".join(map(str, outcome.reasons))),
            ]
            if preview:
                planned = outcome.extra.get("phase2", {}).get("action", "")
                cells.append(Text(planned, style=ACTION_STYLE.get(planned, "")))
            table.add_row(*cells)
        console.print(table)
    counts: dict[str, int] = defaultdict(int)
    for outcome in result.outcomes:
        counts[outcome.action] += 1
    summary = ", ".join(f"{count} {action}" for action, count in sorted(counts.items()))
    console.print(
        f"{result.files} files, {len(result.outcomes)} handlers: {summary or 'none'}; "
        f"{len(result.changed)} files would change" if result.command != "scan" else
        f"{result.files} files, {len(result.outcomes)} handlers: {summary or 'none'}"
    )
    for blocker in (result.subsystem or {}).get("global_blockers", []):
        console.print(Text(f"blocks the whole subsystem: {blocker}", style="bold red"), soft_wrap=True)
    for error in result.errors:
        console.print(Text(f"error: {error['file']}: {error['message']}", style="bold red"))


@contextlib.contextmanager
def progress_bar(console: Console, enabled: bool) -> Iterator:
    """A progress callback; silent unless enabled and the console is a terminal."""
    if not enabled or not console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def update(stage: str, done: int) -> None:
            bar.update(task, completed=done, description=stage)

        yield update


def _print_still_blocking(console: Console, result: Result) -> None:
    """A large run's handlers that still block, one line each: tables of hundreds of
    rows take seconds to lay out and are harder to read or grep than lines."""
    blocking = [o for o in result.outcomes if o.action in ("keep", "blocked") and o.blocking]
    if not blocking:
        return
    console.print(
        f"{len(result.outcomes)} handlers: the {len(blocking)} that still block the event loop "
        "(--format json or --report lists all)",
        highlight=False,
    )
    lines = Text()
    for outcome in blocking:
        handler = outcome.handler
        route = outcome.route
        lines.append(f"{handler.module.path}:{handler.function.line}", style="bold")
        lines.append(f" {handler.function.qualname} ({handler.kind}{' ' + route if route else ''}) ")
        lines.append(outcome.action, style=ACTION_STYLE.get(outcome.action, ""))
        lines.append(f": {'; '.join(map(str, outcome.reasons))}\n")
    console.print(lines, soft_wrap=True, end="")


def print_batch(console: Console, phase: str, outcomes: list) -> None:  # list[batch.RepoOutcome]
    """The batch run's summary: one row per repository, then each failure's message.

    Cells are plain Text, never markup (paths may hold brackets).
    """
    status_style = {"changed": "green", "unchanged": "dim", "failed": "bold red"}
    table = Table(title=f"async-migrate batch {phase}", title_justify="left", expand=False)
    table.add_column("root", overflow="fold")
    table.add_column("status")
    table.add_column("branch", overflow="fold")
    table.add_column("commit", no_wrap=True)
    table.add_column("files", justify="right")
    for outcome in outcomes:
        table.add_row(
            Text(outcome.root),
            Text(outcome.status, style=status_style.get(outcome.status, "")),
            Text(outcome.branch or ""),
            (outcome.commit or "")[:12],
            str(len(outcome.files_changed)),
        )
    console.print(table)
    for outcome in outcomes:
        if outcome.error:
            console.print(Text(f"error: {outcome.root}: {outcome.error}", style="bold red"), soft_wrap=True)
    counts: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        counts[outcome.status] += 1
    console.print(
        f"{len(outcomes)} repositories: "
        + ", ".join(f"{counts[s]} {s}" for s in ("changed", "unchanged", "failed")),
        highlight=False,
    )
