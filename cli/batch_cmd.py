"""The `batch` command: phase one or two over many repositories, each on its own branch."""

# No `from __future__ import annotations`: typer reads the command's annotations, which name
# the `Format` imported inside `register`.
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
import typer.core
import typer.main

from async_migrate.cli.console import Console
from async_migrate.codemods.gitstate import GitError, check_branch_name
from async_migrate.codemods.outcome import plural

if TYPE_CHECKING:
    from async_migrate.codemods import batch as batching


class _PhaseArgsCommand(typer.core.TyperCommand):
    """Keeps what follows `--` (the phase command line) apart from batch's own arguments."""

    def parse_args(self, ctx, args):
        if "--" in args:
            at = args.index("--")
            ctx.meta["phase_args"] = args[at + 1 :]
            args = args[:at]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx):
        return [*super().collect_usage_pieces(ctx), "-- phase1|phase2 [ARGS]..."]


# Phase options a batch sets itself or that name one file for all repositories.
_BATCH_REFUSES = {
    "check": "--check",
    "diff_file": "--diff-file",
    "report": "--report",
    "traffic": "--traffic",
    "branch": "--branch",
    "format": "--format",
}
# Options batch itself takes: the message says where they go instead.
_BATCH_OWN = {"branch", "format"}


def _phase_job(
    app: typer.Typer, ctx: typer.Context, phase_args: list[str] | None, branch: str | None
) -> "batching.Job":
    """Parse `phase1|phase2 [options]` with that command's own options; the batch's Job."""
    import click

    from async_migrate.cli.main import Format, _fail, _options
    from async_migrate.codemods import batch as batching

    usage = "name the phase after --: async-migrate batch PATH... -- phase1|phase2 [options]"
    if not phase_args:
        raise _fail(usage)
    phase, rest = phase_args[0], phase_args[1:]
    if phase not in batching.PHASES:
        raise _fail(f"{phase!r} is not a phase; {usage}")
    command = typer.main.get_command(app).commands[phase]  # type: ignore[attr-defined]
    # Parse errors: click's, or those of the click typer vendors (typer >= 0.20).
    parse_errors = (click.ClickException, getattr(typer, "TyperException", click.ClickException))
    try:
        # "." stands in for PATH: the roots come from the batch.
        params = command.make_context(f"-- {phase}", [".", *rest], parent=ctx).params
    except parse_errors as error:
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        if "extra argument" in message:
            message += " (the application roots go before --)"
        raise _fail(f"{phase} options after --: {message}") from None
    for name, option in _BATCH_REFUSES.items():
        value = params.get(name)
        if value not in (None, False, Format.text, (), []):
            where = ": give it to batch, before --" if name in _BATCH_OWN else ""
            raise _fail(f"batch runs do not take {option} after --{where}")
    options = _options(
        params["only"], params["exclude"], params["jobs"], params.get("offload_mixed", False), params["no_cache"]
    )
    if phase == "phase2":
        options.subsystem, options.shared = params["subsystem"], params["shared"].value
    if branch is not None:
        try:
            check_branch_name(branch)
        except GitError as error:
            raise _fail(str(error)) from None
    return batching.Job(
        phase=phase,
        options=options,
        branch=branch or batching.default_branch(phase),
        config_file=params["config"],
        allow_dirty=params["allow_dirty"],
        allow_override_gap=params.get("allow_override_gap", False),
    )


