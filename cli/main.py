"""`async-migrate`: move FastAPI routes off a blocking synchronous SQLAlchemy Session.

Over 500 lines: the commands and what they share: their options (one typer declaration
each), the Ui, the guard and the exit codes. What phase1 and phase2 do around the analysis is
changing.py's; batch (batch_cmd.py), verify and smoke (verify_cmd.py) only call into them.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core
import typer.main

# Start-up: rich, libcst and the analysis are imported by the commands that use them, so
# `--help` and `--version` load none of them (`python -X importtime` shows what is left).
from async_migrate.cli import (
    SCHEMA,
    failure_output,
    restore_interrupts,
    tool_version,
)
from async_migrate.cli.console import Console
from async_migrate.codemods import apply as applying
from async_migrate.codemods.config import Config, ConfigError, load

if TYPE_CHECKING:
    from async_migrate.codemods.options import Options


@dataclass
class _Ending:
    """How the running command line is ending, for the JSON error document: whether a JSON
    document is on standard output already, and the last failure said on standard error."""

    printed: bool = False
    message: str | None = None
    more: dict[str, Any] | None = None


_ENDING = [_Ending()]


class _Group(typer.core.TyperGroup):
    """The command line's group: with `--format json`, a run ending in exit 2 (usage or
    configuration) or 130 (interrupted) without a document of its own prints the error
    document on standard output (`async_migrate.cli.error_document`), so a script parsing
    standard output always has one JSON document to read, whichever command it ran; with
    `--format github` an `::error` annotation, with `--format sarif` a failed SARIF run."""

    def main(self, args: Any = None, *positional: Any, **extra: Any) -> Any:
        given = list(sys.argv[1:] if args is None else args)
        _ENDING[0] = _Ending()
        try:
            return super().main(args, *positional, **extra)
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
            ending = _ENDING[0]
            if code in (EXIT_USAGE, EXIT_INTERRUPTED) and not ending.printed:
                message = ending.message or ("interrupted" if code == EXIT_INTERRUPTED else "usage error")
                output = failure_output(given, message, code, **(ending.more or {}))
                if output is not None:
                    sys.stdout.write(output)
                    sys.stdout.flush()
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.core._click.exceptions.ClickException as error:  # a usage error, said on standard error
            # typer converts values through pydantic, which leads a ValueError's text with its
            # own label: "Invalid value for '--format': Value error, 'x' is not one of ..."
            error.message = error.message.removeprefix("Value error, ")
            _ENDING[0].message = error.format_message()
            raise


app = typer.Typer(
    cls=_Group,
    help=__doc__.split("\n\n", 1)[0] if __doc__ else None,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_OK, EXIT_CHANGES, EXIT_USAGE, EXIT_ERRORS, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"async-migrate {tool_version()}\n")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """`async-migrate`: move FastAPI routes off a blocking synchronous SQLAlchemy Session."""


class Format(str, Enum):
    text = "text"
    table = "table"
    json = "json"


@dataclass
class Ui:
    """How much to say and in what colors: -q, -v, --color/--no-color."""

    quiet: bool = False
    verbose: bool = False
    color: bool | None = None

    @property
    def out(self) -> Console:
        from async_migrate.cli.render import make_console
        return make_console(False, self.color)

    @property
    def err(self) -> Console:
        from async_migrate.cli.render import make_console
        return make_console(True, self.color)


QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Only what needs acting on (errors, warnings, findings) and the final line."),
]
ChangingQuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q",
        help="Only what needs acting on (errors, warnings, what blocks, phase two's follow-ups) and the "
        "final line; the diff only with --diff.",
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v",
        help="The table view, the configuration file used, and a traceback on an internal error.",
    ),
]
ColorOption = Annotated[
    bool | None,
    typer.Option(
        "--color/--no-color",
        help="Colors even when not on a terminal, or none at all [default: on a terminal, unless "
        "NO_COLOR is set; FORCE_COLOR forces them].",
        show_default=False,
    ),
]


def _ui(quiet: bool, verbose: bool, color: bool | None) -> Ui:
    if quiet and verbose:
        raise _fail("--quiet and --verbose exclude each other")
    ui = Ui(quiet, verbose, color)
    _UI[0] = ui
    return ui


_UI = [Ui()]  # the running command's, for the guard's messages


def _guard(command: Callable[..., None]) -> Callable[..., None]:
    """Ctrl-C: the files written so far, exit 130. An unexpected exception: a short message
    naming the file being processed, exit 4 (never 1, which means "changes found")."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:  # the analysis modules take a moment to load: a Ctrl-C here is no traceback
            from async_migrate.cli.render import print_lines
            from async_migrate.codemods import options as runner
        except KeyboardInterrupt:
            _ENDING[0].message = "interrupted: nothing written"
            sys.stderr.write("async-migrate: interrupted: nothing written\n")
            raise typer.Exit(EXIT_INTERRUPTED) from None

        runner.CURRENT.file = None
        try:
            try:
                command(*args, **kwargs)
            finally:
                # Output still buffered (off a terminal) would meet a closed pipe in click's
                # exit, which says 1 ("changes found"); flushed here, it is this guard's 141.
                sys.stdout.flush()
        except applying.Interrupted as interrupted:
            err = Console(stderr=True)
            said = f"interrupted: wrote {len(interrupted.written)} of {interrupted.total} files"
            _ENDING[0].message, _ENDING[0].more = said, {"files_written": list(interrupted.written)}
            lines = [f"async-migrate: {said}"]
            lines += [f"  {path}" for path in interrupted.written]
            print_lines(err, lines)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            # The reader stopped reading (`| head`): no message, and the status a process
            # killed by SIGPIPE has, never 0 (that could pass a check whose findings were cut).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt:
            _ENDING[0].message = "interrupted: nothing written"
            print_lines(Console(stderr=True), ["async-migrate: interrupted: nothing written"])
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as error:
            if isinstance(error, (typer.Exit, typer.Abort)) or type(error).__module__.split(".")[0] in (
                "click", "typer",
            ):
                raise
            where = f" while processing {runner.CURRENT.file}" if runner.CURRENT.file else ""
            err = Console(stderr=True)
            if _UI[0].verbose:
                err.file.write(traceback.format_exc())
            hint = "" if _UI[0].verbose else " (-v shows the traceback)"
            print_lines(err, [
                f"async-migrate: internal error{where}: {type(error).__name__}: {error}",
                f"this is a bug in async-migrate; please report it{hint}",
            ])
            raise typer.Exit(EXIT_INTERNAL) from None

    return run


