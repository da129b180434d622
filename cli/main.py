"""`async-migrate`: move FastAPI routes off a blocking synchronous SQLAlchemy Session."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from cli.render import print_diff, print_summary, progress_bar
from codemods import run as runner
from codemods.config import Config, ConfigError, load
from codemods.diff import as_bytes
from codemods.gitstate import GitError, dirty_files
from codemods.sources import write_atomic

app = typer.Typer(
    help=__doc__,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_OK, EXIT_CHANGES, EXIT_USAGE, EXIT_ERRORS = 0, 1, 2, 3


class Format(str, Enum):
    text = "text"
    json = "json"


PathArgument = Annotated[
    Path,
    typer.Argument(
        help="Root of the target application: the folder its absolute imports resolve from.",
        show_default=False,
    ),
]
OnlyOption = Annotated[
    Optional[list[str]], typer.Option("--only", help="Only files matching this glob (repeatable).")
]
ExcludeOption = Annotated[
    Optional[list[str]], typer.Option("--exclude", help="Skip files matching this glob (repeatable).")
]
FormatOption = Annotated[
    Format, typer.Option("--format", help="text, or json: exactly one JSON document on standard output.")
]
ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", help="Configuration file (default: PATH/pyproject.toml, [tool.async-migrate])."),
]
JobsOption = Annotated[
    Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes (default: all cores).")
]


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    Console(stderr=True).print(f"async-migrate: {message}", style="bold red", highlight=False)
    return typer.Exit(code)


def _prepare(path: Path, config_file: Path | None) -> tuple[Path, Config]:
    if not path.exists():
        raise _fail(f"{path}: no such directory")
    if not path.is_dir():
        raise _fail(f"{path}: not a directory (PATH is the root of the application)")
    root = path.resolve()
    try:
        return root, load(root, config_file)
    except ConfigError as error:
        raise _fail(str(error)) from None


def _options(only, exclude, jobs, offload_mixed=False) -> runner.Options:  # type: ignore[no-untyped-def]
    return runner.Options(
        only=tuple(only or ()), exclude=tuple(exclude or ()), jobs=jobs, offload_mixed=offload_mixed
    )


# --------------------------------------------------------- migration report (--report, --traffic)

ReportOption = Annotated[
    Optional[Path],
    typer.Option("--report", help="Also write the migration report: Markdown, or JSON for a .json name."),
]
TrafficOption = Annotated[
    Optional[Path],
    typer.Option("--traffic", help="CSV of method,path,count: rank the report's rollout by traffic."),
]


def _report_inputs(report_file: Path | None, traffic_file: Path | None):  # type: ignore[no-untyped-def]
    """Checked before anything runs: a bad --report or --traffic is a usage error."""
    from codemods.report import TrafficError, load_traffic

    if traffic_file is not None and report_file is None:
        raise _fail("--traffic only ranks the report: pass --report FILE too")
    if report_file is not None and not report_file.parent.is_dir():
        raise _fail(f"{report_file}: no such directory for the report")
    if traffic_file is None:
        return None
    try:
        return load_traffic(traffic_file)
    except TrafficError as error:
        raise _fail(str(error)) from None


def _write_report(  # type: ignore[no-untyped-def]
    report_file: Path | None, result: runner.Result, traffic, applied: bool
) -> None:
    from codemods.report import build_report, render_markdown

    if report_file is None:
        return
    report = build_report(result, traffic, applied=applied)
    if report_file.suffix.lower() == ".json":
        text = json.dumps(report.to_json(), indent=2) + "\n"
    else:
        text = render_markdown(report)
    try:
        report_file.write_text(text, encoding="utf-8")
    except OSError as error:
        raise _fail(f"cannot write the report {report_file}: {error}") from None

# ------------------------------------------------------ end of migration report


@app.command()
def scan(
    path: PathArgument,
    format: FormatOption = Format.text,
    only: OnlyOption = None,
    exclude: ExcludeOption = None,
    config: ConfigOption = None,
    jobs: JobsOption = None,
    report: ReportOption = None,
    traffic: TrafficOption = None,
) -> None:
    """Inventory every route, websocket and dependency and what phase one would do. Changes nothing."""
    root, settings = _prepare(path, config)
    traffic_rows = _report_inputs(report, traffic)
    err = Console(stderr=True)
    with progress_bar(err, format is Format.text) as progress:
        result = runner.scan(root, settings, _options(only, exclude, jobs), progress)
    _write_report(report, result, traffic_rows, applied=False)
    if format is Format.json:
        document = result.to_json()
        del document["diff"], document["files_changed"]
        _print_json(document)
    else:
        print_summary(Console(), result)
    raise typer.Exit(EXIT_ERRORS if result.errors else EXIT_OK)


@app.command()
def phase1(
    path: PathArgument,
    apply: Annotated[bool, typer.Option("--apply", help="Write the changes (atomically, file by file).")] = False,
    check: Annotated[bool, typer.Option("--check", help="Dry run that exits 1 when anything would change.")] = False,
    diff_file: Annotated[
        Optional[Path], typer.Option("--diff-file", help="Also write the diff as a patch `git apply` takes.")
    ] = None,
    format: FormatOption = Format.text,
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
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Write even into files with uncommitted changes.")
    ] = False,
    config: ConfigOption = None,
    jobs: JobsOption = None,
    report: ReportOption = None,
    traffic: TrafficOption = None,
) -> None:
    """Phase one: eligible `async def` routes and dependencies become `def`. Dry run unless --apply."""
    if apply and check:
        raise _fail("--apply and --check exclude each other")
    root, settings = _prepare(path, config)
    traffic_rows = _report_inputs(report, traffic)
    err = Console(stderr=True)
    with progress_bar(err, format is Format.text) as progress:
        result = runner.phase1(root, settings, _options(only, exclude, jobs, offload_mixed), progress)
    _finish(result, root, apply, check, diff_file, format, allow_dirty, report, traffic_rows)


class Shared(str, Enum):
    twin = "twin"
    block = "block"


@app.command()
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
    apply: Annotated[bool, typer.Option("--apply", help="Write the changes (atomically, file by file).")] = False,
    check: Annotated[bool, typer.Option("--check", help="Dry run that exits 1 when anything would change.")] = False,
    diff_file: Annotated[
        Optional[Path], typer.Option("--diff-file", help="Also write the diff as a patch `git apply` takes.")
    ] = None,
    format: FormatOption = Format.text,
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
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Write even into files with uncommitted changes.")
    ] = False,
    config: ConfigOption = None,
    jobs: JobsOption = None,
    report: ReportOption = None,
    traffic: TrafficOption = None,
) -> None:
    """Phase two for one subsystem: add the async stack and move its routes and helpers to
    AsyncSession. Dry run unless --apply."""
    from codemods.phase2.closure import SubsystemError

    if apply and check:
        raise _fail("--apply and --check exclude each other")
    root, settings = _prepare(path, config)
    traffic_rows = _report_inputs(report, traffic)
    options = _options(only, exclude, jobs)
    options.subsystem, options.shared = subsystem, shared.value
    err = Console(stderr=True)
    try:
        with progress_bar(err, format is Format.text) as progress:
            result = runner.phase2(root, settings, options, progress)
    except SubsystemError as error:
        raise _fail(str(error)) from None
    _finish(result, root, apply, check, diff_file, format, allow_dirty, report, traffic_rows)


def _finish(result, root, apply, check, diff_file, format, allow_dirty, report, traffic_rows):  # type: ignore[no-untyped-def]
    """What every changing command does with its result: refuse, write, report, print, exit."""
    err = Console(stderr=True)
    changed = result.changed
    if apply and changed and not allow_dirty:
        try:
            dirty = dirty_files(root, [change.path for change in changed])
        except GitError as error:
            raise _fail(str(error)) from None
        if dirty:
            raise _fail(
                "refusing to write into files with uncommitted changes (commit or stash them, "
                "or pass --allow-dirty): " + ", ".join(dirty)
            )
    diff = result.diff
    if diff_file is not None:
        diff_file.write_bytes(as_bytes(diff))
    if apply:
        for change in changed:
            try:
                write_atomic(root / change.path, change.after)
            except OSError as error:
                result.errors.append({"file": change.path, "message": f"cannot write: {error}"})
    _write_report(report, result, traffic_rows, applied=apply)
    if format is Format.json:
        _print_json(result.to_json())
    else:
        if not apply and diff:
            print_diff(Console(), diff)
        print_summary(err, result)
        if apply and changed:
            err.print(f"wrote {len(changed)} files")
    if result.errors:
        raise typer.Exit(EXIT_ERRORS)
    raise typer.Exit(EXIT_CHANGES if check and changed else EXIT_OK)


# ------------------------------------------------------------------ check (the CI guard)


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


@app.command("check")
def check_command(
    path: PathArgument,
    format: Annotated[
        CheckFormat,
        typer.Option(
            "--format",
            help="text; json: exactly one JSON document on standard output; "
            "github: ::error workflow commands that annotate the pull request.",
        ),
    ] = CheckFormat.text,
    only: OnlyOption = None,
    exclude: ExcludeOption = None,
    config: ConfigOption = None,
    jobs: JobsOption = None,
) -> None:
    """Lint for CI: exit 1 while an `async def` route or dependency does synchronous Session work,
    or a route on AsyncSession calls a synchronous session helper. Changes nothing.

    Silence one handler with a reason: `# async-migrate: ignore[blocking-session] why` on its
    `def` line or the line above it.
    """
    from cli.check_render import github_lines, print_text, summary
    from codemods.check import check as run_check

    root, settings = _prepare(path, config)
    err = Console(stderr=True)
    with progress_bar(err, format is CheckFormat.text) as progress:
        result = run_check(root, settings, _options(only, exclude, jobs), progress)
    if format is CheckFormat.json:
        _print_json(result.to_json())
    elif format is CheckFormat.github:
        for line in github_lines(result, path):
            sys.stdout.write(line + "\n")
        err.print(summary(result), markup=False, highlight=False, soft_wrap=True)
    else:
        print_text(Console(), err, result, path)
    if result.errors:
        raise typer.Exit(EXIT_ERRORS)
    raise typer.Exit(EXIT_CHANGES if result.findings else EXIT_OK)

# ------------------------------------------------------------------ end of check


def _print_json(document: dict) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def main() -> None:
    app()
