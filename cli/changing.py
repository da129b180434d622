"""What phase1 and phase2 do around their analysis, and scan with --report: the checks before it
(option clashes, --diff-file, --report and --traffic, --branch and --commit) and the path from
its result to the disk, the report, the commit and the terminal, ending in the exit code.

The analysis and the writing steps are the codemods' (`codemods/run.py`, `codemods/apply.py`,
shared with batch runs); this is what the command line adds to them. Every refusal is a
`typer.Exit` carrying the exit code, with the message on standard error (`main._fail`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from async_migrate.cli.console import Console
from async_migrate.cli.main import (
    EXIT_CHANGES,
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    Format,
    Ui,
    _check_report_file,
    _fail,
    _prepare,
    _print_json,
    _versioned,
    _warn,
)
from async_migrate.codemods import apply as applying
from async_migrate.codemods.gitstate import GitError

if TYPE_CHECKING:
    from async_migrate.codemods import run as runner


def report_inputs(report_files: list[Path] | None, traffic_file: Path | None):
    """Checked before anything runs: a bad --report or --traffic is a usage error."""
    from async_migrate.codemods.report import TrafficError, load_traffic

    if traffic_file is not None and not report_files:
        raise _fail("--traffic only ranks the report: pass --report FILE too")
    for report_file in report_files or ():
        _check_report_file(report_file)
    if traffic_file is None:
        return None
    try:
        return load_traffic(traffic_file)
    except TrafficError as error:
        raise _fail(str(error)) from None


def write_report(
    report_files: list[Path] | None, result: runner.Result, traffic, applied: bool
) -> None:
    """Write the run's migration report to each of report_files (`--report`, repeatable: a
    Markdown and a JSON one, say)."""
    for report_file in report_files or ():
        _write_report(report_file, result, traffic, applied)


def _write_report(
    report_file: Path | None, result: runner.Result, traffic, applied: bool
) -> None:
    """Write the run's migration report to report_file (nothing when None): a Markdown section of
    its own (`report_sections`), or a JSON document for a `.json` name. A second --apply with
    nothing left to do keeps the report of the one that did the work. A file that cannot be
    written exits 2 (usage) with the reason."""
    from async_migrate.cli.report_render import render_markdown
    from async_migrate.codemods.report import build_report

    if report_file is None:
        return
    from async_migrate.codemods import report_sections

    name = (result.subsystem or {}).get("name") or "subsystem"
    block = f"phase2:{name}" if result.command == "phase2" else result.command
    if applied and not result.changed and not result.errors and _holds_report(report_file, block):
        # A second --apply that has nothing left to do keeps the record of the one that did the
        # work, rather than replacing it with "converted 0" and leaving the repository dirty.
        return
    report = build_report(result, traffic, applied=applied)
    try:
        if report_file.suffix.lower() == ".json":
            report_file.write_text(json.dumps(_versioned(report.to_json()), indent=2) + "\n", encoding="utf-8")
        else:
            # Its own section: phase one's, each subsystem's phase two and verify's share the file.
            report_sections.write(report_file, block, render_markdown(report))
    except OSError as error:
        raise _fail(f"cannot write the report {report_file}: {error}") from None

def _holds_report(report_file: Path, block: str) -> bool:
    """Whether report_file already holds an applied report of block (a command, or phase two's
    subsystem): a Markdown section of its own, or a JSON report of the same command."""
    from async_migrate.codemods import report_sections

    try:
        text = report_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if report_file.suffix.lower() != ".json":
        start = text.find(report_sections.begin(block) + "\n")
        if start < 0:
            return False
        heading = text[start:].split("\n", 2)[1]  # `# Migration report: phase one applied`
        return "applied" in heading
    try:
        document = json.loads(text)
    except ValueError:
        return False
    if not isinstance(document, dict) or not document.get("applied"):
        return False
    command, _, subsystem = block.partition(":")
    if document.get("command") != command:
        return False
    return not subsystem or (document.get("subsystem") or {}).get("name") == subsystem


def _git(root: Path, branch: str | None, commit: bool) -> applying.Git:
    """Before the analysis: a repository is needed, and an existing --branch is checked out."""
    git = applying.Git(branch_requested=branch, commit_requested=commit)
    try:
        applying.prepare(root, git)
    except GitError as error:
        raise _fail(str(error)) from None
    if git.branch is not None:
        Console(stderr=True).print(f"on branch {git.branch}", markup=False, highlight=False)
    return git


def _git_usage(apply: bool, branch: str | None, commit: bool) -> None:
    if (branch is not None or commit) and not apply:
        raise _fail("--branch and --commit only go with --apply")


@dataclass
class Mode:
    """What a changing command was asked to do with its result."""

    apply: bool
    check: bool
    diff: bool
    diff_file: Path | None
    format: Format
    allow_dirty: bool
    report: list[Path] | None
    allow_override_gap: bool = False


def _check_diff_file(diff_file: Path | None) -> None:
    """Before any work: the patch file can be written where it was asked for."""
    if diff_file is None:
        return
    if diff_file.is_dir():
        raise _fail(f"--diff-file {diff_file}: is a directory; give a file name for the patch")
    if not diff_file.parent.is_dir():
        raise _fail(f"--diff-file {diff_file}: no such directory {diff_file.parent}")
    if diff_file.exists() and not diff_file.is_file():
        raise _fail(f"--diff-file {diff_file}: not a regular file")


def changing_command(path, config, mode: Mode, branch, commit, traffic, ui: Ui):
    """What phase1 and phase2 check before any work: option clashes, PATH, config, git."""
    if mode.apply and mode.check:
        raise _fail("--apply and --check exclude each other")
    if mode.apply and mode.diff:
        raise _fail("--apply and --diff exclude each other (--diff is the dry run)")
    _git_usage(mode.apply, branch, commit)
    if mode.allow_dirty and not mode.apply:
        # Not refused as --branch and --commit are: scripts pass the same options to the dry run
        # and to --apply, and a dry run writing nothing is what they asked for.
        _warn(ui.err, ["--allow-dirty only matters with --apply: a dry run changes none of the application's files"])
    _check_diff_file(mode.diff_file)
    root, settings = _prepare(path, config, ui)
    traffic_rows = report_inputs(mode.report, traffic)
    return root, settings, traffic_rows, _git(root, branch, commit)


def _staged_left(root: Path) -> list[str]:
    """A re-run after a commit a hook refused finds nothing to write: the files it staged are
    what still needs committing, which "no commit" alone would hide."""
    from async_migrate.codemods.gitstate import staged_under

    try:
        left = staged_under(root)
    except GitError:
        return []
    if not left:
        return []
    return [
        f"nothing left to write, but {', '.join(left)} under PATH {'is' if len(left) == 1 else 'are'} staged "
        "and not committed (an earlier run's commit that failed?): commit or unstage them"
    ]


def finish(result, root, mode: Mode, traffic_rows, git, ui: Ui):
    """What every changing command does with its result: refuse, branch, write, report, commit,
    print, exit. The steps themselves are codemods/apply.py's, shared with batch runs."""
    from async_migrate.cli.render import progress_bar
    from async_migrate.codemods.diff import as_bytes

    err = ui.err
    if mode.apply:
        try:
            applying.refuse_dirty(root, result, mode.allow_dirty, git)
            applying.refuse_override_gap(result, mode.allow_override_gap)
        except (GitError, applying.Refused) as error:
            raise _fail(str(error)) from None
    diff = result.diff
    if mode.diff_file is not None:
        try:
            mode.diff_file.write_bytes(as_bytes(diff))
        except OSError as error:
            raise _fail(f"cannot write --diff-file {mode.diff_file}: {error.strerror or error}") from None
    written: list[str] = []
    if mode.apply:
        try:
            with progress_bar(err, mode.format is not Format.json and not ui.quiet) as progress:
                written = applying.write(root, result, git, progress)
        except GitError as error:  # the new --branch could not be created; nothing written
            raise _fail(str(error)) from None
    try:
        _report_commit_print(result, root, mode, traffic_rows, git, ui, written)
    except KeyboardInterrupt:
        if not written:
            raise
        # Ctrl-C after the writing (report, commit, summary): "nothing written" would be false.
        if git.commit is None:
            applying.note_interrupted(root, result, written)
        raise applying.Interrupted(written, len(written)) from None