PathArgument = Annotated[
    Path,
    typer.Argument(
        help="Root of the target application: the folder its absolute imports resolve from.",
        show_default=False,
        metavar="PATH",
    ),
]
OnlyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--only", metavar="GLOB",
        help="Only files matching this glob, relative to PATH (repeatable); the analysis still reads them all.",
    ),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option("--exclude", metavar="GLOB", help="Skip files matching this glob, relative to PATH (repeatable)."),
]
FormatOption = Annotated[
    Format, typer.Option("--format", help="text, or json: exactly one JSON document on standard output.")
]
# scan, phase1 and phase2 render `table` as one table per module (what -v shows).
TableFormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        help="text (one line per handler); table: one table per module; json: exactly one JSON document "
        "on standard output (a handler's `kind`: route, websocket, dependency, and beyond the contract "
        "middleware, exception-handler, lifecycle, resolver, background-task; see the README).",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Configuration file (default: PATH/pyproject.toml, [tool.async-migrate])."),
]
JobsOption = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes reading the files and judging the handlers (default: all cores).")
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the cache (PATH/.async_migrate_cache).")
]


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    _ENDING[0].message = message
    # No markup (messages quote `[tool.async-migrate]`), no wrapping (paths stay whole).
    Console(stderr=True).print(
        "\n".join(f"async-migrate: {line}" for line in message.splitlines() or [""]),
        style="bold red", markup=False, highlight=False, soft_wrap=True,
    )
    return typer.Exit(code)


