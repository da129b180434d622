"""Terminal presentation: colored diffs, summary tables, progress."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import time
from collections import defaultdict
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from async_migrate.cli.console import Console  # closed pipes raise, for the guard (141)
from async_migrate.codemods.handlers import HandlerKind
from async_migrate.codemods.outcome import TASK_KIND, plural

if TYPE_CHECKING:
    from async_migrate.codemods.run import Result

ACTION_STYLE = {"convert": "green", "keep": "yellow", "unchanged": "dim", "migrate": "green", "blocked": "red"}


_DIFF_COLORS = (("+++", "1"), ("---", "1"), ("diff --git", "1"), ("@@", "36"), ("+", "32"), ("-", "31"))


def print_diff(console: Console, diff: str) -> None:
    """The unified diff, colored on a terminal, byte for byte otherwise.

    Written straight to the console's file: a diff of thousands of files would
    take longer to lay out through rich than to compute.
    """
    if not colored(console):
        # Bytes that are not UTF-8 (a latin-1 file) travel as surrogates: written back as the
        # bytes they stand for, `async-migrate phase1 PATH > fix.patch` is a patch `git apply` takes.
        buffer = getattr(console.file, "buffer", None)
        if buffer is not None:
            console.file.flush()
            buffer.write(diff.encode("utf-8", "surrogateescape"))
            buffer.flush()
            return
        console.file.write(diff.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        return
    # On a terminal, shown replaced.
    diff = diff.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    lines = []
    for line in diff.split("\n"):
        code = next((code for prefix, code in _DIFF_COLORS if line.startswith(prefix)), None)
        lines.append(f"\x1b[{code}m{line}\x1b[0m" if code else line)
    console.file.write("\n".join(lines))


def make_console(stderr: bool = False, color: bool | None = None) -> Console:
    """A console on standard output or error. color: True forces colors (also in a pipe),
    False turns every style off, None decides by the terminal and NO_COLOR / FORCE_COLOR."""
    if color is None and os.environ.get("NO_COLOR"):
        color = False
    elif color is None and os.environ.get("FORCE_COLOR"):
        color = True
    if color is True:
        # Forced: standard colors whatever TERM says (a CI log renders them).
        return Console(stderr=stderr, force_terminal=True, color_system="standard", no_color=False)
    if color is False:
        return Console(stderr=stderr, color_system=None)
    return Console(stderr=stderr)


@lru_cache(maxsize=8)  # asked per line of output, and rich detects the terminal anew each time
def colored(console: Console) -> bool:
    return console.is_terminal and not console.no_color and console.color_system is not None


_ANSI = {"green": "32", "yellow": "33", "red": "31", "dim": "2", "bold": "1", "bold red": "1;31", "bold yellow": "1;33"}


def _paint(console: Console, text: str, style: str) -> str:
    code = _ANSI.get(style)
    return f"\x1b[{code}m{text}\x1b[0m" if code and colored(console) else text


# A line break with the indentation around it: a reason quoting source written over several
# lines (`binds={...}` laid out one key a line) would otherwise break the one-line output.
_BREAK = re.compile(r"[ \t]*\r?\n\s*")


def one_line(text: str) -> str:
    """`text` with each line break (and the indentation around it) turned into one space."""
    return _BREAK.sub(" ", text) if "\n" in text else text


def handler_line(outcome) -> tuple[str, str, str]:
    """(`file:line handler (kind route)`, action, `: reasons`) of one outcome."""
    handler = outcome.handler
    route = outcome.route if handler.kind != HandlerKind.DEPENDENCY else ""
    action = outcome.action
    if outcome.before != outcome.after:
        action = f"{action} ({outcome.before} → {outcome.after})"
    reasons = one_line("; ".join(map(str, outcome.reasons)))
    head = (
        f"{handler.module.path}:{handler.function.line} {handler.function.qualname} "
        f"({handler.kind}{' ' + route if route else ''})"
    )
    return (
        head,
        action,
        f": {reasons}" if reasons else "",
    )


def print_handlers(console: Console, result: Result) -> None:
    """One line per handler, `file:line handler (kind route) action: reasons`, never wrapped:
    it reads the same in a terminal, a CI log and a pipe, and greps."""
    write = console.file.write
    for outcome in result.outcomes:
        head, action, tail = handler_line(outcome)
        write(f"{head} {_paint(console, action, ACTION_STYLE.get(outcome.action, ''))}{tail}\n")


def phase2_preview_lines(result: Result, target: str) -> list[str]:
    """Scan's phase-two preview, one line per subsystem with routes that do Session work:
    `phase two, api/books.py: 2 blocked, 5 migrate (AM213 x2), before the self-check;
    async-migrate phase2 app -s api/books.py shows the plan`, `target` being the path as the user
    gave it to scan, so the command runs as printed (shell-quoted). Scan plans without rewriting,
    so the self-check (which analyses the rewritten code and may block more: AM223 and its kin)
    has not run: the count of routes that migrate is an upper bound, and says so."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    codes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for outcome in result.outcomes:
        planned = outcome.extra.get("phase2")
        subsystem = outcome.extra.get("subsystem")
        if not planned or not subsystem or planned.get("action") == "unchanged":
            continue
        counts[subsystem][planned["action"]] += 1
        if planned["action"] == "blocked":
            for code in dict.fromkeys(planned.get("codes", [])):
                codes[subsystem][code] += 1
    lines = []
    for subsystem in sorted(counts):
        actions = ", ".join(f"{n} {action}" for action, n in sorted(counts[subsystem].items()))
        why = ", ".join(f"{code} x{n}" if n > 1 else code for code, n in sorted(codes[subsystem].items()))
        unchecked = ", before the self-check" if counts[subsystem].get("migrate") else ""
        lines.append(
            f"phase two, {subsystem}: {actions}{f' ({why})' if why else ''}{unchecked}; "
            f"async-migrate phase2 {shlex.quote(target)} -s {shlex.quote(subsystem)} shows the plan"
        )
    return lines