def register(app: typer.Typer) -> None:
    from async_migrate.cli.main import ColorOption, Format, _guard

    @app.command("batch", cls=_PhaseArgsCommand)
    @_guard  # as every command: a closed pipe exits 141 (click said 1: "changes found"), a crash 4
    def batch(
        ctx: typer.Context,
        paths: Annotated[
            list[Path] | None,
            typer.Argument(
                metavar="PATH", help="Application roots, each in its git repository.", show_default=False
            ),
        ] = None,
        repos: Annotated[
            Path | None,
            typer.Option(
                "--repos",
                help="File listing application roots, one per line (blank lines and # comments skipped; "
                "relative paths are relative to the file).",
            ),
        ] = None,
        branch: Annotated[
            str | None,
            typer.Option(
                "--branch", help="Branch for the changes in every repository [default: async-migrate/PHASE]."
            ),
        ] = None,
        format: Annotated[
            Format, typer.Option("--format", help="text (a summary table), or json: exactly one JSON document.")
        ] = Format.text,
        shard: Annotated[
            str | None,
            typer.Option(
                "--shard",
                metavar="K/N",
                help="Run only the K-th of N slices of the repository list (every N-th root from the K-th "
                "on), for a CI matrix; merge the JSON results with --merge.",
            ),
        ] = None,
        merge: Annotated[
            bool,
            typer.Option(
                "--merge",
                help="The PATH arguments are JSON results of batch runs (one per --shard): combine them into "
                "one summary; no phase after --.",
            ),
        ] = False,
        report: Annotated[
            Path | None, typer.Option("--report", help="Also write the summary as Markdown.")
        ] = None,
        color: ColorOption = None,
    ) -> None:
        """Run phase1 or phase2 over many repositories, each with --apply --branch NAME --commit.

        \b
          async-migrate batch PATH... -- phase1 [phase1 options]
          async-migrate batch --repos repos.txt -- phase2 --subsystem catalogue [phase2 options]
          async-migrate batch --repos repos.txt --shard 2/5 --format json -- phase1 > shard-2.json
          async-migrate batch --merge shard-*.json --report batch.md

        After `--` come the phase and its own options (--only, --exclude, --config, --jobs,
        --allow-dirty, --offload-mixed; --subsystem, --shared, --allow-override-gap), applied in every repository;
        --apply and --commit are implied, and --check, --diff-file, --report, --traffic are
        refused. In each repository the branch (default async-migrate/phase1 or
        async-migrate/phase2) is checked out if it exists, else created from HEAD when there is
        something to write; the written files are committed and the repository is left on
        the branch. A repository that fails (not in a git repository, uncommitted changes in
        a file to write, a bad configuration, files that cannot be processed, no FastAPI route
        under the root) is reported and
        the batch goes on. Ctrl-C stops the batch: exit 130, naming the repositories done and
        the files written, uncommitted, in the one interrupted.

        Ends with one summary table, or with --format json one document listing per
        repository its root, status (changed, partial, blocked, unchanged, changed_with_errors,
        failed), branch, commit, files_changed, error, and for phase2 the handlers left blocked
        and the blockers behind them (partial: changes committed, some routes left blocked;
        blocked: routes left blocked, nothing to write; as phase2 itself, both exit 0;
        changed_with_errors: some files could not be processed, the others committed). Exit 0
        when every repository succeeded, 3 when any failed or had errors, 2 on a usage error.
        """
        from async_migrate.cli.main import Format, _fail
        from async_migrate.cli.render import make_console
        from async_migrate.codemods import batch as batching

        if report is not None and not report.parent.is_dir():
            raise _fail(f"{report}: no such directory for the report")
        if merge:
            _merge_batches(ctx, paths, repos, branch, shard, format, report, color)
            return
        job = _phase_job(app, ctx, ctx.meta.get("phase_args"), branch)
        roots = list(paths or ())
        if repos is not None:
            try:
                roots += batching.read_repos(repos)
            except batching.BatchError as error:
                raise _fail(str(error)) from None
        if not roots:
            raise _fail("no repositories: give application roots before --, or --repos FILE")
        # before sharding: every shard of one list must see the same repositories
        roots, repeated = batching.unique_roots(roots)
        if repeated:
            from async_migrate.cli.render import print_lines

            print_lines(make_console(True, color), [
                f"async-migrate: warning: listed more than once, run once: {root}" for root in dict.fromkeys(repeated)
            ], "bold yellow")
        slice_ = None
        if shard is not None:
            try:
                slice_ = batching.parse_shard(shard)
            except batching.BatchError as error:
                raise _fail(str(error)) from None
            every = len(roots)
            roots = batching.shard_of(roots, slice_)
            if format is not Format.json:
                from async_migrate.cli.render import print_lines

                print_lines(make_console(True, color), [f"shard {shard}: {len(roots)} of {plural(every, 'repository', 'repositories')}"])
        err = make_console(True, color)

        def done(index: int, outcome) -> None:
            if format is Format.text:
                detail = outcome.error or plural(len(outcome.files_changed), "file") + (
                    f", {outcome.commit[:12]} on {outcome.branch}" if outcome.commit else ""
                ) + (
                    f", {outcome.blocked} blocked, {plural(outcome.blockers, 'blocker')}" if outcome.blocked else ""
                ) + (f", {plural(len(outcome.warnings), 'warning')}" if outcome.warnings else "")
                err.print(f"[{index + 1}/{len(roots)}] {outcome.root}: {outcome.status} ({detail})",
                          markup=False, highlight=False, soft_wrap=True)

        try:
            outcomes = batching.run_batch(roots, job, done)
        except batching.BatchInterrupted as stop:
            _interrupted(err, stop)
        extra = {"shard": slice_.to_json()} if slice_ is not None else {}
        _batch_result(job.phase, job.branch, outcomes, format, report, extra, color)