def _prepare(path: Path, config_file: Path | None, ui: Ui | None = None) -> tuple[Path, Config]:
    from async_migrate.cli.render import print_lines
    try:
        root = applying.application_root(path)
        settings = load(root, config_file)
    except (applying.Refused, ConfigError) as error:
        raise _fail(str(error)) from None
    if ui is not None and ui.verbose:
        where = settings.source if settings.source is not None else "none found (defaults)"
        print_lines(ui.err, [f"configuration: {where}"])
    return root, settings


def _options(only, exclude, jobs, offload_mixed=False, no_cache=False) -> Options:
    from async_migrate.codemods.options import Options

    return Options(
        only=tuple(only or ()), exclude=tuple(exclude or ()), jobs=jobs, offload_mixed=offload_mixed,
        cache=not no_cache,
    )


# The options of the changing commands (and scan's --report); what they do: cli/changing.py.

ReportOption = Annotated[
    list[Path] | None,
    typer.Option("--report", help="Also write the migration report: Markdown, or JSON for a .json name "
                 "(repeatable: one of each)."),
]
TrafficOption = Annotated[
    Path | None,
    typer.Option("--traffic", help="CSV of method,path,count: rank the report's rollout by traffic."),
]
BranchOption = Annotated[
    str | None,
    typer.Option(
        "--branch",
        help="With --apply: write on this git branch. An existing branch is checked out before the "
        "analysis (refused while tracked files have uncommitted changes); a new one is created from "
        "HEAD when there is something to write.",
        show_default=False,
    ),
]
CommitOption = Annotated[
    bool,
    typer.Option(
        "--commit",
        help="With --apply: commit exactly the files written (and the --report file when it lies in "
        "the repository), with a message naming the phase and the counts.",
    ),
]


@app.command()
@_guard
def scan(
    path: PathArgument,
    format: TableFormatOption = Format.text,
    only: OnlyOption = None,
    exclude: ExcludeOption = None,
    config: ConfigOption = None,
    jobs: JobsOption = None,
    report: ReportOption = None,
    traffic: TrafficOption = None,
    no_cache: NoCacheOption = False,
    quiet: ChangingQuietOption = False,
    verbose: VerboseOption = False,
    color: ColorOption = None,
) -> None:
    """Inventory every route, websocket and dependency and what phase one would do. Changes nothing."""
    from async_migrate.cli.changing import report_inputs, write_report
    from async_migrate.cli.render import (
        phase2_preview_lines,
        print_errors,
        print_handlers,
        print_lines,
        print_tables,
        progress_bar,
        summary_line,
    )
    from async_migrate.codemods import run as runner
    ui = _ui(quiet, verbose, color)
    root, settings = _prepare(path, config, ui)
    traffic_rows = report_inputs(report, traffic)
    with progress_bar(ui.err, format is not Format.json and not quiet) as progress:
        result = runner.scan(
            root, settings, _options(only, exclude, jobs, no_cache=no_cache), progress, project_needed=bool(report)
        )
    write_report(report, result, traffic_rows, applied=False)
    if format is Format.json:
        document = result.to_json()
        del document["diff"], document["files_changed"]
        document.pop("diff_base64", None)
        _print_json(document)
    else:
        out = ui.out
        if not quiet:
            if format is Format.table or verbose:
                print_tables(out, result)
            else:
                print_handlers(out, result)
            print_lines(out, phase2_preview_lines(result, str(path)))
        print_errors(ui.err, result.errors)
        print_lines(out, [summary_line(result, "scan")])
    _warn(ui.err, [*result.warnings, *result.project.notices])
    if result.warnings:
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_ERRORS if result.errors else EXIT_OK)


ApplyOption = Annotated[bool, typer.Option("--apply", help="Write the changes (atomically, file by file).")]
CheckOption = Annotated[
    bool,
    typer.Option(
        "--check",
        help="Dry run that lists the files that would change and exits 1 if any (the diff only with --diff).",
    ),
]
DiffOption = Annotated[
    bool, typer.Option("--diff", help="Print the unified diff: the default dry run, spelled out (also with --check).")
]
DiffFileOption = Annotated[
    Path | None, typer.Option("--diff-file", help="Also write the diff as a patch `git apply` takes.")
]
AllowDirtyOption = Annotated[
    bool, typer.Option("--allow-dirty", help="Write even into files with uncommitted changes.")
]