def _reasons_hidden(mode: Mode, ui: Ui) -> str:
    """Where to read the reasons for the blocked handlers when `-q` or `--check` printed none:
    `-q shows no reasons: run without it, or see the report blocked.md`."""
    flag = "-q" if ui.quiet else "--check"
    if mode.report:
        return f"{flag} shows no reasons: run without it, or see the report {', '.join(str(r) for r in mode.report)}"
    return f"{flag} shows no reasons: run without it, or write them with --report FILE"


def _report_commit_print(result, root, mode: Mode, traffic_rows, git, ui: Ui, written: list[str]):
    from async_migrate.cli.render import (
        one_line,
        print_diff,
        print_errors,
        print_handlers,
        print_lines,
        print_tables,
        summary_line,
    )
    from async_migrate.codemods.diff import moves_lines

    err = ui.err
    changed = result.changed
    diff = result.diff
    write_report(mode.report, result, traffic_rows, applied=mode.apply)
    commit_error = None
    if mode.apply:
        try:
            applying.commit(root, result, written, git, tuple(r.resolve() for r in mode.report or ()))
        except GitError as error:
            commit_error = str(error)
    carried = [] if git.commit is None else [
        "--allow-dirty --commit: the commit also holds the uncommitted changes these files had before the "
        f"migration: {', '.join(git.carried)} (`git show {git.commit[:12]} -- FILE` to review them)"
    ] if git.carried else []
    if mode.format is Format.json:
        document = result.to_json()
        if git.wanted:
            document["git"] = git.to_json()
            if commit_error is not None:  # exit 3: the document says why, as standard error does
                document["git"]["error"] = f"the changes are written but not committed: {commit_error}"
        _print_json(document)
        # As scan and check do: a warning (exit 2 among them) is also said on standard error.
        _warn(err, [*result.warnings, *result.project.notices, *carried, *git.earlier_notes()])
    else:
        # The diff is the dry run's product (standard output); with --check or -q only on --diff.
        if not mode.apply and diff and (mode.diff or not (mode.check or ui.quiet)):
            print_diff(ui.out, diff)
        shown = not ui.quiet and (mode.format is Format.table or ui.verbose or not mode.check)
        if not ui.quiet:
            if mode.format is Format.table or ui.verbose:
                print_tables(err, result)
            elif not mode.check:
                print_handlers(err, result)
            if mode.check:
                print_lines(err, [f"would change {change.path}" for change in result.changed])
            moved = [change.path for change in result.changed if change.path in written and moves_lines(change.diff)]
            if moved:
                # the analysis read the files before the rewrite: its lines, once they have moved
                print_lines(err, [
                    f"line numbers in this output are those of the files before the rewrite, which added or removed "
                    f"lines in {', '.join(moved)} (`git diff` shows where)"
                ])
        for blocker in (result.subsystem or {}).get("global_blockers", []):
            print_lines(err, [f"blocks the whole subsystem: {one_line(blocker)}"], "bold red")
        _warn(err, [*result.warnings, *result.project.notices, *carried, *git.earlier_notes()])
        print_errors(err, result.errors)
        # what the migrated application needs beside the diff (a driver, greenlet, a dropped
        # connect_args key): without them it fails to import, so they are not left to --report.
        # After the summary, where the eye lands; with --check the summary stays last, as in black.
        follow_ups = [f"follow-up: {one_line(item)}" for item in (result.subsystem or {}).get("follow_ups", [])]
        # Nothing migrated (every route blocked): the summary saying so stays last.
        follow_first = mode.check or (
            any(o.action == "blocked" for o in result.outcomes) and not any(o.action == "migrate" for o in result.outcomes)
        )
        if follow_first:
            print_lines(err, follow_ups, "yellow")
        last = summary_line(
            result, "apply" if mode.apply else "check" if mode.check else "dry", len(written),
            "reasons above" if shown else _reasons_hidden(mode, ui),
        )
        if mode.apply and git.branch:
            last += f" on branch {git.branch}"
        print_lines(err, [last])
        if git.commit is not None:
            subject = (git.message or "").split("\n", 1)[0]
            print_lines(err, [f"committed {git.commit[:12]}: {subject}"])
        elif git.commit_requested and not written and commit_error is None:
            print_lines(err, ["nothing written: no commit"])
            _warn(err, _staged_left(root))
        if not follow_first:
            print_lines(err, follow_ups, "yellow")
    if commit_error is not None:
        raise _fail(f"the changes are written but not committed: {commit_error}", EXIT_ERRORS)
    if result.warnings:
        raise typer.Exit(EXIT_USAGE)
    if result.errors:
        raise typer.Exit(EXIT_ERRORS)
    raise typer.Exit(EXIT_CHANGES if mode.check and changed else EXIT_OK)