def print_lines(console: Console, lines: list[str], style: str = "") -> None:
    for line in lines:
        console.file.write(_paint(console, line, style) + "\n")


def summary_line(result: Result, mode: str, written: int = 0, reasons: str = "reasons above") -> str:
    """The final line: files, handlers by action, and what happened to the files.

    mode: scan (nothing about files), dry (would change), check (would change),
    apply (wrote). reasons: where the blocked handlers' reasons are to be read, when the lines
    above do not show them (`-q`, `--check`): the line must stand on its own.
    """
    counts: dict[str, int] = defaultdict(int)
    for outcome in result.outcomes:
        counts[outcome.action] += 1
    # what moves first, what stays after, as the scan's preview of phase two reads (`5 migrate, 2 blocked`)
    order = {action: n for n, action in enumerate(("convert", "keep", "migrate", "blocked", "unchanged"))}
    ranked = sorted(counts.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    actions = ", ".join(f"{count} {action}" for action, count in ranked)
    # a background task phase one rewrites has an entry of its own, and is no handler
    tasks = sum(1 for outcome in result.outcomes if outcome.handler.kind == TASK_KIND)
    entries = plural(len(result.outcomes) - tasks, "handler") + (f" and {plural(tasks, 'background task')}" if tasks else "")
    line = f"{plural(result.files, 'file')}, {entries}: {actions or 'none'}"
    if mode == "apply":
        line += f"; wrote {plural(written, 'file')}"
    elif mode != "scan":
        changed = len(result.changed)
        line += f"; {plural(changed, 'file')} would change"
    if result.errors:
        line += f"; {plural(len(result.errors), 'file')} failed"
    if counts.get("blocked") and not counts.get("migrate"):
        # phase two exits 0 here, as with nothing to change: the line says it moved nothing, and
        # on a run again over a migrated subsystem, that its routes already are (AM204)
        moved = sum(
            1 for o in result.outcomes
            if o.action == "unchanged" and o.handler.kind == HandlerKind.ROUTE and any(r.code == "AM204" for r in o.reasons)
        )
        if moved:
            line += (f"; nothing more to migrate: {plural(moved, 'route')} already on AsyncSession, every other "
                     f"handler phase two would move is blocked ({reasons})")
        else:
            line += f"; nothing migrated: every handler phase two would move is blocked ({reasons})"
    if result.offload_mixed and mode != "scan" and not any(outcome.offload for outcome in result.outcomes):
        line += "; " + _nothing_offloaded(result)
    return line


def _nothing_offloaded(result: Result) -> str:
    """Why `--offload-mixed` changed nothing: a run that asked for it and wrote no offload said nothing."""
    mixed = sum(
        1 for outcome in result.outcomes
        if outcome.action == "keep" and any(not blocking.offloaded for blocking in outcome.blocking)
    )
    if not mixed:
        return "--offload-mixed offloaded nothing: no handler kept async def blocks the event loop"
    return (
        f"--offload-mixed offloaded nothing: {plural(mixed, 'handler')} kept async def still "
        f"{'blocks' if mixed == 1 else 'block'} the event loop, but it wraps only an isolated call of a blocking "
        "project helper (`save(db, item)`, `row = get(db, 1)`), never a Session method the handler calls itself "
        "(`db.query(...)`: move it into a helper, or onto AsyncSession in phase two), a call nested in another "
        "expression, nor one the handler's reasons above keep off the threadpool"
    )


def print_errors(console: Console, errors: list[dict[str, str]]) -> None:
    print_lines(console, [f"error: {e['file']}: {e['message']}" for e in errors], "bold red")


def print_tables(console: Console, result: Result) -> None:
    """The table view (`--format table`, `--verbose`): one table per module."""
    by_module: dict[str, list] = defaultdict(list)
    for outcome in result.outcomes:
        by_module[outcome.handler.module.path].append(outcome)
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


_REFRESH = 0.1  # seconds between two refreshes of the progress display


@contextlib.contextmanager
def progress_bar(console: Console, enabled: bool) -> Iterator:
    """A progress callback; silent unless enabled and standard error really is a terminal
    (forced colors do not make a pipe one)."""
    if not enabled or not console.file.isatty():
        yield None
        return
    # Refreshed from the callback, not by rich's refresh thread: the analysis forks copies of the
    # process to judge handlers (codemods.forked), which it does only while no other thread runs.
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, auto_refresh=False,
    ) as bar:
        task = bar.add_task("read", total=None)
        shown = [0.0]

        def update(stage: str, done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=total, description=stage)
            now = time.monotonic()
            if now - shown[0] >= _REFRESH or done == total:
                shown[0] = now
                bar.refresh()

        yield update