@app.command()
@_guard
def phase1(
    path: PathArgument,
    apply: ApplyOption = False,
    check: CheckOption = False,
    diff: DiffOption = False,
    diff_file: DiffFileOption = None,
    format: TableFormatOption = Format.text,
    only: OnlyOption = None,
    exclude: ExcludeOption = None,
    offload_mixed: Annotated[
        bool,
        typer.Option(
            "--offload-mixed",
            help="In routes that must stay async, wrap blocking helper calls in "
            "`await run_in_threadpool(...)`.",
        ),
    ] = False,
    allow_dirty: AllowDirtyOption = False,
    config: ConfigOption = None,
    jobs: JobsOption = None,
    report: ReportOption = None,
    traffic: TrafficOption = None,
    branch: BranchOption = None,
    commit: CommitOption = False,
    no_cache: NoCacheOption = False,
    quiet: ChangingQuietOption = False,
    verbose: VerboseOption = False,
    color: ColorOption = None,
) -> None:
    """Phase one: eligible `async def` routes and dependencies become `def`. Dry run unless --apply."""
    from async_migrate.cli.changing import Mode, changing_command, finish
    from async_migrate.cli.render import progress_bar
    from async_migrate.codemods import run as runner
    ui = _ui(quiet, verbose, color)
    mode = Mode(apply, check, diff, diff_file, format, allow_dirty, report)
    root, settings, traffic_rows, git = changing_command(path, config, mode, branch, commit, traffic, ui)
    with progress_bar(ui.err, format is not Format.json and not quiet) as progress:
        result = runner.phase1(
            root, settings, _options(only, exclude, jobs, offload_mixed, no_cache), progress,
            project_needed=bool(report),
        )
    finish(result, root, mode, traffic_rows, git, ui)


class Shared(str, Enum):
    twin = "twin"
    block = "block"


@app.command()
@_guard
def phase2(
    path: PathArgument,
    subsystem: Annotated[
        str,
        typer.Option(
            "--subsystem",
            "-s",
            help="A router module relative to PATH (api/books.py) or a subsystem name from "
            "[tool.async-migrate.subsystems].",
            show_default=False,
        ),
    ],
    apply: ApplyOption = False,
    check: CheckOption = False,
    diff: DiffOption = False,
    diff_file: DiffFileOption = None,
    format: TableFormatOption = Format.text,
    only: OnlyOption = None,
    exclude: ExcludeOption = None,
    shared: Annotated[
        Shared,
        typer.Option(
            "--shared",
            help="A helper the subsystem shares with other code: give it an async twin (the sync "
            "original stays), or block the routes that need it.",
        ),
    ] = Shared.twin,
    allow_dirty: AllowDirtyOption = False,
    allow_override_gap: Annotated[
        bool,
        typer.Option(
            "--allow-override-gap",
            help="Write even when the tests override the synchronous session dependency and nothing "
            "overrides the async one yet (the tests would use the application's database until it does).",
        ),
    ] = False,
    config: ConfigOption = None,
    jobs: JobsOption = None,
    report: ReportOption = None,
    traffic: TrafficOption = None,
    branch: BranchOption = None,
    commit: CommitOption = False,
    no_cache: NoCacheOption = False,
    quiet: ChangingQuietOption = False,
    verbose: VerboseOption = False,
    color: ColorOption = None,
) -> None:
    """Phase two for one subsystem: add the async stack and move its routes and helpers to
    AsyncSession. Dry run unless --apply."""
    from async_migrate.cli.changing import Mode, changing_command, finish
    from async_migrate.cli.render import progress_bar
    from async_migrate.codemods.phase2 import driver as phase2_driver
    from async_migrate.codemods.phase2.closure import SubsystemError

    ui = _ui(quiet, verbose, color)
    mode = Mode(apply, check, diff, diff_file, format, allow_dirty, report, allow_override_gap)
    root, settings, traffic_rows, git = changing_command(path, config, mode, branch, commit, traffic, ui)
    options = _options(only, exclude, jobs, no_cache=no_cache)
    options.subsystem, options.shared = subsystem, shared.value
    try:
        with progress_bar(ui.err, format is not Format.json and not quiet) as progress:
            result = phase2_driver.phase2(root, settings, options, progress)
    except (SubsystemError, ConfigError) as error:
        raise _fail(str(error)) from None
    finish(result, root, mode, traffic_rows, git, ui)