def _interrupted(err: Console, stop: "batching.BatchInterrupted") -> NoReturn:
    """Exit 130 naming what the batch did before Ctrl-C: each repository done (its commit), and
    the files written but not committed in the one interrupted."""
    from async_migrate.cli.main import _ENDING, EXIT_INTERRUPTED
    from async_migrate.cli.render import print_lines

    said = f"interrupted: {len(stop.outcomes)} of {stop.total} repositories done"
    # With --format json, the error document (cli/main.py's _Group) says the same.
    _ENDING[0].message = said
    _ENDING[0].more = {
        "repositories_done": [
            {"root": str(o.root), "status": o.status, "commit": o.commit, "branch": o.branch} for o in stop.outcomes
        ],
        "interrupted_root": str(stop.root),
        "files_written": [str(path) for path in stop.written],
    }
    lines = [f"async-migrate: {said}"]
    for outcome in stop.outcomes:
        commit = f", {outcome.commit[:12]} on {outcome.branch}" if outcome.commit else ""
        lines.append(f"  {outcome.root}: {outcome.status}{commit}")
    if stop.written:
        lines.append(f"  {stop.root}: interrupted: wrote {plural(len(stop.written), 'file')}, not committed")
        lines += [f"    {path}" for path in stop.written]
    else:
        lines.append(f"  {stop.root}: interrupted: nothing written")
    print_lines(err, lines)
    raise typer.Exit(EXIT_INTERRUPTED)


def _batch_result(phase, branch, outcomes, format, report, extra, color=None):
    """Print (and with --report write) a batch's summary; exit 3 when a repository failed."""
    from async_migrate.cli.main import EXIT_ERRORS, EXIT_OK, Format, _fail, _print_json
    from async_migrate.cli.render import make_console, print_batch
    from async_migrate.codemods import batch as batching

    if report is not None:
        try:
            report.write_text(batching.render_markdown(phase, branch, outcomes), encoding="utf-8")
        except OSError as error:
            raise _fail(f"cannot write the report {report}: {error.strerror or error}") from None
    if format is Format.json:
        _print_json({
            "command": "batch",
            "phase": phase,
            "branch": branch,
            **extra,
            "repositories": [outcome.to_json() for outcome in outcomes],
            "summary": batching.summary(outcomes),
        })
    else:
        print_batch(make_console(False, color), phase, outcomes)
    raise typer.Exit(EXIT_ERRORS if any(o.status in batching.FAILING for o in outcomes) else EXIT_OK)


def _merge_batches(ctx, paths, repos, branch, shard, format, report, color=None):
    from async_migrate.cli.main import _fail
    from async_migrate.codemods import batch as batching

    if ctx.meta.get("phase_args") is not None or repos is not None or branch is not None or shard is not None:
        raise _fail("--merge takes only the JSON results (and --format, --report): no --repos, --branch, "
                    "--shard or phase after --")
    try:
        merged = batching.merge(batching.read_results(list(paths or ())))
    except batching.BatchError as error:
        raise _fail(str(error)) from None
    extra = {"shards": [s.to_json() for s in merged.shards]} if merged.shards else {}
    _batch_result(merged.phase, merged.branch, merged.outcomes, format, report, extra, color)