def print_batch(console: Console, phase: str, outcomes: list) -> None:  # list[batch.RepoOutcome]
    """The batch run's summary: one row per repository, then each failure's message.

    Cells are plain Text, never markup (paths may hold brackets).
    """
    from async_migrate.codemods.batch import blocked_cell, shown_statuses

    status_style = {"changed": "green", "partial": "yellow", "blocked": "bold yellow", "unchanged": "dim",
                    "changed_with_errors": "red", "failed": "bold red"}
    table = Table(title=f"async-migrate batch {phase}", title_justify="left", expand=False)
    table.add_column("root", overflow="fold")
    table.add_column("status")
    table.add_column("branch", overflow="fold")
    table.add_column("commit", no_wrap=True)
    table.add_column("files", justify="right")
    table.add_column("blocked", justify="right")
    for outcome in outcomes:
        table.add_row(
            Text(outcome.root),
            Text(outcome.status, style=status_style.get(outcome.status, "")),
            Text(outcome.branch or ""),
            (outcome.commit or "")[:12],
            str(len(outcome.files_changed)),
            blocked_cell(outcome),
        )
    # Off a terminal (a CI log, a file) rich assumes 80 columns and folds the absolute paths
    # over several lines, which no script or grep can read back; there the table takes its
    # natural width.
    if not console.is_terminal:  # print(width=) is capped at the console's own width
        natural = console.measure(table, options=console.options.update_width(100_000)).maximum
        console.width = max(console.width, natural)
    console.print(table)
    for outcome in outcomes:
        if outcome.error:
            console.print(Text(f"error: {outcome.root}: {outcome.error}", style="bold red"), soft_wrap=True)
    for outcome in outcomes:
        for warning in outcome.warnings:
            console.print(Text(f"warning: {outcome.root}: {warning}", style="yellow"), soft_wrap=True)
    counts: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        counts[outcome.status] += 1
    console.print(
        f"{plural(len(outcomes), 'repository', 'repositories')}: "
        + ", ".join(f"{counts[s]} {s}" for s in shown_statuses(outcomes)),
        highlight=False,
    )