# ------------------------------------------------------------------ check (the CI guard)


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


def _check_help(function: Callable[..., None]) -> Callable[..., None]:
    from async_migrate.codemods.pragma import PLACEMENT

    function.__doc__ = (function.__doc__ or "").replace("{placement}", PLACEMENT)
    return function


@app.command("check")
@_guard
@_check_help
def check_command(
    path: PathArgument,
    format: Annotated[
        CheckFormat,
        typer.Option(
            "--format",
            help="text; json: exactly one JSON document on standard output; "
            "github: ::error workflow commands that annotate the pull request; "
            "sarif: a SARIF 2.1.0 log for code-scanning upload.",
        ),
    ] = CheckFormat.text,
    only: OnlyOption = None,
    exclude: ExcludeOption = None,
    config: ConfigOption = None,
    jobs: JobsOption = None,
    no_cache: NoCacheOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
    color: ColorOption = None,
) -> None:
    """Lint for CI: exit 1 while an `async def` route or dependency does synchronous Session work,
    or a route on AsyncSession calls a synchronous session helper. Changes nothing.

    Silence one handler with a reason: `# async-migrate: ignore[AM301] why` (or
    `ignore[blocking-session]`), {placement}.

    Every finding's code, summary and fix: `async-migrate rules`.
    """
    from async_migrate.cli.check_render import github_lines, print_text, sarif, summary
    from async_migrate.cli.render import print_lines, progress_bar
    from async_migrate.codemods.check_result import check as run_check

    ui = _ui(quiet, verbose, color)
    root, settings = _prepare(path, config, ui)
    err = ui.err
    with progress_bar(err, format is CheckFormat.text and not quiet) as progress:
        result = run_check(
            root, settings, _options(only, exclude, jobs, no_cache=no_cache), progress, project_needed=False
        )
    if format is CheckFormat.json:
        _print_json(result.to_json())
    elif format is CheckFormat.sarif:
        _ENDING[0].printed = True
        sys.stdout.write(json.dumps(sarif(result, path), indent=2) + "\n")
    elif format is CheckFormat.github:
        _ENDING[0].printed = True
        for line in github_lines(result, path):
            sys.stdout.write(line + "\n")
        print_lines(err, [summary(result)])
    else:
        print_text(ui.out, err, result, path, quiet)
    _warn(err, [*result.notices, *result.warnings])
    if result.warnings:
        raise typer.Exit(EXIT_USAGE)
    if result.errors:
        raise typer.Exit(EXIT_ERRORS)
    raise typer.Exit(EXIT_CHANGES if result.findings else EXIT_OK)

# ------------------------------------------------------------------ end of check

# ------------------------------------------------------------------ rules


class RulesFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


@app.command("rules")
@_guard
def rules_command(
    format: Annotated[
        RulesFormat,
        typer.Option(
            "--format",
            help="text; json: exactly one JSON document; markdown: the reference in docs/rules.md.",
        ),
    ] = RulesFormat.text,
    code: Annotated[
        str | None, typer.Argument(help="Show only this rule (code or name).", show_default=False)
    ] = None,
) -> None:
    """Every rule with its code, summary and fix: phase one (AM1xx), phase two (AM2xx), check (AM3xx)."""
    from async_migrate.cli.rules_render import detail, markdown, text
    from async_migrate.codemods.rules import all_rules, find

    rules = all_rules()
    if code is not None:
        found = find(code)
        if found is None:
            Console(stderr=True).print(f"error: no rule {code!r}: `async-migrate rules` lists them", markup=False)
            raise typer.Exit(EXIT_USAGE)
        rules = [found]
    if format is RulesFormat.json:
        _print_json({"command": "rules", "rules": [rule.to_json() for rule in rules]})
    elif format is RulesFormat.markdown:
        sys.stdout.write(markdown(rules))
    else:
        sys.stdout.write(detail(rules[0]) if code is not None else text(rules))

