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


@app.command()
def scan(
    path: PathArgument,
    format: FormatOption = Format.text,
    only: OnlyOption = None,
    exclude: ExcludeOption = None,
    config: ConfigOption = None,
    jobs: JobsOption = None,
) -> None:
    """Inventory every route, websocket and dependency and what phase one would do. Changes nothing."""
    root, settings = _prepare(path, config)
    err = Console(stderr=True)
    with progress_bar(err, format is Format.text) as progress:
        result = runner.scan(root, settings, _options(only, exclude, jobs), progress)
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
) -> None:
    """Phase one: eligible `async def` routes and dependencies become `def`. Dry run unless --apply."""
    if apply and check:
        raise _fail("--apply and --check exclude each other")
    root, settings = _prepare(path, config)
    err = Console(stderr=True)
    with progress_bar(err, format is Format.text) as progress:
        result = runner.phase1(root, settings, _options(only, exclude, jobs, offload_mixed), progress)
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


def _print_json(document: dict) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def main() -> None:
    app()