# ------------------------------------------------------------------ end of rules

# ------------------------------------------------------------------ clean (the cache)


class CleanFormat(str, Enum):
    text = "text"
    json = "json"


@app.command("clean")
@_guard
def clean_command(
    path: PathArgument,
    format: Annotated[
        CleanFormat, typer.Option("--format", help="text, or json: exactly one JSON document on standard output.")
    ] = CleanFormat.text,
) -> None:
    """Remove the cache under PATH (PATH/.async_migrate_cache, or its folder under
    $ASYNC_MIGRATE_CACHE_DIR). Nothing else is touched: a folder there without the CACHEDIR.TAG
    the cache writes is not the tool's, and is refused (exit 2).

    --format json prints {"command": "clean", "root", "cache": the folder, "removed": bool}."""
    from async_migrate.codemods import cache as caching

    try:
        root = applying.application_root(path)
    except applying.Refused as error:
        raise _fail(str(error)) from None
    try:
        removed = caching.clean(root)
    except caching.NotOurs as error:
        raise _fail(f"refusing to clean: {error}") from None
    except OSError as error:
        raise _fail(f"cannot remove the cache {caching.folder_for(root)}: {error.strerror or error}") from None
    if format is CleanFormat.json:
        folder = removed if removed is not None else caching.folder_for(root)
        _print_json({"command": "clean", "root": str(root), "cache": str(folder), "removed": removed is not None})
        return
    message = f"removed {removed}" if removed is not None else f"no cache at {caching.folder_for(root)}"
    Console(stderr=True).print(message, markup=False, highlight=False, soft_wrap=True)

# ------------------------------------------------------------------ end of clean



def _check_report_file(report: Path | None) -> None:
    """Before any work: --report names a file the run can add its section to (exit 2 if not)."""
    from async_migrate.codemods.report_sections import unreadable

    if report is None:
        return
    if not report.parent.is_dir():
        raise _fail(f"{report}: no such directory for the report")
    problem = unreadable(report)
    if problem is not None:
        raise _fail(problem)


def _warn(err: Console, warnings: list[str]) -> None:
    from async_migrate.cli.render import print_lines
    print_lines(err, [f"async-migrate: warning: {warning}" for warning in warnings], "bold yellow")


# batch, then verify and smoke (the commands that import and run the target's code)
from async_migrate.cli import batch_cmd, verify_cmd  # noqa: E402

batch_cmd.register(app)
verify_cmd.register(app)
restore_interrupts()  # loaded: from here on a Ctrl-C is the commands' guard's to handle


def _versioned(document: dict) -> dict:
    """Every JSON document the tool writes is led by the tool's version and the schema, so a
    script can refuse a shape it does not know."""
    return {"version": tool_version(), "schema": SCHEMA, **document}


def _print_json(document: dict) -> None:
    """Exactly one JSON document on standard output."""
    _ENDING[0].printed = True
    sys.stdout.write(json.dumps(_versioned(document), indent=2) + "\n")


def main() -> None:
    try:
        app()
    finally:
        # The command is over, its output printed and its exit status decided: a Ctrl-C while
        # the interpreter tears down (the analysis leaves much to free) would print a traceback,
        # or end the process by SIGINT (130), though nothing was interrupted.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # What the analysis left is garbage in reference cycles (millions of objects on a large
        # project), and the interpreter's last collection would walk and free all of it, about a
        # tenth of a cold run's CPU; frozen, the collection skips it and the process hands the
        # memory back whole.
        gc.freeze()
